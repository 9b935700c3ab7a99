package coop.scheduler.engine;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import coop.scheduler.domain.Attempt;
import coop.scheduler.domain.CoopException;
import coop.scheduler.domain.Gpu;
import coop.scheduler.domain.Job;
import coop.scheduler.domain.JobSpec;
import coop.scheduler.domain.JobState;
import coop.scheduler.domain.RankRef;
import coop.scheduler.domain.StopTerms;
import coop.scheduler.governance.TestMembers;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The preemption contract as the job sees it: whether it runs on borrowed GPUs
 * (COOP_PREEMPTIBLE), the signal it asked for on every stop with the reason word for its
 * coop-stop-reason file, requeue on timeout, and attempts' outcomes in words.
 */
class StopContractTest {
    @TempDir
    Path dir;
    private final FakeClock clock = new FakeClock();
    private final TestMembers keys = new TestMembers();
    private EngineFixture engine;

    @BeforeEach
    void found() {
        engine = EngineFixture.found(dir, clock, List.of(
                keys.member("alice", List.of("lab-a")),
                keys.member("bob", List.of("lab-b"))), List.of("lab-a", "lab-b"),
                EngineFixture.PREEMPT_AT_ONCE);
    }

    @AfterEach
    void close() {
        engine.close();
    }

    private long submit(String member, String account, long walltime, String signal, int requeue) throws Exception {
        return engine.call((s, tx) -> s.submit(member, new JobSpec(account, 1, 1, "", walltime, "true", 0, "",
                false, false, "", "", signal, requeue, java.util.Map.of(), ""), tx));
    }

    private RecordingLink connect(String node, int gpus) throws Exception {
        RecordingLink link = new RecordingLink();
        List<Gpu> list = EngineFixture.a100s(gpus);
        engine.call((s, tx) -> {
            s.hello(link, node, "s1", list, List.of(), "10.0.0.1", tx);
            return null;
        });
        return link;
    }

    private void exit(RecordingLink link, RankRef ref, int code, String reason) throws Exception {
        engine.call((s, tx) -> {
            s.exited(link, ref, code, reason, tx);
            return null;
        });
    }

    private Job job(long id) throws Exception {
        return engine.call((s, tx) -> s.job(id));
    }

    @Test
    void aBorrowerIsToldItIsPreemptibleAndWhyItWasStoppedWithTheSignalItAskedFor() throws Exception {
        RecordingLink n1 = connect("n1", 4);
        List<Long> ids = new ArrayList<>();
        for (int i = 0; i < 4; i++) {
            ids.add(submit("alice", "lab-a", 600, "B:USR1@30", 0));
        }
        assertThat(n1.launched).hasSize(4);
        int borrowed = 0;
        for (RecordingLink.Launched l : n1.launched) {
            Attempt a = job(l.ref().jobId()).current();
            assertThat(l.env()).containsEntry("COOP_PREEMPTIBLE", a.borrowed() ? "1" : "0");
            assertThat(l.stop()).isEqualTo(new StopTerms("USR1", 30, true, 0));
            borrowed += a.borrowed() ? 1 : 0;
        }
        // lab-a's share is half of 4 GPUs: two of its attempts run on GPUs lab-b lends.
        assertThat(borrowed).isEqualTo(2);

        long bobs = submit("bob", "lab-b", 600, "", 0);
        assertThat(n1.kills).singleElement().satisfies(k -> {
            assertThat(k.cause()).isEqualTo("preempted");
            assertThat(k.stop().signal()).isEqualTo("USR1");
            assertThat(k.graceSeconds()).isEqualTo(60);
        });
        RankRef victim = n1.kills.get(0).ref();
        assertThat(job(victim.jobId()).current().outcome())
                .isEqualTo("preempted by lab-b reclaiming its share for job " + bobs + " (lab-a had borrowed the GPUs)");
        exit(n1, victim, 138, "killed");
        assertThat(job(victim.jobId()).state()).isEqualTo(JobState.PENDING);

        long other = ids.stream().filter(id -> id != victim.jobId()).findFirst().orElseThrow();
        engine.call((s, tx) -> s.cancel("alice", other, tx));
        assertThat(n1.kills).last().satisfies(k -> {
            assertThat(k.ref().jobId()).isEqualTo(other);
            assertThat(k.cause()).isEqualTo("cancelled");
        });
        assertThat(job(other).current().outcome()).isEqualTo("cancelled by alice");
    }

    @Test
    void aPreemptedJobThatCheckpointsAndExitsZeroRunsAgainButOneThatEndedFirstIsDone() throws Exception {
        RecordingLink n1 = connect("n1", 4);
        for (int i = 0; i < 4; i++) {
            submit("alice", "lab-a", 600, "USR1@30", 0);
        }
        submit("bob", "lab-b", 600, "", 0);
        assertThat(n1.kills).hasSize(1);
        RankRef checkpointed = n1.kills.get(0).ref();
        // It caught USR1, saved its state and exited 0 once stopped: it has not finished its work.
        exit(n1, checkpointed, 0, "killed");
        assertThat(job(checkpointed.jobId()).state()).isEqualTo(JobState.PENDING);

        submit("bob", "lab-b", 600, "", 0);
        assertThat(n1.kills).hasSize(2);
        RankRef finishedFirst = n1.kills.get(1).ref();
        // It ended by itself before the agent stopped it: its work is done.
        exit(n1, finishedFirst, 0, "exited");
        assertThat(job(finishedFirst.jobId()).state()).isEqualTo(JobState.SUCCEEDED);
    }

    @Test
    void aTimedOutJobRunsAgainAsOftenAsItAskedThenEndsTimeout() throws Exception {
        RecordingLink n1 = connect("n1", 1);
        long id = submit("alice", "lab-a", 60, "", 1);
        exit(n1, new RankRef(id, 1, 0), 143, "walltime");
        Job requeued = job(id);
        assertThat(requeued.attempts().get(0).outcome())
                .isEqualTo("walltime of 60 s reached, requeued (timeout 1 of the 1 --requeue-on-timeout allows)");
        assertThat(requeued.state()).isEqualTo(JobState.RUNNING);
        assertThat(requeued.attemptNumber()).isEqualTo(2);

        exit(n1, new RankRef(id, 2, 0), 143, "walltime");
        Job failed = job(id);
        assertThat(failed.state()).isEqualTo(JobState.TIMEOUT);
        assertThat(failed.current().outcome())
                .isEqualTo("walltime of 60 s reached, not requeued: --requeue-on-timeout 1 used up");
    }

    @Test
    void withoutRequeueATimeoutEndsTheJobTimeout() throws Exception {
        RecordingLink n1 = connect("n1", 1);
        long id = submit("alice", "lab-a", 60, "", 0);
        exit(n1, new RankRef(id, 1, 0), 143, "walltime");
        assertThat(job(id).state()).isEqualTo(JobState.TIMEOUT);
        assertThat(job(id).current().outcome()).isEqualTo("walltime of 60 s reached");
    }

    @Test
    void aJobStoppedAtItsWalltimeThatExitsZeroIsTimeoutNotSucceededAndItsTimeIsCharged() throws Exception {
        RecordingLink n1 = connect("n1", 2);
        long id = submit("alice", "lab-a", 60, "", 0);
        long ok = submit("alice", "lab-a", 60, "", 0);
        // Less than the three heartbeat intervals (5 s here) after which the node would be lost.
        clock.advanceSeconds(10);
        // It caught SIGTERM at its walltime and exited 0: it did not finish its work.
        exit(n1, new RankRef(id, 1, 0), 0, "walltime");
        assertThat(job(id).state()).isEqualTo(JobState.TIMEOUT);
        assertThat(job(id).finishedAt()).isPositive();
        Accounting.AccountUsage used = engine.<Accounting.Usage>call((s, tx) -> s.usage()).accounts().stream()
                .filter(a -> a.account().equals("lab-a")).findFirst().orElseThrow();
        // Its 10 s are charged as a failed job's are, beside the 10 s so far of the one still running.
        assertThat(used.gpuSeconds()).isEqualTo(20.0);
        assertThat(engine.<Accounting.Census>call((s, tx) -> s.census()).jobs()).containsEntry(JobState.TIMEOUT, 1)
                .containsEntry(JobState.SUCCEEDED, 0);
        List<Job> listed = engine.call((s, tx) -> s.jobs("", EnumSet.of(JobState.TIMEOUT), 0));
        assertThat(listed).extracting(Job::id).containsExactly(id);

        exit(n1, new RankRef(ok, 1, 0), 0, "exited");
        assertThat(job(ok).state()).as("one that ends by itself still succeeds").isEqualTo(JobState.SUCCEEDED);
    }

    @Test
    void badStopTermsAreRefusedNamingTheFieldAndNothingIsStored() throws Exception {
        assertThatThrownBy(() -> submit("alice", "lab-a", 60, "KILL@5", 0))
                .isInstanceOfSatisfying(CoopException.class, e -> {
                    assertThat(e.kind()).isEqualTo(CoopException.Kind.INVALID_ARGUMENT);
                    assertThat(e.getMessage()).contains("signal").contains("USR1");
                });
        assertThatThrownBy(() -> submit("alice", "lab-a", 60, "USR1@120", 0))
                .isInstanceOfSatisfying(CoopException.class,
                        e -> assertThat(e.getMessage()).contains("signal", "120 s is longer than the walltime of 60 s"));
        assertThatThrownBy(() -> submit("alice", "lab-a", 60, "USR1@soon", 0))
                .isInstanceOfSatisfying(CoopException.class, e -> assertThat(e.getMessage()).contains("signal"));
        assertThatThrownBy(() -> submit("alice", "lab-a", 60, "", -1))
                .isInstanceOfSatisfying(CoopException.class,
                        e -> assertThat(e.getMessage()).contains("requeue_on_timeout"));
        assertThat((List<?>) engine.call((s, tx) -> s.jobs(null, EnumSet.allOf(JobState.class), 0))).isEmpty();

        long id = submit("alice", "lab-a", 60, "sigusr2", 3);
        assertThat(job(id).stop()).isEqualTo(new StopTerms("USR2", 60, false, 3));
        engine.restart();
        assertThat(job(id).stop().text()).isEqualTo("USR2@60");
    }
}
