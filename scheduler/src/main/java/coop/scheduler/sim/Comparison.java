package coop.scheduler.sim;

import coop.scheduler.allocation.SchedulingPolicy;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;

/**
 * Replays one trace through several policies on the same cluster, shares and options, and
 * measures each against the same fair target.
 */
public final class Comparison {
    private Comparison() {
    }

    /** One policy's raw result and its report. */
    public record Entry(SimulationResult result, PolicyReport report) {
    }

    /** The outcome: the fair target and one entry per policy, in the order given. */
    public record Outcome(FairShares target, List<Entry> entries) {
        public Outcome {
            entries = List.copyOf(entries);
        }
    }

    /**
     * Runs each policy in turn; {@code progress} gets the policy's name and returns where that
     * replay reports its progress.
     */
    public static Outcome run(Trace trace, SimulatedCluster cluster, Shares shares, SimulationOptions options,
                              List<SchedulingPolicy> policies,
                              Function<String, SimulationProgress> progress) {
        Simulator simulator = new Simulator(trace, cluster, shares, options);
        FairShares target = FairTarget.compute(trace.jobs(), cluster.capacity(), shares, simulator.window());
        List<Entry> entries = new ArrayList<>();
        for (SchedulingPolicy p : policies) {
            SimulationResult result = simulator.run(p, progress.apply(p.name()));
            entries.add(new Entry(result, Measures.of(result, target, shares)));
        }
        return new Outcome(target, entries);
    }
}
