package coop.scheduler.sim;

/**
 * One account's line of a replay's report. Shares are percent; the gap is achieved minus
 * target in percentage points; waits (submit to first start) and completion times are seconds
 * over the jobs that started or finished ({@code NaN} when none did). {@code preemptions}
 * counts attempts that a preemption cut short.
 */
public record AccountReport(String account, double entitledPercent, double targetPercent, double achievedPercent,
                            double gapPp, int jobs, int started, int finished, double waitMeanSeconds,
                            double waitP99Seconds, double completionMeanSeconds, int preemptions) {
}
