package coop.scheduler.sim;

/**
 * What happened to one trace job in a replay: its shape on the cluster, when it first
 * started and when it finished ({@code -1}: never), how many attempts it took and how many of
 * them a preemption cut short, and the GPU-milliseconds of work those preemptions lost (run,
 * then not saved by a checkpoint: see {@link Checkpointing}).
 */
public record JobOutcome(TraceJob job, int gpusPerNode, int nodes, long firstStartMs, long finishedMs, int attempts,
                         int preemptions, long lostGpuMs) {

    /** A job that lost no work to preemption. */
    public JobOutcome(TraceJob job, int gpusPerNode, int nodes, long firstStartMs, long finishedMs, int attempts,
                      int preemptions) {
        this(job, gpusPerNode, nodes, firstStartMs, finishedMs, attempts, preemptions, 0);
    }

    public boolean started() {
        return firstStartMs >= 0;
    }

    public boolean finished() {
        return finishedMs >= 0;
    }

    /** Submit to first start, in ms; only for a started job. */
    public long waitMs() {
        return firstStartMs - job.submitMs();
    }

    /** Submit to finish, in ms; only for a finished job. */
    public long completionMs() {
        return finishedMs - job.submitMs();
    }

    public boolean gang() {
        return nodes > 1;
    }
}
