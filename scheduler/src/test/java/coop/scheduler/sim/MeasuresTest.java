package coop.scheduler.sim;

import static coop.scheduler.sim.TraceKit.aTrace;
import static coop.scheduler.sim.TraceKit.shares;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import org.junit.jupiter.api.Test;

class MeasuresTest {

    @Test
    void measuresAHandCheckedFifoReplay() {
        // 2 GPUs. FIFO: job 1 (a, 2 GPUs, 10 s) runs 0–10; jobs 2 and 3 (b, 1 GPU, 5 s) run 10–15.
        // Window [0, 15 s]: a has 20 GPU-s, b 10, the cluster is busy throughout.
        // The ideal: a alone for 1 s (2 GPU-s), then 1 GPU each until b's jobs are done at 6 and 11 s,
        // then a gets both GPUs and finishes at 15 s: a 20 GPU-s, b 10 — the same split.
        Trace trace = aTrace().job(0, "a", 2, 10).job(1, "b", 1, 5).job(2, "b", 1, 5).build();
        Shares shares = shares("a", 50, "b", 50);
        SimulationOptions options = SimulationOptions.defaults().withWindow(new Window(0, 15_000));
        Simulator simulator = new Simulator(trace, new SimulatedCluster(1, 2), shares, options);
        FairShares target = FairTarget.compute(trace.jobs(), 2, shares, simulator.window());
        PolicyReport r = Measures.of(simulator.run(new FifoPolicy()), target, shares);

        AccountReport a = r.account("a");
        AccountReport b = r.account("b");
        assertThat(a.entitledPercent()).isEqualTo(50);
        assertThat(a.achievedPercent()).isCloseTo(200.0 / 3, within(1e-9));
        assertThat(a.targetPercent()).isCloseTo(200.0 / 3, within(1e-9));
        assertThat(b.achievedPercent()).isCloseTo(100.0 / 3, within(1e-9));
        assertThat(b.gapPp()).isCloseTo(0, within(1e-9));
        assertThat(b.waitMeanSeconds()).isEqualTo(8.5);
        assertThat(b.waitP99Seconds()).isEqualTo(9);
        assertThat(b.completionMeanSeconds()).isEqualTo(13.5);
        assertThat(a.completionMeanSeconds()).isEqualTo(10);
        assertThat(r.utilization()).isCloseTo(1, within(1e-12));
        assertThat(r.idealUtilization()).isCloseTo(1, within(1e-12));
        assertThat(r.jain()).isCloseTo(1, within(1e-12));
        assertThat(r.worstGapPp()).isCloseTo(0, within(1e-9));
        assertThat(r.gangWaitMaxSeconds()).isNaN();
        assertThat(r.finished()).isEqualTo(3);
        // While jobs 2 and 3 waited, both GPUs were busy: nothing pending ever fit.
        assertThat(r.utilizationWhileFitPending()).isNaN();
    }

    @Test
    void jainsIndexAndGapsShowAnUnfairSplit() {
        // FIFO, 2 GPUs: a's job (2 GPUs, 20 s) holds the cluster until 20 s; b's (1 GPU, 10 s) waits.
        // Ideal over [0, 20 s]: a has 2 GPUs for 1 s, 1 GPU while b's job runs (1–11 s), then 2 again:
        // a 2 + 10 + 18 = 30 GPU-s, b 10; targets 75 % and 25 %. Achieved: 100 % and 0 %.
        Trace trace = aTrace().job(0, "a", 2, 20).job(1, "b", 1, 10).build();
        Shares shares = shares("a", 50, "b", 50);
        SimulationOptions options = SimulationOptions.defaults().withWindow(new Window(0, 20_000));
        Simulator simulator = new Simulator(trace, new SimulatedCluster(1, 2), shares, options);
        FairShares target = FairTarget.compute(trace.jobs(), 2, shares, simulator.window());
        PolicyReport r = Measures.of(simulator.run(new FifoPolicy()), target, shares);

        assertThat(r.account("a").targetPercent()).isCloseTo(75, within(1e-9));
        assertThat(r.account("a").gapPp()).isCloseTo(25, within(1e-9));
        assertThat(r.account("b").gapPp()).isCloseTo(-25, within(1e-9));
        assertThat(r.worstGapPp()).isCloseTo(25, within(1e-9));
        // x = achieved/target = (4/3, 0): J = (4/3)^2 / (2 * (4/3)^2) = 0.5.
        assertThat(r.jain()).isCloseTo(0.5, within(1e-9));
        assertThat(r.account("b").waitMeanSeconds()).isEqualTo(19);
        assertThat(r.utilization()).isCloseTo(1, within(1e-12));
    }
}
