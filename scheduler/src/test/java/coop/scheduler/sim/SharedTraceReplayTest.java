package coop.scheduler.sim;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import coop.scheduler.allocation.Allocator;
import coop.scheduler.allocation.SchedulingPolicy;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.Reader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The whole shared Philly trace replays through all three policies, once with the trace README's
 * share vector and once with equal shares, and must reproduce the Philly table of BENCHMARKS.md
 * (88 GPUs as 11 × 8, default options, the commands above that table). The trace is a copy
 * under the test resources ({@code traces/}, with its source and licence), so this runs on
 * every clone.
 *
 * <p>The simulator is deterministic, so the figures repeat to the last digit; the tolerances
 * only absorb the table's rounding and leave room for a change that moves a figure by less than
 * anyone reading the table would notice. A change that fails here changes what BENCHMARKS.md
 * reports: rerun the commands, update the table, then these rows.
 */
class SharedTraceReplayTest {
    private static final String TRACE = "/traces/philly-gavel-2166.csv";

    /** Utilization, in percentage points: the table rounds to 0.1. */
    private static final double UTILIZATION_PP = 0.3;
    /** Jain's index of achieved/target: the table rounds to 0.001. */
    private static final double JAIN = 0.005;
    /** Worst |achieved − target|, in percentage points: the table rounds to 0.1. */
    private static final double GAP_PP = 0.3;
    /** Preemptions, relative. */
    private static final double PREEMPTIONS = 0.05;
    /** Longest wait of a multi-node job, relative: the table rounds to the hour. */
    private static final double GANG_WAIT = 0.005;
    // Multi-node jobs waiting more than twice their FIFO wait: a count the table states exactly, and
    // the claim it makes ("none" with the README vector), so it must match exactly.

    /** A row of the table; {@code gangsOverTwice} is -1 for FIFO, the yardstick itself ("–"). */
    private record Row(String policy, double utilizationPct, double jain, double gapPp, int preemptions,
                       double gangWaitMaxH, int gangsOverTwice) {
    }

    private static Trace philly;

    @BeforeAll
    static void readTrace() {
        philly = philly();
    }

    /** The committed copy of the shared trace. */
    static Trace philly() {
        try (InputStream in = SharedTraceReplayTest.class.getResourceAsStream(TRACE)) {
            assertThat(in).as("test resource " + TRACE).isNotNull();
            try (Reader reader = new InputStreamReader(in, StandardCharsets.UTF_8)) {
                return TraceReader.read(reader, TRACE);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
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
    void readmeShareVectorReproducesTheBenchmarksTable() {
        replay("README vector", readmeShares(), List.of(
                new Row("coop", 97.8, 0.988, 1.4, 308, 4922, 0),
                new Row("fifo", 84.5, 0.691, 21.5, 0, 5993, -1),
                new Row("static", 81.9, 0.932, 3.7, 0, 7458, 3)));
    }

    @Test
    void equalSharesReproduceTheBenchmarksTable() {
        replay("equal shares", Shares.equal(philly.accounts()), List.of(
                new Row("coop", 98.5, 0.997, 1.3, 270, 4879, 11),
                new Row("fifo", 84.5, 0.742, 17.9, 0, 5993, -1),
                new Row("static", 53.8, 0.845, 6.9, 0, 17002, 22)));
    }

    private static void replay(String label, Shares shares, List<Row> table) {
        assertThat(philly.jobs()).hasSize(2166);
        List<SchedulingPolicy> policies = List.of(new Allocator(), new FifoPolicy(), new StaticPartitionPolicy());
        long t0 = System.nanoTime();
        Comparison.Outcome outcome = Comparison.run(philly, SimulatedCluster.ofGpus(88), shares,
                SimulationOptions.defaults(), policies, name -> SimulationProgress.NONE);
        double seconds = (System.nanoTime() - t0) / 1e9;

        assertThat(outcome.target().gpuSeconds().values().stream().mapToDouble(Double::doubleValue).sum())
                .isCloseTo(outcome.target().busyGpuSeconds(), within(1.0));
        SimulationResult fifo = outcome.entries().get(1).result();
        for (int i = 0; i < table.size(); i++) {
            Comparison.Entry e = outcome.entries().get(i);
            PolicyReport r = e.report();
            Row row = table.get(i);
            String as = label + ", " + r.policy();
            System.out.printf(Locale.ROOT, "%s: util %.2f %% jain %.4f worst gap %.2f pp preemptions %d "
                            + "gang wait max %.1f h%n",
                    as, 100 * r.utilization(), r.jain(), r.worstGapPp(), r.preemptions(), r.gangWaitMaxSeconds() / 3600);

            assertThat(r.policy()).isEqualTo(row.policy());
            assertThat(e.result().allFinished()).as(as + ": all jobs finished").isTrue();
            assertThat(r.finished()).as(as).isEqualTo(2166);
            assertThat(r.accounts().stream().mapToDouble(AccountReport::achievedPercent).sum()).as(as)
                    .isCloseTo(100, within(1e-6));
            assertThat(r.accounts().stream().mapToDouble(AccountReport::targetPercent).sum()).as(as)
                    .isCloseTo(100, within(1e-6));

            assertThat(100 * r.utilization()).as(as + ": utilization %").isCloseTo(row.utilizationPct(),
                    within(UTILIZATION_PP));
            assertThat(r.jain()).as(as + ": Jain").isCloseTo(row.jain(), within(JAIN));
            assertThat(r.worstGapPp()).as(as + ": worst gap pp").isCloseTo(row.gapPp(), within(GAP_PP));
            assertThat((double) r.preemptions()).as(as + ": preemptions")
                    .isCloseTo(row.preemptions(), within(PREEMPTIONS * row.preemptions()));
            assertThat(r.gangWaitMaxSeconds() / 3600).as(as + ": longest multi-node wait h")
                    .isCloseTo(row.gangWaitMaxH(), within(GANG_WAIT * row.gangWaitMaxH()));
            if (row.gangsOverTwice() >= 0) {
                GangWaits gangs = GangWaits.of(e.result(), fifo);
                assertThat(gangs.compared()).as(as + ": multi-node jobs compared with FIFO").isEqualTo(69);
                assertThat(gangs.overTwice()).as(as + ": multi-node jobs waiting > 2x FIFO")
                        .isEqualTo(row.gangsOverTwice());
            }
        }
        System.out.printf(Locale.ROOT, "%s: shared trace replayed with 3 policies in %.2f s%n", label, seconds);
    }
}
