package coop.bench.replay;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import coop.scheduler.domain.Placement;
import coop.scheduler.sim.AttemptRecord;
import coop.scheduler.sim.JobOutcome;
import coop.scheduler.sim.SimulatedCluster;
import coop.scheduler.sim.SimulationResult;
import coop.scheduler.sim.Trace;
import coop.scheduler.sim.TraceJob;
import coop.scheduler.sim.Window;
import coop.v1.Attempt;
import coop.v1.Job;
import coop.v1.JobState;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The live record in the simulator's terms, the simulated replay cut at the live stop, and the trace order as priority. */
class LiveRecordTest {
    private static final long T0 = 1_700_000_000_000L;
    private static final SimulatedCluster CLUSTER = new SimulatedCluster(2, 4);

    private static TraceJob job(long id, long submitMs, String account, int gpus, long durationMs) {
        return new TraceJob(id, (int) id + 1, submitMs, account, gpus, durationMs, "");
    }

    private static Attempt attempt(int number, long startMs, long endMs, String outcome, int exit, String node,
                                   Integer... gpus) {
        return Attempt.newBuilder().setNumber(number).setStartedAtMs(T0 + startMs)
                .setFinishedAtMs(endMs == 0 ? 0 : T0 + endMs).setOutcome(outcome).setExitCode(exit)
                .setGpus(gpus.length).addPlacements(coop.v1.Placement.newBuilder().setNode(node).setSite("sim")
                        .addAllGpuIndices(List.of(gpus)))
                .build();
    }

    @Test
    void attemptsBecomeTheSimulatorsRecordWithPreemptionsAndWaitsFromTheTraceTime() {
        Trace trace = new Trace("t", List.of(job(1, 0, "a", 4, 5_000), job(2, 1_000, "b", 4, 3_000),
                job(3, 2_000, "b", 8, 1_000)));
        // Job 1 runs on n1 0..2.5 s, is preempted, and finishes in a second attempt 5..8.5 s on n2.
        Job j1 = Job.newBuilder().setId(11).setAccount("a").setState(JobState.SUCCEEDED).setSubmittedAtMs(T0 + 5)
                .setFinishedAtMs(T0 + 8_500)
                .addAttempts(attempt(1, 10, 2_500, "preempted for job 12: ...", 137, "n1", 0, 1, 2, 3))
                .addAttempts(attempt(2, 5_000, 8_500, "exited", 0, "n2", 0, 1, 2, 3)).build();
        // Job 2 takes n1 at 2.5 s and succeeds; job 3 never starts and is cancelled at the stop.
        Job j2 = Job.newBuilder().setId(12).setAccount("b").setState(JobState.SUCCEEDED).setSubmittedAtMs(T0 + 1_020)
                .setFinishedAtMs(T0 + 5_560).addAttempts(attempt(1, 2_500, 5_560, "exited", 0, "n1", 0, 1, 2, 3))
                .build();
        Job j3 = Job.newBuilder().setId(13).setAccount("b").setState(JobState.CANCELLED).setSubmittedAtMs(T0 + 2_010)
                .setFinishedAtMs(T0 + 10_100).build();
        LiveReplay.Run run = new LiveReplay.Run(T0, T0 + 10_000, Map.of(1L, 11L, 2L, 12L, 3L, 13L),
                List.of(j3, j2, j1));

        LiveRecord record = LiveRecord.of(run, trace, CLUSTER, new Window(0, 2_000), "live");
        SimulationResult r = record.result();

        assertThat(r.endMs()).isEqualTo(10_000);
        assertThat(r.attempts()).extracting(AttemptRecord::jobId, AttemptRecord::startMs, AttemptRecord::endMs,
                AttemptRecord::completed).containsExactly(
                        org.assertj.core.groups.Tuple.tuple(1L, 10L, 2_500L, false),
                        org.assertj.core.groups.Tuple.tuple(1L, 5_000L, 8_500L, true),
                        org.assertj.core.groups.Tuple.tuple(2L, 2_500L, 5_560L, true));
        assertThat(r.attempts().get(0).placements())
                .containsExactly(new Placement("n1", "sim", "", List.of(0, 1, 2, 3)));
        JobOutcome o1 = r.jobs().get(0);
        assertThat(o1.preemptions()).isEqualTo(1);
        assertThat(o1.attempts()).isEqualTo(2);
        assertThat(o1.waitMs()).isEqualTo(10);
        assertThat(o1.completionMs()).isEqualTo(8_500);
        assertThat(r.jobs().get(1).waitMs()).as("wait counts from the trace's submit time").isEqualTo(1_500);
        JobOutcome o3 = r.jobs().get(2);
        assertThat(o3.started()).isFalse();
        assertThat(o3.finished()).isFalse();
        assertThat(o3.gang()).isTrue();

        assertThat(r.maxGpusInUse()).isEqualTo(8);
        // In the window [0, 2 s] only job 2 waits with GPUs free (n2), from its live submit at
        // 1.02 s plus the reaction time to the window's end, while 4 of 8 GPUs are busy.
        long fitFrom = 1_020 + LiveRecord.REACTION_MS;
        assertThat(r.fitPendingMs()).isEqualTo(2_000 - fitFrom);
        assertThat(r.busyWhileFitPendingGpuMs()).isEqualTo(4.0 * (2_000 - fitFrom));
        LiveRecord.Anomalies a = record.anomalies();
        assertThat(a.failed()).isZero();
        assertThat(a.maxSubmitLagMs()).isEqualTo(20);
        assertThat(a.meanSubmitLagMs()).isCloseTo((5 + 20 + 10) / 3.0, within(1e-9));
        assertThat(a.maxOverrunMs()).as("job 2 held its GPUs 3.06 s for a run time of 3 s").isEqualTo(60);
    }

    @Test
    void aSimulatedReplayCutAtTheLiveStopKeepsOnlyWhatHappenedBefore() {
        TraceJob a = job(1, 0, "a", 4, 5_000);
        TraceJob b = job(2, 0, "b", 4, 2_000);
        List<Placement> n1 = List.of(new Placement("n1", "sim", "GPU", List.of(0, 1, 2, 3)));
        SimulationResult full = new SimulationResult("coop", CLUSTER, new Window(0, 0), 9_000,
                List.of(new JobOutcome(a, 4, 1, 0, 9_000, 2, 1), new JobOutcome(b, 4, 1, 1_000, 3_000, 1, 0)),
                List.of(new AttemptRecord(1, 1, "a", n1, 0, 1_000, false),
                        new AttemptRecord(2, 1, "b", n1, 1_000, 3_000, true),
                        new AttemptRecord(1, 2, "a", n1, 3_000, 7_000, true)),
                0, 0, 4, 3);

        SimulationResult cut = Horizon.cut(full, 4_000);

        assertThat(cut.endMs()).isEqualTo(4_000);
        assertThat(cut.attempts()).extracting(AttemptRecord::endMs, AttemptRecord::completed)
                .containsExactly(org.assertj.core.groups.Tuple.tuple(1_000L, false),
                        org.assertj.core.groups.Tuple.tuple(3_000L, true),
                        org.assertj.core.groups.Tuple.tuple(4_000L, false));
        assertThat(cut.jobs().get(0).finished()).isFalse();
        assertThat(cut.jobs().get(0).preemptions()).isEqualTo(1);
        assertThat(cut.jobs().get(0).attempts()).isEqualTo(2);
        assertThat(cut.jobs().get(1).finishedMs()).isEqualTo(3_000);
        assertThat(Horizon.cut(full, 500).jobs().get(1).started()).isFalse();
    }

    @Test
    void theTraceOrderWithinAnAccountBecomesADescendingPriority() {
        Trace trace = new Trace("t", List.of(job(1, 0, "a", 1, 1), job(2, 0, "b", 1, 1), job(3, 0, "a", 1, 1),
                job(4, 5, "a", 1, 1)));
        assertThat(LiveReplay.priorities(trace)).containsExactlyInAnyOrderEntriesOf(
                Map.of(1L, 1000, 2L, 1000, 3L, 999, 4L, 998));
    }
}
