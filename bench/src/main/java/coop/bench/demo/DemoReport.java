package coop.bench.demo;

import coop.scheduler.domain.ShareVerdict;
import coop.v1.Attempt;
import coop.v1.Job;
import coop.v1.JobState;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * What the demo prints at the end, computed from the attempts the scheduler recorded (not from
 * the policy): for each policy period, each account's voted share against its achieved share
 * of the GPU-seconds used in that period, plus utilization and jobs done; and, for the HTML
 * report, the cluster's capacity, the usage sampled while it ran and what the ledger check found.
 */
public record DemoReport(List<Period> periods, double utilization, int jobsDone, int capacityGpus,
                         List<Sample> timeline, LedgerCheck ledger) {

    public DemoReport {
        periods = List.copyOf(periods);
        timeline = List.copyOf(timeline);
    }

    /** One policy period: from its enactment to the next one (or the end of the run). */
    public record Period(long policyVersion, long startMs, long endMs, Map<String, Double> voted,
                         Map<String, Double> achieved, boolean allPending, double utilization, int jobsDone) {

        /** Largest |achieved − voted| over the accounts, in percentage points. */
        public double worstGap() {
            double worst = 0;
            for (var e : voted.entrySet()) {
                worst = Math.max(worst, Math.abs(achieved.getOrDefault(e.getKey(), 0.0) - e.getValue()));
            }
            return worst;
        }

        /**
         * Each account's verdict by the rule the live scheduler's usage report judges by
         * ({@link ShareVerdict}): the demo knows only whether every account had work waiting
         * throughout the period, which it then says of each account and of all the others.
         */
        public Map<String, ShareVerdict> verdicts() {
            boolean used = achieved.values().stream().anyMatch(v -> v > 0);
            Map<String, ShareVerdict> out = new LinkedHashMap<>();
            voted.forEach((a, v) -> out.put(a, ShareVerdict.of(v, achieved.getOrDefault(a, 0.0), allPending,
                    allPending, used)));
            return out;
        }

        /** The verdict on all accounts in the period. */
        public ShareVerdict.Outcome verdict() {
            return ShareVerdict.overall(verdicts().values().stream().map(ShareVerdict::outcome).toList());
        }
    }

    /** A period to report: its policy's shares (percent) and its window. */
    public record Window(long policyVersion, Map<String, Double> voted, long startMs, long endMs, boolean allPending) {
    }

    /** A ledger verification that passed: entries checked, proposals re-tallied, ballots, attempts and the head hash. */
    public record LedgerCheck(long entries, int proposals, int ballots, long attempts, String head) {
    }

    public static DemoReport compute(List<Job> jobs, List<Window> windows, int capacityGpus, List<Sample> timeline,
                                     LedgerCheck ledger) {
        List<Period> periods = new ArrayList<>();
        double busyAll = 0;
        int doneAll = 0;
        for (Window w : windows) {
            Map<String, Double> gpuMs = new TreeMap<>();
            w.voted().keySet().forEach(a -> gpuMs.put(a, 0.0));
            int done = 0;
            for (Job j : jobs) {
                for (Attempt a : j.getAttemptsList()) {
                    double overlap = overlapMs(a, w.startMs(), w.endMs());
                    if (overlap > 0) {
                        gpuMs.merge(j.getAccount(), overlap * a.getGpus(), Double::sum);
                    }
                }
                if (j.getState() == JobState.SUCCEEDED && j.getFinishedAtMs() >= w.startMs()
                        && j.getFinishedAtMs() < w.endMs()) {
                    done++;
                }
            }
            double busy = gpuMs.values().stream().mapToDouble(Double::doubleValue).sum();
            Map<String, Double> achieved = new LinkedHashMap<>();
            gpuMs.forEach((a, ms) -> achieved.put(a, busy == 0 ? 0 : 100.0 * ms / busy));
            double span = (double) (w.endMs() - w.startMs()) * capacityGpus;
            periods.add(new Period(w.policyVersion(), w.startMs(), w.endMs(), w.voted(), achieved, w.allPending(),
                    span <= 0 ? 0 : busy / span, done));
            busyAll += busy;
            doneAll += done;
        }
        long start = windows.isEmpty() ? 0 : windows.get(0).startMs();
        long end = windows.isEmpty() ? 0 : windows.get(windows.size() - 1).endMs();
        double spanAll = (double) (end - start) * capacityGpus;
        return new DemoReport(periods, spanAll <= 0 ? 0 : busyAll / spanAll, doneAll, capacityGpus, timeline, ledger);
    }

    /** Milliseconds of the attempt inside [start, end); an attempt still running counts to the end. */
    static double overlapMs(Attempt a, long start, long end) {
        long from = Math.max(a.getStartedAtMs(), start);
        long to = Math.min(a.getFinishedAtMs() == 0 ? end : a.getFinishedAtMs(), end);
        return Math.max(0, to - from);
    }

    /**
     * Whether no period's verdict is "not kept": every period where all accounts had work waiting
     * kept every account within {@link ShareVerdict#TOLERANCE_PP} of its voted share.
     */
    public boolean sharesKept() {
        return periods.stream().noneMatch(p -> p.verdict() == ShareVerdict.Outcome.NOT_KEPT);
    }
}
