package coop.agent;

import java.util.Objects;

/**
 * How and when a rank's process ended. The agent keeps it until the scheduler acknowledges it,
 * because the stream may break between the exit and the scheduler storing it. The exit code
 * follows the shell's convention: 128+N when the process died of signal N. {@code why} says, in
 * the user's words, what the code alone cannot ("OOM: exceeded 8 GiB", "prolog failed: /scratch
 * is full" for a rank the node refused), or is empty.
 */
public record RankExit(RankId rank, int exitCode, ExitReason reason, long endedAtMs, String why) {

    /** The code a shell reports for a command it could not run. */
    public static final int LAUNCH_FAILED_CODE = 127;

    public RankExit {
        Objects.requireNonNull(rank, "rank");
        Objects.requireNonNull(reason, "reason");
        why = why == null ? "" : why;
    }

    /** An exit with nothing to say beyond its code and reason. */
    public RankExit(RankId rank, int exitCode, ExitReason reason, long endedAtMs) {
        this(rank, exitCode, reason, endedAtMs, "");
    }
}
