package coop.scheduler.sim;

import java.util.List;

/**
 * The raw outcome of one replay, from which {@link Measures} derives the report: every job's
 * outcome, every attempt, and what only the simulator can see while it runs, namely how long
 * (within the window) some pending job would have fit on the free GPUs, and how busy the
 * cluster was meanwhile.
 *
 * @param endMs                    simulated time when the replay stopped
 * @param fitPendingMs             time in the window during which a pending job fit the free GPUs
 * @param busyWhileFitPendingGpuMs GPU-ms in use during that time
 * @param maxGpusInUse             the most GPUs held at once
 * @param cycles                   allocation cycles run
 */
public record SimulationResult(String policy, SimulatedCluster cluster, Window window, long endMs,
                               List<JobOutcome> jobs, List<AttemptRecord> attempts, long fitPendingMs,
                               double busyWhileFitPendingGpuMs, int maxGpusInUse, long cycles) {
    public SimulationResult {
        jobs = List.copyOf(jobs);
        attempts = List.copyOf(attempts);
    }

    public boolean allFinished() {
        return jobs.stream().allMatch(JobOutcome::finished);
    }
}
