package coop.scheduler.sim;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Turns a {@link SimulationResult} and the {@link FairShares} of the same trace into a
 * {@link PolicyReport}. An account's achieved share is its GPU-seconds over all busy
 * GPU-seconds inside the window (attempts clipped to it; a preempted attempt counts through
 * its grace, when it still holds and uses its GPUs).
 */
public final class Measures {
    private Measures() {
    }

    public static PolicyReport of(SimulationResult result, FairShares target, Shares shares) {
        Window window = result.window();
        Map<String, Double> gpuMs = new HashMap<>();
        double busyGpuMs = 0;
        for (AttemptRecord a : result.attempts()) {
            double used = (double) a.gpus() * window.overlapMs(a.startMs(), a.endMs());
            gpuMs.merge(a.account(), used, Double::sum);
            busyGpuMs += used;
        }
        Map<String, List<JobOutcome>> byAccount = new HashMap<>();
        for (JobOutcome j : result.jobs()) {
            byAccount.computeIfAbsent(j.job().account(), a -> new ArrayList<>()).add(j);
        }
        Set<String> names = new LinkedHashSet<>(shares.accounts());
        byAccount.keySet().stream().sorted().forEach(names::add);

        List<AccountReport> accounts = new ArrayList<>();
        double worstGap = 0;
        double sumX = 0;
        double sumX2 = 0;
        int counted = 0;
        for (String name : names) {
            List<JobOutcome> jobs = byAccount.getOrDefault(name, List.of());
            double achieved = busyGpuMs <= 0 ? 0 : 100.0 * gpuMs.getOrDefault(name, 0.0) / busyGpuMs;
            double fair = target.percent(name);
            double gap = achieved - fair;
            worstGap = Math.max(worstGap, Math.abs(gap));
            if (fair > 0) {
                double x = achieved / fair;
                sumX += x;
                sumX2 += x * x;
                counted++;
            }
            double[] waits = jobs.stream().filter(JobOutcome::started).mapToDouble(j -> j.waitMs() / 1000.0).toArray();
            double[] jcts = jobs.stream().filter(JobOutcome::finished)
                    .mapToDouble(j -> j.completionMs() / 1000.0).toArray();
            accounts.add(new AccountReport(name, shares.percent(name), fair, achieved, gap, jobs.size(), waits.length,
                    jcts.length, mean(waits), percentile(waits, 99), mean(jcts),
                    jobs.stream().mapToInt(JobOutcome::preemptions).sum()));
        }

        double capacityMs = (double) result.cluster().capacity() * window.lengthMs();
        double utilization = capacityMs <= 0 ? Double.NaN : busyGpuMs / capacityMs;
        double whileFit = result.fitPendingMs() <= 0 ? Double.NaN
                : result.busyWhileFitPendingGpuMs() / ((double) result.cluster().capacity() * result.fitPendingMs());
        double jain = counted == 0 || sumX2 == 0 ? Double.NaN : sumX * sumX / (counted * sumX2);
        List<JobOutcome> all = result.jobs();
        double gangWaitMax = all.stream().filter(j -> j.gang() && j.started())
                .mapToDouble(j -> j.waitMs() / 1000.0).max().orElse(Double.NaN);
        return new PolicyReport(result.policy(), accounts, utilization, whileFit, target.utilization(), jain,
                all.stream().mapToInt(JobOutcome::preemptions).sum(), gangWaitMax, worstGap,
                mean(all.stream().filter(JobOutcome::started).mapToDouble(j -> j.waitMs() / 1000.0).toArray()),
                mean(all.stream().filter(JobOutcome::finished).mapToDouble(j -> j.completionMs() / 1000.0).toArray()),
                all.size(), (int) all.stream().filter(JobOutcome::finished).count(),
                (int) all.stream().filter(j -> !j.started()).count(), result.endMs() / 1000.0);
    }

    static double mean(double[] values) {
        return values.length == 0 ? Double.NaN : Arrays.stream(values).sum() / values.length;
    }

    /** Nearest-rank percentile: the smallest value with at least p % of the values at or below it. */
    static double percentile(double[] values, double p) {
        if (values.length == 0) {
            return Double.NaN;
        }
        double[] sorted = values.clone();
        Arrays.sort(sorted);
        int rank = (int) Math.ceil(p / 100.0 * sorted.length);
        return sorted[Math.max(0, Math.min(sorted.length - 1, rank - 1))];
    }
}
