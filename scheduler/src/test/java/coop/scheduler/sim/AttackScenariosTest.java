package coop.scheduler.sim;

import static coop.scheduler.sim.TraceKit.aTrace;
import static coop.scheduler.sim.TraceKit.shares;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import coop.scheduler.allocation.Allocator;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Two ways a cooperative's shares were broken by the shape of one account's jobs, replayed
 * through the real allocator on a simulated clock: a whole-cluster gang starving behind two
 * accounts' streams of single-GPU jobs, and an account that submits only gangs larger than its
 * fractional entitlement missing its voted share while GPUs idled for a reservation that could
 * never start. Every job's walltime is a fixed multiple of its run time, so that, as with the
 * live default walltime, jobs of one size all look alike to the reservation.
 */
class AttackScenariosTest {

    /** Each account's share, in percent, of the busy GPU time in {@code [fromMs, toMs)}, and the utilization. */
    private static Map<String, Double> achieved(SimulationResult r, long fromMs, long toMs, int capacity) {
        Map<Long, String> accountOf = new HashMap<>();
        r.jobs().forEach(j -> accountOf.put(j.job().id(), j.job().account()));
        Map<String, Double> gpuMs = new HashMap<>();
        double total = 0;
        for (AttemptRecord a : r.attempts()) {
            long s = Math.max(fromMs, a.startMs());
            long e = Math.min(toMs, a.endMs());
            if (e > s) {
                double g = (double) (e - s) * a.placements().stream().mapToInt(p -> p.gpuIndices().size()).sum();
                gpuMs.merge(accountOf.get(a.jobId()), g, Double::sum);
                total += g;
            }
        }
        double busy = total;
        gpuMs.replaceAll((k, v) -> 100 * v / busy);
        gpuMs.put("utilization", 100 * busy / ((double) (toMs - fromMs) * capacity));
        return gpuMs;
    }

    @Test
    void aWholeClusterGangStartsOnceTheJobsRunningAtItsSubmissionEndWhileTwoAccountsFloodSmallJobs() {
        TraceKit t = aTrace();
        for (int i = 0; i < 1200; i++) {
            t.job(i * 0.5, "b", 1, 20);
            t.job(i * 0.5, "c", 1, 20);
        }
        t.job(30, "a", 12, 60);
        SimulationResult r = new Simulator(t.build(), new SimulatedCluster(3, 4), shares("a", 34, "b", 33, "c", 33),
                SimulationOptions.defaults().withWalltimeFactor(1000)).run(new Allocator());

        JobOutcome gang = r.jobs().stream().filter(j -> j.job().account().equals("a")).findFirst().orElseThrow();
        System.out.printf("AttackScenariosTest: whole-cluster gang waited %.1f s%n",
                (gang.firstStartMs() - gang.job().submitMs()) / 1000.0);
        // Nothing that would end after its reserved start may backfill: it waits at most for the
        // 20 s jobs already running, not for the others' queues to empty (about 4,000 s).
        assertThat(gang.firstStartMs() - gang.job().submitMs()).isLessThanOrEqualTo(21_000);
    }

    @ParameterizedTest(name = "shares {0}/{1}/{2}")
    @CsvSource({"50,30,20", "20,30,50"})
    void anAccountThatSubmitsOnlyGangsHoldsItsShareBesideSingleGpuFloods(int a, int b, int c) {
        // 6 nodes of 2 GPUs: lab a's 4-GPU jobs are 2-node gangs, larger than a fifth of 12 GPUs.
        TraceKit t = aTrace();
        for (int i = 0; i < 60; i++) {
            t.job(i * 10, "a", 4, 40);
        }
        for (int i = 0; i < 600; i++) {
            t.job(i, "b", 1, 20);
            t.job(i, "c", 1, 20);
        }
        SimulationResult r = new Simulator(t.build(), new SimulatedCluster(6, 2), shares("a", a, "b", b, "c", c),
                SimulationOptions.defaults().withWalltimeFactor(1000)).run(new Allocator());

        Map<String, Double> window = achieved(r, 0, 600_000, 12);
        System.out.printf("AttackScenariosTest: shares %d/%d/%d, gang-only a, 0-600 s: a %.1f, b %.1f, c %.1f, "
                + "utilization %.1f%%%n", a, b, c, window.get("a"), window.get("b"), window.get("c"),
                window.get("utilization"));
        assertThat(window.get("a")).as("a's share of 0-600 s: %s", window).isCloseTo(a, within(5.0));
        assertThat(window.get("b")).as("b's share of 0-600 s: %s", window).isCloseTo(b, within(5.0));
        assertThat(window.get("c")).as("c's share of 0-600 s: %s", window).isCloseTo(c, within(5.0));
        // No GPU is held idle for a gang the rules would not let start; some are, while nodes
        // drain for a gang that will (87 % when GPUs waited for a gang that was not due).
        assertThat(window.get("utilization")).as("utilization: %s", window).isGreaterThan(90.0);
    }
}
