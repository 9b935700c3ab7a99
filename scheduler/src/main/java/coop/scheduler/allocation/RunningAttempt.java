package coop.scheduler.allocation;

import coop.scheduler.domain.Placement;
import java.util.List;

/**
 * An attempt holding GPUs now. {@code borrowed} attempts run beyond their account's
 * entitlement and may be preempted to give GPUs back; {@code terminating} ones have already
 * been told to stop and will free their GPUs within the grace period, for the job they were
 * preempted for when {@code stoppingFor} names one (0: for whoever comes first).
 */
public record RunningAttempt(long jobId, int attempt, String account, List<Placement> placements, long startedAt,
                             long walltimeSeconds, boolean borrowed, boolean preemptible, boolean terminating,
                             long stoppingFor) {
    public RunningAttempt {
        placements = List.copyOf(placements);
    }

    /** An attempt not stopping for any job in particular. */
    public RunningAttempt(long jobId, int attempt, String account, List<Placement> placements, long startedAt,
                          long walltimeSeconds, boolean borrowed, boolean preemptible, boolean terminating) {
        this(jobId, attempt, account, placements, startedAt, walltimeSeconds, borrowed, preemptible, terminating, 0);
    }

    public int gpus() {
        // Called in the allocator's inner loops: a plain loop, no stream.
        int n = 0;
        for (Placement p : placements) {
            n += p.gpuIndices().size();
        }
        return n;
    }

    /** When the attempt will have ended at the latest, in epoch milliseconds. */
    public long endsBy() {
        return startedAt + walltimeSeconds * 1000;
    }
}
