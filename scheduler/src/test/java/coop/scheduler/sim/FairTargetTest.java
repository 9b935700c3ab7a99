package coop.scheduler.sim;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class FairTargetTest {
    private static final long H = 3_600_000;
    private final List<TraceJob> jobs = new ArrayList<>();

    private void job(long submitMs, String account, int gpus, long durationMs) {
        jobs.add(new TraceJob(jobs.size() + 1, jobs.size() + 2, submitMs, account, gpus, durationMs, ""));
    }

    private static Shares fiftyFifty() {
        return new Shares(Map.of("a", 5000, "b", 5000));
    }

    @Test
    void twoSaturatingAccountsWithEqualSharesSplitEvenly() {
        for (int i = 0; i < 10; i++) {
            job(0, "a", 4, 100 * H);
            job(0, "b", 4, 100 * H);
        }
        FairShares fair = FairTarget.compute(jobs, 10, fiftyFifty(), new Window(0, 10 * H));

        assertThat(fair.percent("a")).isCloseTo(50, within(1e-9));
        assertThat(fair.percent("b")).isCloseTo(50, within(1e-9));
        assertThat(fair.busyGpuSeconds()).isCloseTo(10 * 10 * 3600, within(1e-6));
        assertThat(fair.utilization()).isCloseTo(1, within(1e-12));
    }

    @Test
    void anIdleAccountsShareFlowsToTheOther() {
        // a alone for the first half (all 10 GPUs: 10 × 5 h), then 5 each for the second half.
        job(0, "a", 10, 100 * H);
        job(5 * H, "b", 10, 100 * H);
        FairShares fair = FairTarget.compute(jobs, 10, fiftyFifty(), new Window(0, 10 * H));

        assertThat(fair.gpuSeconds().get("a")).isCloseTo((50 + 25) * 3600.0, within(1e-6));
        assertThat(fair.gpuSeconds().get("b")).isCloseTo(25 * 3600.0, within(1e-6));
        assertThat(fair.percent("a")).isCloseTo(75, within(1e-9));
        assertThat(fair.percent("b")).isCloseTo(25, within(1e-9));
    }

    @Test
    void aDemandCappedAccountGetsItsDemandAndTheRestFlowsOn() {
        job(0, "a", 2, 100 * H);
        for (int i = 0; i < 20; i++) {
            job(0, "b", 1, 100 * H);
        }
        FairShares fair = FairTarget.compute(jobs, 10, fiftyFifty(), new Window(0, 10 * H));

        assertThat(fair.percent("a")).isCloseTo(20, within(1e-9));
        assertThat(fair.percent("b")).isCloseTo(80, within(1e-9));
    }

    @Test
    void jobsOfAnAccountGetItsGpusInSubmitOrderAndFinishByTheFluidRate() {
        // One account, 4 GPUs: job 1 (4 GPUs, 1 h) runs alone; job 2 (2 GPUs, 1 h) waits for it,
        // then runs 1 h on 2 GPUs. The window [0, 3 h] holds 4·1 + 2·1 = 6 GPU-hours.
        job(0, "a", 4, H);
        job(0, "a", 2, H);
        job(3 * H, "b", 1, H);
        FairShares fair = FairTarget.compute(jobs, 4, fiftyFifty(), new Window(0, 3 * H));

        assertThat(fair.gpuSeconds().get("a")).isCloseTo(6 * 3600.0, within(1e-6));
        assertThat(fair.utilization()).isCloseTo(0.5, within(1e-12));
    }

    @Test
    void weightsSplitByShareAndAZeroShareGetsOnlyTheLeftovers() {
        for (int i = 0; i < 10; i++) {
            job(0, "a", 1, 100 * H);
            job(0, "b", 1, 100 * H);
        }
        job(0, "c", 1, 100 * H);
        FairShares fair = FairTarget.compute(jobs, 10, new Shares(Map.of("a", 7500, "b", 2500, "c", 0)),
                new Window(0, H));
        assertThat(fair.percent("a")).isCloseTo(75, within(1e-9));
        assertThat(fair.percent("b")).isCloseTo(25, within(1e-9));
        assertThat(fair.percent("c")).isZero();

        jobs.clear();
        job(0, "a", 2, 100 * H);
        job(0, "c", 8, 100 * H);
        fair = FairTarget.compute(jobs, 4, new Shares(Map.of("a", 10000, "c", 0)), new Window(0, H));
        assertThat(fair.percent("a")).isCloseTo(50, within(1e-9));
        assertThat(fair.percent("c")).isCloseTo(50, within(1e-9));
    }
}
