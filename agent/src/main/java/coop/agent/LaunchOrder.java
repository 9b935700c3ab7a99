package coop.agent;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * The scheduler's order to start one rank: the shell command, the GPUs it may see, extra
 * environment, its walltime ({@link Duration#ZERO} for none) and the signal it asked for ahead
 * of a stop (null for none). It is the agent's own copy of a {@code Launch} message, so the
 * launcher does not depend on the wire types.
 */
public record LaunchOrder(
        RankId rank, String command, List<Integer> gpuIndices, Map<String, String> env,
        Duration walltime, StopWarning warning) {

    /** An order without a warning signal: SIGTERM at the stop. */
    public LaunchOrder(RankId rank, String command, List<Integer> gpuIndices, Map<String, String> env,
            Duration walltime) {
        this(rank, command, gpuIndices, env, walltime, null);
    }

    public LaunchOrder {
        Objects.requireNonNull(rank, "rank");
        Objects.requireNonNull(command, "command");
        gpuIndices = List.copyOf(gpuIndices);
        env = Map.copyOf(env);
        Objects.requireNonNull(walltime, "walltime");
        if (walltime.isNegative()) {
            throw new IllegalArgumentException("walltime must not be negative, got " + walltime);
        }
    }

    /** Whether the agent has to stop the rank after {@link #walltime()}. */
    public boolean hasWalltime() {
        return !walltime.isZero();
    }
}
