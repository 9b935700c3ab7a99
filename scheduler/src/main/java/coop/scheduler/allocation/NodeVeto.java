package coop.scheduler.allocation;

/**
 * Why one node cannot take one rank of a job now: the first filter it fails, in this order, as
 * Nomad's feasibility checkers report a node. Counted over a cycle's nodes, they tell a waiting
 * job's submitter what the cluster looks like to that job.
 */
enum NodeVeto {
    /** Its operator or its own health check is draining it: it takes no new work. */
    DRAINING("draining"),
    /** It is outside its availability window now, or the window closes before the job's walltime ends. */
    OUTSIDE_WINDOW("outside their window"),
    /**
     * It runs no container runtime, does not allow one of the job's mounts (agent --allow-mount), or
     * gives ranks less memory than the job asks.
     */
    LACKS_FEATURE("without the container runtime, mounts or memory it needs"),
    /** Its operator's terms refuse the job's declared purpose ({@code coop node set --refuse-purpose}). */
    REFUSES_PURPOSE("whose operators refuse its purpose"),
    /** None of its GPUs is of a model the job accepts. */
    MODEL_MISMATCH("with other GPUs"),
    /**
     * It has enough GPUs the job accepts only counting several models together, and a rank's GPUs
     * are all of one model (a 4-GPU rank does not go on 2×A100 + 2×L4).
     */
    MIXED_MODELS("with too few of one model"),
    /** It has too few GPUs of the models the job accepts, even when idle. */
    TOO_SMALL("too small"),
    /** Its free GPUs are held for the job first in line, and this one would not end before that starts. */
    RESERVED("reserved"),
    /** Too few of its GPUs are free now. */
    BUSY("busy");

    final String label;

    NodeVeto(String label) {
        this.label = label;
    }
}
