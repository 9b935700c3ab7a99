package coop.scheduler.allocation;

import coop.scheduler.domain.Plural;
import java.util.Locale;

/**
 * An account during one cycle: what it is entitled to ({@code E = share × C}), its fair level,
 * whether it is owed time, and what it holds; with the predicates that judge its jobs and
 * attempts against them. {@link #due} and {@link #lends} mirror each other: what one rule gives,
 * the other cannot take back.
 */
final class Entitlement {
    final String name;
    final double entitled;
    final double fair;
    final boolean behind;
    final double priorityKey;
    private int held;
    /** The why-pending prefix, while {@code held} is unchanged. */
    private String standing;

    Entitlement(String name, double entitled, double fair, boolean behind, double priorityKey, int held) {
        this.name = name;
        this.entitled = entitled;
        this.fair = fair;
        this.behind = behind;
        this.priorityKey = priorityKey;
        this.held = held;
    }

    /**
     * Whether an account is owed GPU time: it used less than its fair level would have given it
     * (decayed alike), or, where that is not tracked, less than its voted share of all usage.
     * An account owed time is due its next job while it holds less than its level, so it may
     * go beyond the level by one job (of any size), so that whole-GPU jobs and jobs larger
     * than the level still average out to the level, as in the ideal schedule where GPUs are
     * divisible: once beyond, it uses more than its level gives and soon is no longer owed.
     */
    static boolean behind(AccountStanding s, double totalUsage) {
        if (s == null || s.shareBasisPoints() <= 0) {
            return false;
        }
        if (!Double.isNaN(s.fairGpuSeconds())) {
            return s.usedGpuSeconds() < s.fairGpuSeconds();
        }
        return totalUsage <= 0 || s.usedGpuSeconds() / totalUsage < s.shareBasisPoints() / 10_000.0;
    }

    int held() {
        return held;
    }

    /** The account took ({@code gpus > 0}) or gave up GPUs during the cycle. */
    void hold(int gpus) {
        held += gpus;
        standing = null;
    }

    /**
     * Whether a job of this many GPUs starts as the account's due: the account stays within its
     * fair level with the job counted at half, or it is owed time and holds less than the level.
     * Entitlements are fractional and jobs are not, so without the half an account entitled to
     * 3.2 GPUs could never be due a 4-GPU job and would only ever borrow for it. Smaller jobs are
     * due whenever larger ones are.
     */
    boolean due(int gpus) {
        return held + gpus / 2.0 <= fair || (behind && (held == 0 || held < fair));
    }

    /**
     * Whether a due job may take GPUs back from borrowers: only within the level rounded up to
     * a whole GPU (or while its account holds nothing). Going beyond the level by one job is
     * for GPUs that free up by themselves; preempting for it would stop other accounts' work
     * to hand out more than the level, and churn as each account in turn crossed it.
     */
    boolean reclaimsFor(int gpus) {
        return held + gpus / 2.0 <= fair || (behind && (held == 0 || held + gpus <= Math.ceil(fair)));
    }

    /**
     * Whether one of this account's attempts runs on borrowed GPUs now: the account would still
     * hold more than its level with the attempt counted at half. Judged against the live level,
     * so a new vote or a lost node changes it; once preempted, the job is not due the GPUs back.
     */
    boolean lends(RunningAttempt a) {
        return a.preemptible() && held - a.gpus() / 2.0 > fair
                && !(behind && (held == a.gpus() || held - a.gpus() < fair));
    }

    /** Whether a job of this many GPUs would run beyond the entitlement, on borrowed GPUs. */
    boolean borrows(int gpus) {
        return held + gpus > entitled;
    }

    /** A job that asked not to be preempted runs only within the entitlement. */
    boolean admitsNotPreemptible(JobRequest job) {
        return job.preemptible() || !borrows(job.gpus());
    }

    /** How far over its entitlement the account is: the most over gives GPUs back first. */
    double overEntitlement() {
        return entitled <= 0 ? Double.MAX_VALUE : held / entitled;
    }

    /** How far over its entitlement the account would be holding {@code gpus} more. */
    double overEntitlementWith(int gpus) {
        return entitled <= 0 ? Double.MAX_VALUE : (held + gpus) / entitled;
    }

    /** The why-pending prefix: what the account holds of what it is entitled to. */
    String standing() {
        if (standing == null) {
            standing = String.format(Locale.ROOT, "%s holds %s of %.1f entitled; ", name, Plural.of(held, "GPU"), entitled);
        }
        return standing;
    }
}
