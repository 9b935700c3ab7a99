package coop.scheduler.allocation;

import java.util.List;

/**
 * The voted rules that bound what preemption may cost, as the allocator applies them.
 * {@code minRunMs} ({@code min_run_before_preempt_s}, Slurm's PreemptExemptTime): an attempt
 * that has run less is not preempted, and a job asking for less walltime than that preempts no
 * one, for its run would be shorter than what it would make others lose. {@code reserveWaitMs}
 * ({@code reserve_wait_s}): an operator's job claiming its reserve waits rather than preempts
 * when a borrower there ends by walltime within that bound. {@code holdMs}: how long the GPUs a
 * preemption frees stay held for the job they were freed for (the grace period, and then time to
 * start); 0 holds nothing.
 */
public record PreemptionRules(long minRunMs, long reserveWaitMs, long holdMs) {
    /** No bound and no hold: any borrowed attempt may be preempted at once, by any job (the rules before the vote). */
    public static final PreemptionRules NONE = new PreemptionRules(0, 0, 0);

    /** What a hold lasts beyond the grace period: the victims' GPUs come free, and the next cycle starts the job. */
    public static final long HOLD_AFTER_GRACE_MS = 60_000;

    /** The rules of a policy: its minimum run and reserve wait, and holds that outlast its grace period. */
    public static PreemptionRules of(long minRunS, long reserveWaitS, long graceS) {
        return new PreemptionRules(minRunS * 1000, reserveWaitS * 1000, graceS * 1000 + HOLD_AFTER_GRACE_MS);
    }

    public PreemptionRules {
        if (minRunMs < 0 || reserveWaitMs < 0 || holdMs < 0) {
            throw new IllegalArgumentException("preemption bounds are not negative");
        }
    }

    /**
     * The next time after {@code now} at which these rules alone change what may be preempted,
     * so that a cycle then may reclaim although nothing else happened: an attempt passes the
     * minimum run, or a hold lapses. {@code Long.MAX_VALUE} for never.
     */
    public long nextChange(long now, List<RunningAttempt> running, List<GpuHold> holds) {
        long next = Long.MAX_VALUE;
        if (minRunMs > 0) {
            for (RunningAttempt a : running) {
                long exempt = a.startedAt() + minRunMs;
                if (a.preemptible() && !a.terminating() && exempt > now) {
                    next = Math.min(next, exempt);
                }
            }
        }
        for (GpuHold h : holds) {
            if (h.until() > now) {
                next = Math.min(next, h.until());
            }
        }
        return next;
    }

    /** Whether a job of this walltime may preempt at all, to reclaim a share or an operator's reserve. */
    boolean mayPreemptFor(JobRequest job) {
        return job.walltimeSeconds() * 1000 >= minRunMs;
    }
}
