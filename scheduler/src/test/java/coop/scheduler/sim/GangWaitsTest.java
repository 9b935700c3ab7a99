package coop.scheduler.sim;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;

class GangWaitsTest {
    private static JobOutcome outcome(long id, int nodes, long submitMs, long startMs) {
        TraceJob job = new TraceJob(id, (int) id, submitMs, "vc-a", 8 * nodes, 3_600_000, "");
        return new JobOutcome(job, 8, nodes, startMs, startMs < 0 ? -1 : startMs + 3_600_000, 1, 0);
    }

    private static SimulationResult result(String policy, JobOutcome... jobs) {
        return new SimulationResult(policy, null, null, 0, List.of(jobs), List.of(), 0, 0, 0, 0);
    }

    @Test
    void countsGangsThatWaitedMoreThanTwiceTheirFifoWait() {
        SimulationResult fifo = result("fifo", outcome(1, 2, 0, 1000), outcome(2, 2, 0, 1000),
                outcome(3, 1, 0, 0), outcome(4, 2, 0, 500), outcome(5, 2, 0, -1));
        SimulationResult coop = result("coop", outcome(1, 2, 0, 2000), outcome(2, 2, 0, 2001),
                outcome(3, 1, 0, 90_000), outcome(4, 2, 0, 4000), outcome(5, 2, 0, 10));
        GangWaits g = GangWaits.of(coop, fifo);
        // Job 1 waited exactly twice (allowed); 2 and 4 more; 3 is not a gang; 5 never started under FIFO.
        assertThat(g.compared()).isEqualTo(3);
        assertThat(g.overTwice()).isEqualTo(2);
        assertThat(g.worstJobId()).isEqualTo(4);
        assertThat(g.worstWaitS()).isEqualTo(4.0);
        assertThat(g.worstFifoS()).isEqualTo(0.5);
    }
}
