package coop.bench.replay;

import coop.scheduler.sim.AttemptRecord;
import coop.scheduler.sim.JobOutcome;
import coop.scheduler.sim.SimulationResult;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * A simulated replay seen only up to the instant the live replay stopped, so that both are
 * measured alike: attempts that had not started are dropped and the others end there at the
 * latest; a job finished only if it did by then; waits and completion times count only what
 * happened by then. The simulator cannot stop there itself and still report the attempts that
 * were running, so the whole replay runs and is cut afterwards; nothing after the cut changes
 * what came before it.
 */
public final class Horizon {
    private Horizon() {
    }

    public static SimulationResult cut(SimulationResult r, long atMs) {
        List<AttemptRecord> attempts = new ArrayList<>();
        Map<Long, int[]> counts = new HashMap<>(); // job id -> {attempts started, preemptions}
        for (AttemptRecord a : r.attempts()) {
            if (a.startMs() >= atMs) {
                continue;
            }
            boolean over = a.endMs() <= atMs;
            attempts.add(new AttemptRecord(a.jobId(), a.attempt(), a.account(), a.placements(), a.startMs(),
                    Math.min(a.endMs(), atMs), a.completed() && over));
            int[] c = counts.computeIfAbsent(a.jobId(), id -> new int[2]);
            c[0]++;
            // In the simulator an attempt ends without completing its job only when it was preempted.
            if (over && !a.completed()) {
                c[1]++;
            }
        }
        List<JobOutcome> jobs = new ArrayList<>();
        for (JobOutcome j : r.jobs()) {
            int[] c = counts.getOrDefault(j.job().id(), new int[2]);
            long start = j.firstStartMs() >= 0 && j.firstStartMs() < atMs ? j.firstStartMs() : -1;
            long finished = j.finishedMs() >= 0 && j.finishedMs() <= atMs ? j.finishedMs() : -1;
            jobs.add(new JobOutcome(j.job(), j.gpusPerNode(), j.nodes(), start, finished, c[0], c[1]));
        }
        return new SimulationResult(r.policy(), r.cluster(), r.window(), Math.min(r.endMs(), atMs), jobs, attempts,
                r.fitPendingMs(), r.busyWhileFitPendingGpuMs(), r.maxGpusInUse(), r.cycles());
    }
}
