package coop.scheduler.sim;

import java.util.Arrays;

/**
 * What preemption cost a replay: GPU-hours of work run and then lost (not saved by a checkpoint,
 * so run again), against the GPU-hours the cluster delivered in all; and how often one job was
 * preempted, at most and at the 99th percentile of jobs.
 */
public record LostWork(double lostGpuHours, double deliveredGpuHours, int maxPreemptionsPerJob,
                       int p99PreemptionsPerJob) {

    /** Lost over delivered GPU-hours; 0 when nothing ran. */
    public double lostShare() {
        return deliveredGpuHours > 0 ? lostGpuHours / deliveredGpuHours : 0;
    }

    public static LostWork of(SimulationResult r) {
        double lostMs = 0;
        int[] preemptions = new int[r.jobs().size()];
        int i = 0;
        for (JobOutcome j : r.jobs()) {
            lostMs += j.lostGpuMs();
            preemptions[i++] = j.preemptions();
        }
        double deliveredMs = 0;
        for (AttemptRecord a : r.attempts()) {
            deliveredMs += (double) a.gpus() * (a.endMs() - a.startMs());
        }
        Arrays.sort(preemptions);
        int max = preemptions.length == 0 ? 0 : preemptions[preemptions.length - 1];
        int p99 = preemptions.length == 0 ? 0 : preemptions[(int) Math.ceil(0.99 * preemptions.length) - 1];
        return new LostWork(lostMs / 3.6e6, deliveredMs / 3.6e6, max, p99);
    }
}
