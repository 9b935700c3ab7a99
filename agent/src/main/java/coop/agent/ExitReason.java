package coop.agent;

/**
 * Why a rank's process ended, as the scheduler reads it in {@code AttemptExited.reason}: it
 * separates a job that failed on its own from one the cooperative stopped, which matters for
 * requeueing and for who is charged for the lost GPU time.
 */
public enum ExitReason {
    /** The process ended by itself, successfully or not. */
    EXITED("exited"),
    /** Stopped on the scheduler's order (cancel, preemption) or at agent shutdown. */
    KILLED("killed"),
    /** Stopped by the agent because the rank ran past its walltime. */
    WALLTIME("walltime"),
    /** The process could not be started at all; reported with exit code 127, like a shell. */
    LAUNCH_FAILED("launch-failed"),
    /**
     * The node refused to start the rank: its health check or the prolog failed. The fault is the
     * node's, not the job's, so the scheduler requeues the attempt elsewhere; sent with code 127.
     */
    NODE_FAULT("node-fault");

    private final String wire;

    ExitReason(String wire) {
        this.wire = wire;
    }

    /** The string sent on the wire. */
    public String wire() {
        return wire;
    }
}
