package coop.agent;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * The scheduler's order to start one rank: the shell command, the GPUs it may see, coop's own
 * variables ({@code env}), its walltime ({@link Duration#ZERO} for none), the signal it asked
 * for ahead of a stop ({@code warning}, null for none), the submitter's variables
 * ({@code userEnv}, which coop's win over) and the folder it starts in ({@code chdir}, "" for its
 * own), the image it runs in ({@code container}, null for none) and the memory the job asked for
 * each rank ({@code memoryBytes}, 0 for the node's limit). It is the agent's own copy of a
 * {@code Launch} message, so the launcher does not depend on the wire types.
 */
public record LaunchOrder(
        RankId rank, String command, List<Integer> gpuIndices, Map<String, String> env,
        Duration walltime, StopWarning warning, Map<String, String> userEnv, String chdir, Container container,
        long memoryBytes) {

    /** The image a rank runs in ({@code coop submit --container}) and the job's mounts into it. */
    public record Container(String image, List<Confinement.Mount> mounts) {
        public Container {
            Objects.requireNonNull(image, "image");
            mounts = List.copyOf(mounts);
        }
    }

    /** An order that asks no memory of its own. */
    public LaunchOrder(RankId rank, String command, List<Integer> gpuIndices, Map<String, String> env,
                       Duration walltime, StopWarning warning, Map<String, String> userEnv, String chdir,
                       Container container) {
        this(rank, command, gpuIndices, env, walltime, warning, userEnv, chdir, container, 0);
    }

    /** An order that runs on the node itself, in no container. */
    public LaunchOrder(RankId rank, String command, List<Integer> gpuIndices, Map<String, String> env,
                       Duration walltime, StopWarning warning, Map<String, String> userEnv, String chdir) {
        this(rank, command, gpuIndices, env, walltime, warning, userEnv, chdir, null);
    }

    /** An order without a warning signal, with no variables of the submitter's, starting in the rank's own folder. */
    public LaunchOrder(RankId rank, String command, List<Integer> gpuIndices, Map<String, String> env,
                       Duration walltime) {
        this(rank, command, gpuIndices, env, walltime, null, Map.of(), "");
    }

    /** An order without a warning signal. */
    public LaunchOrder(RankId rank, String command, List<Integer> gpuIndices, Map<String, String> env,
                       Duration walltime, Map<String, String> userEnv, String chdir) {
        this(rank, command, gpuIndices, env, walltime, null, userEnv, chdir);
    }

    public LaunchOrder {
        Objects.requireNonNull(rank, "rank");
        Objects.requireNonNull(command, "command");
        gpuIndices = List.copyOf(gpuIndices);
        env = Map.copyOf(env);
        Objects.requireNonNull(walltime, "walltime");
        userEnv = Map.copyOf(userEnv);
        chdir = chdir == null ? "" : chdir;
        if (walltime.isNegative()) {
            throw new IllegalArgumentException("walltime must not be negative, got " + walltime);
        }
    }

    /**
     * The rank's memory limit where the node confines ranks: what the job asked, where it asked
     * (the scheduler places it only where the node's limit is at least that), else the node's
     * {@code nodeLimit} (0: none).
     */
    public long memoryLimit(long nodeLimit) {
        return memoryBytes > 0 ? memoryBytes : nodeLimit;
    }

    /** Whether the rank runs in a container. */
    public boolean inContainer() {
        return container != null;
    }

    /** Whether the agent has to stop the rank after {@link #walltime()}. */
    public boolean hasWalltime() {
        return !walltime.isZero();
    }
}
