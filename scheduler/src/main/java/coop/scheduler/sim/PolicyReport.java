package coop.scheduler.sim;

import java.util.List;

/**
 * The measures of one policy on one trace (DESIGN.md, "Allocation"), over the measurement
 * window: per account entitlement, fair target, achieved share, waits, completion times and
 * preemptions; overall utilization (busy GPU-seconds over capacity × window), utilization
 * while some pending job fit the free GPUs ({@code NaN} if that never happened), Jain's index
 * of achieved/target over the accounts with a positive target, total preemptions, the longest
 * wait of a multi-node job ({@code NaN} without any), the worst |achieved − target| and the
 * ideal's utilization for reference. {@code endSeconds} is when the replay stopped.
 */
public record PolicyReport(String policy, List<AccountReport> accounts, double utilization,
                           double utilizationWhileFitPending, double idealUtilization, double jain, int preemptions,
                           double gangWaitMaxSeconds, double worstGapPp, double waitMeanSeconds,
                           double completionMeanSeconds, int jobs, int finished, int neverStarted, double endSeconds) {
    public PolicyReport {
        accounts = List.copyOf(accounts);
    }

    public AccountReport account(String name) {
        return accounts.stream().filter(a -> a.account().equals(name)).findFirst().orElseThrow();
    }
}
