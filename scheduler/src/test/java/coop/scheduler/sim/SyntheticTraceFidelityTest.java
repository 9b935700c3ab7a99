package coop.scheduler.sim;

import static org.assertj.core.api.Assertions.assertThat;

import coop.scheduler.allocation.Allocator;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;

/**
 * Issue 27's fidelity targets on traces the allocator was not tuned on: 20 synthetic traces
 * ({@link SyntheticTrace}, seeds 1 to 20, 2,166 jobs each like the shared trace, so about 500 h
 * of submits) × 3 share vectors (the shared trace README's, equal shares, vc-6c71a0 at 60 %),
 * each replayed through coop's allocator on the shared trace's saturating cluster, 88 GPUs as
 * 11 × 8. Every account must end within ±2 pp of its fair target and the cluster at least 95 %
 * busy, measured as {@link SharedTraceReplayTest} measures the shared trace: over the first to
 * the last submit. Any allocator change is judged on these as well as on the shared trace.
 *
 * <p>The current allocator misses the ±2 pp on the runs in {@link #KNOWN_MISSES} (BENCHMARKS.md,
 * "Synthetic traces", has their figures): mostly an account whose jobs are whole nodes or
 * gangs (vc-2869ce) held below a target of less than a node or two, and the 60 % account held
 * 2 to 11 pp below its target. They are replayed and printed, and must still meet the
 * utilization target; every other run must meet both. A change that makes a known miss pass
 * is told so, so that the list only shrinks.
 */
class SyntheticTraceFidelityTest {
    static final int SEEDS = 20;
    static final int JOBS = 2166;
    static final double GAP_PP = 2.0;
    static final double UTILIZATION = 0.95;
    static final SimulatedCluster CLUSTER = SimulatedCluster.ofGpus(88);

    /** One replay's figures, and the account furthest from its target. */
    record Run(String vector, long seed, double utilization, double idealUtilization, double worstGapPp,
               AccountReport worst, double hours, int preemptions) {
        boolean meets() {
            return worstGapPp <= GAP_PP && utilization >= UTILIZATION;
        }

        @Override
        public String toString() {
            return String.format(Locale.ROOT,
                    "%s seed %d: utilization %.2f %% (ideal %.2f %%), worst gap %.2f pp (%s: target %.2f %%, achieved %.2f %%, "
                            + "entitled %.2f %%, %d jobs), %.0f h, %d preemptions",
                    vector, seed, 100 * utilization, 100 * idealUtilization, worstGapPp, worst.account(), worst.targetPercent(),
                    worst.achievedPercent(), worst.entitledPercent(), worst.jobs(), hours, preemptions);
        }
    }

    /** Runs of the allocator as it is that miss ±2 pp (never utilization), by vector: seeds. */
    static final Map<String, Set<Long>> KNOWN_MISSES = Map.of(
            "README vector", Set.of(2L, 3L, 4L, 5L, 6L, 7L, 8L, 9L, 10L, 11L, 14L, 15L, 17L, 20L),
            "equal shares", Set.of(2L, 3L, 4L, 5L, 9L, 10L, 11L, 15L, 16L, 18L, 19L),
            "vc-6c71a0 at 60 %", Set.of(2L, 3L, 4L, 5L, 6L, 7L, 9L, 10L, 11L, 12L, 13L, 15L, 16L, 17L, 18L, 19L,
                    20L));

    static Map<String, Shares> vectors() {
        Map<String, Shares> vectors = new LinkedHashMap<>();
        vectors.put("README vector", SharedTraceReplayTest.readmeShares());
        vectors.put("equal shares", Shares.equal(SyntheticTrace.accounts()));
        vectors.put("vc-6c71a0 at 60 %", skewed());
        return vectors;
    }

    /** vc-6c71a0 (mostly 1-GPU jobs, 12.6 % of Philly's GPU-hours) 60 %; 3 % each for the ten next, 2.5 % for four. */
    static Shares skewed() {
        Map<String, Integer> bp = new LinkedHashMap<>();
        List<String> others = new ArrayList<>(SyntheticTrace.accounts());
        others.remove("vc-6c71a0");
        bp.put("vc-6c71a0", 6000);
        for (int i = 0; i < others.size(); i++) {
            bp.put(others.get(i), i < 10 ? 300 : 250);
        }
        return new Shares(bp);
    }

    static Run replay(String vector, Shares shares, long seed) {
        Trace trace = SyntheticTrace.generate(seed, JOBS);
        // Nothing after the last submit is measured, so the replay stops there.
        SimulationOptions options = SimulationOptions.defaults().withUntilMs(trace.window().endMs());
        Simulator simulator = new Simulator(trace, CLUSTER, shares, options);
        FairShares target = FairTarget.compute(trace.jobs(), CLUSTER.capacity(), shares, simulator.window());
        PolicyReport r = Measures.of(simulator.run(new Allocator()), target, shares);
        AccountReport worst = r.accounts().stream().max(Comparator.comparingDouble(a -> Math.abs(a.gapPp())))
                .orElseThrow();
        return new Run(vector, seed, r.utilization(), r.idealUtilization(), r.worstGapPp(), worst, simulator.window().lengthMs() / 3.6e6,
                r.preemptions());
    }

    private static boolean knownMiss(Run r) {
        return KNOWN_MISSES.getOrDefault(r.vector(), Set.of()).contains(r.seed());
    }

    @Test
    void everyAccountWithinTwoPointsOfItsTargetAtNinetyFivePercentBusy() throws Exception {
        long t0 = System.nanoTime();
        List<Future<Run>> futures = new ArrayList<>();
        ExecutorService pool = Executors.newFixedThreadPool(Runtime.getRuntime().availableProcessors());
        try {
            for (Map.Entry<String, Shares> v : vectors().entrySet()) {
                for (long seed = 1; seed <= SEEDS; seed++) {
                    long s = seed;
                    futures.add(pool.submit(() -> replay(v.getKey(), v.getValue(), s)));
                }
            }
            List<Run> runs = new ArrayList<>();
            for (Future<Run> f : futures) {
                runs.add(f.get());
            }
            runs.forEach(System.out::println);
            for (String vector : vectors().keySet()) {
                List<Run> of = runs.stream().filter(r -> r.vector().equals(vector)).toList();
                System.out.printf(Locale.ROOT, "%s: worst gap %.2f pp, min utilization %.2f %%, misses %d/%d%n",
                        vector, of.stream().mapToDouble(Run::worstGapPp).max().orElseThrow(),
                        100 * of.stream().mapToDouble(Run::utilization).min().orElseThrow(),
                        of.stream().filter(r -> !r.meets()).count(), of.size());
            }
            System.out.printf(Locale.ROOT, "%d replays of %d jobs in %.1f s%n", runs.size(), JOBS,
                    (System.nanoTime() - t0) / 1e9);
            assertThat(runs.stream().filter(r -> r.utilization() < UTILIZATION).map(Run::toString).toList())
                    .as("replays under %.0f %% utilization", 100 * UTILIZATION).isEmpty();
            assertThat(runs.stream().filter(r -> !r.meets() && !knownMiss(r)).map(Run::toString).toList())
                    .as("replays missing ±%.0f pp that met it before", GAP_PP).isEmpty();
            assertThat(runs.stream().filter(r -> r.meets() && knownMiss(r)).map(Run::toString).toList())
                    .as("known misses that now meet ±%.0f pp: take them out of KNOWN_MISSES", GAP_PP).isEmpty();
        } finally {
            pool.shutdownNow();
        }
    }
}
