package coop.scheduler.sim;

import static coop.scheduler.sim.TraceKit.aTrace;
import static coop.scheduler.sim.TraceKit.shares;
import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class StaticPartitionPolicyTest {

    @Test
    void partitionsRoundByLargestRemainderAndSumToCapacity() {
        Map<String, Integer> parts = StaticPartitionPolicy.partitions(
                SharedTraceReplayTest.readmeShares().basisPoints(), 88);
        assertThat(parts.values().stream().mapToInt(Integer::intValue).sum()).isEqualTo(88);
        // 25 % of 88 = 22; 15 % = 13.2 → 13; 10 % = 8.8 → 8 (remainder .8 loses to the 1 % accounts' .88).
        // Floors: 22, 13, 13, 8, five × 4, 3, 1 and four × 0 = 80. The 8 GPUs left go to the largest
        // remainders: the four 1 % accounts (.88), vc-0e4a51 (.8), vc-11cb48 (.76), vc-103959 (.52), and of
        // the five 5 % accounts (.4 each) the first by name, vc-2869ce.
        assertThat(parts).containsEntry("vc-b436b2", 22).containsEntry("vc-ee9e8c", 13)
                .containsEntry("vc-0e4a51", 9).containsEntry("vc-795a4c", 1).containsEntry("vc-103959", 4)
                .containsEntry("vc-11cb48", 2).containsEntry("vc-2869ce", 5).containsEntry("vc-6214e9", 4);
        assertThat(StaticPartitionPolicy.partitions(Map.of("x", 5000, "y", 5000), 3)).containsEntry("x", 2)
                .containsEntry("y", 1);
    }

    @Test
    void anAccountNeverHoldsMoreThanItsPartition() {
        List<String> accounts = List.of("a", "b", "c");
        for (long seed = 1; seed <= 5; seed++) {
            Trace trace = TraceKit.random(seed, 300, accounts, new int[] {1, 2, 4});
            SimulatedCluster cluster = new SimulatedCluster(2, 8);
            Shares shares = shares("a", 50, "b", 30, "c", 20);
            // c's partition (3 GPUs) cannot hold its 4-GPU jobs, and strict partitions never run them.
            trace = new Trace("random", trace.jobs().stream().filter(j -> !(j.account().equals("c") && j.gpus() > 3))
                    .toList());
            SimulationResult r = new Simulator(trace, cluster, shares, SimulationOptions.defaults())
                    .run(new StaticPartitionPolicy(false));
            SimulatorTest.assertInvariants(trace, cluster, r);
            Map<String, Integer> parts = StaticPartitionPolicy.partitions(shares.basisPoints(), 16);
            assertThat(parts).containsEntry("a", 8).containsEntry("b", 5).containsEntry("c", 3);

            Map<String, List<long[]>> edges = new HashMap<>();
            for (AttemptRecord a : r.attempts()) {
                edges.computeIfAbsent(a.account(), k -> new ArrayList<>()).add(new long[] {a.startMs(), a.gpus()});
                edges.get(a.account()).add(new long[] {a.endMs(), -a.gpus()});
            }
            edges.forEach((account, list) -> {
                list.sort(Comparator.<long[]>comparingLong(e -> e[0]).thenComparingLong(e -> e[1]));
                long held = 0;
                for (long[] e : list) {
                    held += e[1];
                    assertThat(held).as(account + " at " + e[0]).isLessThanOrEqualTo(parts.get(account));
                }
            });
        }
    }

    @Test
    void anAccountIsBlockedOnlyByItsOwnJobs() {
        // 4 GPUs, a and b 2 each. a's 2-GPU job blocks a's later 1-GPU job, not b's.
        Trace trace = aTrace().job(0, "a", 1, 100).job(1, "a", 2, 10).job(2, "a", 1, 10).job(3, "b", 2, 10).build();
        SimulationResult r = new Simulator(trace, new SimulatedCluster(1, 4), shares("a", 50, "b", 50),
                SimulationOptions.defaults()).run(new StaticPartitionPolicy());
        assertThat(TraceKit.firstStarts(r)).containsEntry(1L, 0L).containsEntry(2L, 100_000L)
                .containsEntry(3L, 110_000L).containsEntry(4L, 3_000L);
    }

    @Test
    void aJobLargerThanItsPartitionRunsAloneOrNever() {
        Trace trace = aTrace().job(0, "a", 1, 100).job(1, "b", 2, 10).build();
        Shares shares = shares("a", 75, "b", 25);
        SimulationResult alone = new Simulator(trace, new SimulatedCluster(1, 4), shares,
                SimulationOptions.defaults()).run(new StaticPartitionPolicy());
        assertThat(TraceKit.firstStarts(alone)).containsEntry(2L, 1_000L);

        SimulationResult strict = new Simulator(trace, new SimulatedCluster(1, 4), shares,
                SimulationOptions.defaults()).run(new StaticPartitionPolicy(false));
        assertThat(strict.jobs().get(1).started()).isFalse();
    }
}
