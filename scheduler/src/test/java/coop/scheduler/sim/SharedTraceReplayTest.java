package coop.scheduler.sim;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import coop.scheduler.allocation.Allocator;
import coop.scheduler.allocation.SchedulingPolicy;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The whole shared Philly trace replays through all three policies; structural checks only. */
class SharedTraceReplayTest {
    private static final String TRACE = "shared/traces/philly-gavel-2166.csv";

    static Path sharedTrace() {
        for (String prefix : List.of("../../", "../", "")) {
            Path p = Path.of(prefix + TRACE);
            if (Files.isRegularFile(p)) {
                return p;
            }
        }
        return null;
    }

    static Shares readmeShares() {
        return new Shares(Map.ofEntries(Map.entry("vc-b436b2", 2500), Map.entry("vc-ee9e8c", 1500),
                Map.entry("vc-6c71a0", 1500), Map.entry("vc-0e4a51", 1000), Map.entry("vc-6214e9", 500),
                Map.entry("vc-7f04ca", 500), Map.entry("vc-2869ce", 500), Map.entry("vc-e13805", 500),
                Map.entry("vc-ed69ec", 500), Map.entry("vc-103959", 400), Map.entry("vc-11cb48", 200),
                Map.entry("vc-925e2b", 100), Map.entry("vc-51b7ef", 100), Map.entry("vc-23dbec", 100),
                Map.entry("vc-795a4c", 100)));
    }

    @Test
    void replaysTheWholeTraceWithAllThreePolicies() {
        Path file = sharedTrace();
        assumeTrue(file != null, "shared trace " + TRACE + " not found next to the repository; skipped");
        Trace trace = TraceReader.read(file);
        assertThat(trace.jobs()).hasSize(2166);
        List<SchedulingPolicy> policies = List.of(new Allocator(), new FifoPolicy(), new StaticPartitionPolicy());
        long t0 = System.nanoTime();
        long[] started = {t0};
        Comparison.Outcome outcome = Comparison.run(trace, SimulatedCluster.ofGpus(88), readmeShares(),
                SimulationOptions.defaults(), policies, name -> (done, total) -> {
                    if (done == total) {
                        long t = System.nanoTime();
                        System.out.printf(Locale.ROOT, "%s replayed in %.2f s%n", name, (t - started[0]) / 1e9);
                        started[0] = t;
                    }
                });
        double seconds = (System.nanoTime() - t0) / 1e9;

        assertThat(outcome.target().gpuSeconds().values().stream().mapToDouble(Double::doubleValue).sum())
                .isCloseTo(outcome.target().busyGpuSeconds(), within(1.0));
        for (Comparison.Entry e : outcome.entries()) {
            PolicyReport r = e.report();
            assertThat(e.result().allFinished()).as(r.policy() + ": all jobs finished").isTrue();
            assertThat(r.finished()).isEqualTo(2166);
            assertThat(r.utilization()).as(r.policy()).isGreaterThan(0).isLessThanOrEqualTo(1);
            assertThat(r.accounts().stream().mapToDouble(AccountReport::achievedPercent).sum()).isCloseTo(100, within(1e-6));
            assertThat(r.accounts().stream().mapToDouble(AccountReport::targetPercent).sum()).isCloseTo(100, within(1e-6));
            System.out.printf(Locale.ROOT, "%-7s util %.3f (while fit pending %.3f, ideal %.3f) jain %.3f worst gap %.1f pp "
                            + "preemptions %d gang wait max %.1f h mean wait %.1f h cycles %d%n",
                    r.policy(), r.utilization(), r.utilizationWhileFitPending(), r.idealUtilization(), r.jain(),
                    r.worstGapPp(), r.preemptions(), r.gangWaitMaxSeconds() / 3600, r.waitMeanSeconds() / 3600,
                    e.result().cycles());
        }
        System.out.printf(Locale.ROOT, "shared trace replayed with 3 policies in %.2f s%n", seconds);
    }
}
