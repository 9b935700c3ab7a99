package coop.bench.replay;

import coop.scheduler.sim.Trace;
import coop.scheduler.sim.TraceJob;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/**
 * The trace as a live cluster runs it: each submit a little late and each job holding its
 * GPUs a little longer, by random amounts that average what the live run measured. Replaying
 * such variants through the simulator shows how far its prediction moves under delays of a
 * few tens of milliseconds, which no live run avoids: the allocator's decisions (who is owed
 * time, whom to preempt, which node a job lands on) change with the order of nearly
 * simultaneous events. A live result inside that range is as close as the simulator can say.
 */
public final class Jitter {
    private Jitter() {
    }

    /**
     * @param meanSubmitLagMs mean delay added to each submit but the first (uniform on [0, 2 × mean])
     * @param meanOverrunMs   mean time added to each run time (uniform on [0, 2 × mean])
     */
    public static Trace of(Trace trace, double meanSubmitLagMs, double meanOverrunMs, long seed) {
        SplittableRandom random = new SplittableRandom(seed);
        double lag = Math.max(0, meanSubmitLagMs);
        double overrun = Double.isNaN(meanOverrunMs) ? 0 : Math.max(0, meanOverrunMs);
        long first = trace.jobs().isEmpty() ? 0 : trace.jobs().get(0).submitMs();
        List<TraceJob> out = new ArrayList<>(trace.jobs().size());
        for (TraceJob j : trace.jobs()) {
            long late = j.submitMs() == first ? 0 : Math.round(random.nextDouble() * 2 * lag);
            long longer = Math.round(random.nextDouble() * 2 * overrun);
            out.add(new TraceJob(j.id(), j.line(), j.submitMs() + late, j.account(), j.gpus(), j.durationMs() + longer,
                    j.gpuModel()));
        }
        return new Trace(trace.source(), out);
    }
}
