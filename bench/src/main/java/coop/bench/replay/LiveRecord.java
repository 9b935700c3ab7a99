package coop.bench.replay;

import coop.scheduler.domain.Placement;
import coop.scheduler.sim.AttemptRecord;
import coop.scheduler.sim.JobOutcome;
import coop.scheduler.sim.SimulatedCluster;
import coop.scheduler.sim.SimulationResult;
import coop.scheduler.sim.Trace;
import coop.scheduler.sim.TraceJob;
import coop.scheduler.sim.Window;
import coop.v1.Attempt;
import coop.v1.Job;
import coop.v1.JobState;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;

/**
 * A live replay's record in the simulator's terms, so that {@code Measures} computes the very
 * same measures from it: times in milliseconds since the replay's time 0, one
 * {@link JobOutcome} per trace job and one {@link AttemptRecord} per attempt, as the scheduler
 * recorded them (from its allocation cycle to the report of the last rank's exit). An attempt
 * that a preemption cut short counts as a preemption, as in the simulator. What the simulator
 * measures while it runs, the time during which some pending job fit the free GPUs and how
 * busy the cluster was then, is rebuilt here from the attempts' placements and the jobs'
 * pending intervals.
 */
public final class LiveRecord {
    /** Jobs whose attempts, as recorded, did not end as the simulator's would; for the report. */
    /**
     * How the live run departed from the trace: jobs that failed or were never submitted, how
     * late submits reached the scheduler, and how much longer than its run time the attempt of
     * a job that finished in one attempt was, as recorded (launch and report latency beyond
     * the sleep margin).
     */
    public record Anomalies(int failed, int unsubmitted, long maxSubmitLagMs, double meanSubmitLagMs,
                            double meanOverrunMs, long maxOverrunMs) {
    }

    private static final long NOT_WAITING = Long.MIN_VALUE;
    /**
     * A job counts as waiting with GPUs free only from this long after its submit or requeue:
     * the simulator decides at the instant a job arrives, the live scheduler a few milliseconds
     * later, and those milliseconds are not idle GPUs that a better policy would have used.
     */
    static final long REACTION_MS = 500;

    private final SimulationResult result;
    private final Anomalies anomalies;

    private LiveRecord(SimulationResult result, Anomalies anomalies) {
        this.result = result;
        this.anomalies = anomalies;
    }

    public SimulationResult result() {
        return result;
    }

    public Anomalies anomalies() {
        return anomalies;
    }

    /** An interval during which a job waited for GPUs: from its submit or requeue to its next start. */
    private record Waiting(long fromMs, long toMs, int gpusPerNode, int nodes) {
    }

    public static LiveRecord of(LiveReplay.Run run, Trace trace, SimulatedCluster cluster, Window window,
                                String policy) {
        Map<Long, Job> byId = new HashMap<>();
        run.jobs().forEach(j -> byId.put(j.getId(), j));
        long stop = run.stopMs() - run.startMs();
        List<JobOutcome> outcomes = new ArrayList<>();
        List<AttemptRecord> attempts = new ArrayList<>();
        List<Waiting> waiting = new ArrayList<>();
        int failed = 0;
        int unsubmitted = 0;
        long maxOverrun = Long.MIN_VALUE;
        double overrunSum = 0;
        int overruns = 0;
        long maxLag = 0;
        double lagSum = 0;
        for (TraceJob t : trace.jobs()) {
            int[] shape = cluster.shapeOf(t.gpus());
            Long id = run.jobIds().get(t.id());
            Job j = id == null ? null : byId.get(id);
            if (j == null) {
                unsubmitted++;
                outcomes.add(new JobOutcome(t, shape[0], shape[1], -1, -1, 0, 0));
                continue;
            }
            long submitted = j.getSubmittedAtMs() - run.startMs();
            long lag = submitted - t.submitMs();
            maxLag = Math.max(maxLag, lag);
            lagSum += lag;
            long firstStart = -1;
            long finished = j.getState() == JobState.SUCCEEDED ? j.getFinishedAtMs() - run.startMs() : -1;
            if (j.getState() == JobState.FAILED || j.getState() == JobState.TIMEOUT) {
                failed++;
            }
            int preemptions = 0;
            long ranMs = 0;
            long waitingSince = submitted;
            for (int k = 0; k < j.getAttemptsCount(); k++) {
                Attempt a = j.getAttempts(k);
                long start = a.getStartedAtMs() - run.startMs();
                long end = a.getFinishedAtMs() == 0 ? stop : a.getFinishedAtMs() - run.startMs();
                ranMs += Math.max(0, end - start);
                boolean completed = k == j.getAttemptsCount() - 1 && j.getState() == JobState.SUCCEEDED;
                if (firstStart < 0) {
                    firstStart = start;
                }
                waiting.add(new Waiting(waitingSince, start, shape[0], shape[1]));
                boolean cutShort = a.getOutcome().startsWith(coop.scheduler.domain.Attempt.PREEMPTED)
                        && a.getExitCode() != 0;
                if (cutShort) {
                    preemptions++;
                }
                // A preempted job is requeued when its attempt ends, and waits again from then.
                waitingSince = cutShort ? end : NOT_WAITING;
                attempts.add(new AttemptRecord(t.id(), a.getNumber(), t.account(), placements(a), start, end,
                        completed));
            }
            if (j.getState() == JobState.SUCCEEDED && j.getAttemptsCount() == 1) {
                Attempt a = j.getAttempts(0);
                long overrun = a.getFinishedAtMs() - a.getStartedAtMs() - t.durationMs();
                maxOverrun = Math.max(maxOverrun, overrun);
                overrunSum += overrun;
                overruns++;
            }
            if (waitingSince != NOT_WAITING) {
                // Still waiting when the replay stopped (and was cancelled then).
                waiting.add(new Waiting(waitingSince, Math.max(waitingSince, stop), shape[0], shape[1]));
            }
            // What preemption cost a job that finished: the GPU-time its attempts ran beyond its work,
            // redone after a checkpoint and spent restarting. Jobs never preempted count none.
            long lostGpuMs = preemptions > 0 && finished >= 0
                    ? Math.max(0, ranMs - t.durationMs()) * shape[0] * shape[1] : 0;
            outcomes.add(new JobOutcome(t, shape[0], shape[1], firstStart, finished, j.getAttemptsCount(),
                    preemptions, lostGpuMs));
        }
        int counted = trace.jobs().size() - unsubmitted;
        Anomalies anomalies = new Anomalies(failed, unsubmitted, maxLag, counted == 0 ? 0 : lagSum / counted,
                overruns == 0 ? Double.NaN : overrunSum / overruns, overruns == 0 ? 0 : maxOverrun);
        Sweep sweep = new Sweep(cluster, window, attempts, waiting);
        return new LiveRecord(new SimulationResult(policy, cluster, window, stop, outcomes, attempts,
                sweep.fitPendingMs, sweep.busyWhileFitPendingGpuMs, sweep.maxGpusInUse, 0), anomalies);
    }

    private static List<Placement> placements(Attempt a) {
        List<Placement> out = new ArrayList<>();
        a.getPlacementsList().forEach(p -> out.add(new Placement(p.getNode(), p.getSite(), p.getGpuModel(),
                p.getGpuIndicesList())));
        return out;
    }

    /**
     * Walks the record from one start, end or submit to the next: the GPUs each node had free,
     * whether some waiting job would have fit them, and the most GPUs held at once.
     */
    private static final class Sweep {
        long fitPendingMs;
        double busyWhileFitPendingGpuMs;
        int maxGpusInUse;

        Sweep(SimulatedCluster cluster, Window window, List<AttemptRecord> attempts, List<Waiting> waiting) {
            TreeSet<Long> times = new TreeSet<>();
            times.add(window.startMs());
            times.add(window.endMs());
            attempts.forEach(a -> {
                times.add(a.startMs());
                times.add(a.endMs());
            });
            waiting.forEach(w -> {
                times.add(w.fromMs() + REACTION_MS);
                times.add(w.toMs());
            });
            Map<String, Integer> index = new HashMap<>();
            for (int n = 0; n < cluster.nodes(); n++) {
                index.put(cluster.nodeName(n), n);
            }
            Long previous = null;
            for (long t : times) {
                if (previous != null && t > previous) {
                    interval(cluster, window, attempts, waiting, index, previous, t);
                }
                previous = t;
            }
        }

        private void interval(SimulatedCluster cluster, Window window, List<AttemptRecord> attempts,
                              List<Waiting> waiting, Map<String, Integer> index, long from, long to) {
            int[] free = new int[cluster.nodes()];
            java.util.Arrays.fill(free, cluster.gpusPerNode());
            int busy = 0;
            for (AttemptRecord a : attempts) {
                if (a.startMs() <= from && a.endMs() >= to) {
                    for (Placement p : a.placements()) {
                        Integer n = index.get(p.node());
                        if (n != null) {
                            free[n] -= p.gpuIndices().size();
                        }
                    }
                    busy += a.gpus();
                }
            }
            maxGpusInUse = Math.max(maxGpusInUse, busy);
            long overlap = window.overlapMs(from, to);
            if (overlap <= 0) {
                return;
            }
            for (Waiting w : waiting) {
                if (w.fromMs() + REACTION_MS <= from && w.toMs() >= to && fits(free, w.gpusPerNode(), w.nodes())) {
                    fitPendingMs += overlap;
                    busyWhileFitPendingGpuMs += (double) busy * overlap;
                    return;
                }
            }
        }

        private static boolean fits(int[] free, int gpusPerNode, int nodes) {
            int found = 0;
            for (int f : free) {
                if (f >= gpusPerNode && ++found >= nodes) {
                    return true;
                }
            }
            return false;
        }
    }
}
