package coop.scheduler.allocation;

import coop.scheduler.domain.Placement;
import java.util.List;

/**
 * An attempt holding GPUs now. {@code borrowed} attempts run beyond their account's
 * entitlement and may be preempted to give GPUs back; {@code terminating} ones have already
 * been told to stop and will free their GPUs within the grace period, for the job they were
 * preempted for when {@code stoppingFor} names one (0: for whoever comes first). What a
 * preemption would cost: the work since {@code savedAt} (its last checkpoint, as far as the
 * scheduler knows: the attempt's start), and {@code preemptions}, how often its job was preempted
 * before.
 */
public record RunningAttempt(long jobId, int attempt, String account, List<Placement> placements, long startedAt,
                             long walltimeSeconds, boolean borrowed, boolean preemptible, boolean terminating,
                             long stoppingFor, long savedAt, int preemptions) {
    public RunningAttempt {
        placements = List.copyOf(placements);
    }

    /** An attempt of a job never preempted, whose work is at stake since it started. */
    public RunningAttempt(long jobId, int attempt, String account, List<Placement> placements, long startedAt,
                          long walltimeSeconds, boolean borrowed, boolean preemptible, boolean terminating,
                          long stoppingFor) {
        this(jobId, attempt, account, placements, startedAt, walltimeSeconds, borrowed, preemptible, terminating,
                stoppingFor, startedAt, 0);
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

    /** GPU-time a preemption at {@code now} would lose: the work since the last checkpoint, on all its GPUs. */
    public long atStakeGpuMs(long now) {
        return gpus() * Math.max(0, now - savedAt);
    }

    /**
     * The order in which victims are chosen: a job preempted fewer times first, so that no job
     * is preempted again while others can be; then the least GPU-time lost.
     */
    static long victimKey(RunningAttempt a, long now) {
        long unit = 1_000_000_000_000_000L;   // beyond any GPU-ms at stake: 32 GPUs for 1,000 years
        return Math.min(a.preemptions, 9_000) * unit + Math.min(a.atStakeGpuMs(now), unit - 1);
    }

    /** When the attempt will have ended at the latest, in epoch milliseconds. */
    public long endsBy() {
        return startedAt + walltimeSeconds * 1000;
    }
}
