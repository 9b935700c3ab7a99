package coop.scheduler.engine;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import coop.scheduler.domain.ArraySpec;
import coop.scheduler.domain.CoopException;
import coop.scheduler.domain.Gpu;
import coop.scheduler.domain.Job;
import coop.scheduler.domain.JobArray;
import coop.scheduler.domain.JobSpec;
import coop.scheduler.domain.JobState;
import coop.scheduler.domain.Params;
import coop.scheduler.domain.RankRef;
import coop.scheduler.governance.TestMembers;
import coop.scheduler.store.Store;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Job arrays: the index syntax and its refusals, expansion into tasks stored in one batch, the
 * per-member waiting cap counted in tasks, cancelling an array, and an array after a restart. On a
 * real RocksDB store with a hand-moved clock, as {@link EngineTest}.
 */
class JobArrayTest {
    private static final long MAX_WAITING = 50;

    @TempDir
    Path dir;
    private final FakeClock clock = new FakeClock();
    private final TestMembers keys = new TestMembers();
    private EngineFixture engine;

    @BeforeEach
    void found() {
        engine = EngineFixture.found(dir, clock, List.of(keys.member("alice", List.of("lab-a")),
                        keys.member("bob", List.of("lab-a")), keys.member("carol", List.of("lab-b"))),
                List.of("lab-a", "lab-b"), Params.DEFAULTS.with(Map.of("max_pending_per_member", MAX_WAITING)));
    }

    private void restart() {
        engine.restart();
    }

    @AfterEach
    void close() {
        engine.close();
    }

    private <T> T call(EventLoop.Command<T> c) throws Exception {
        return engine.call(c);
    }

    private JobBook.Submitted submit(String member, String array) throws Exception {
        return call((s, tx) -> s.submitJobs(member, new JobSpec("lab-a", 1, 1, "", 60, "true", 0, "sweep",
                false, false, "", array), tx));
    }

    private RecordingLink connect(String node, int gpus) throws Exception {
        RecordingLink link = new RecordingLink();
        List<Gpu> list = EngineFixture.a100s(gpus);
        call((s, tx) -> {
            s.hello(link, node, "s1", list, List.of(), "10.0.0.1", tx);
            return null;
        });
        return link;
    }

    private void exit(RecordingLink link, RankRef ref, int code) throws Exception {
        call((s, tx) -> {
            s.exited(link, ref, code, "exited", tx);
            return null;
        });
    }

    @Test
    void theIndexSyntaxIsSlurms() {
        assertThat(ArraySpec.parse("0-4")).containsExactly(0, 1, 2, 3, 4);
        assertThat(ArraySpec.parse("0-9:3")).containsExactly(0, 3, 6, 9);
        assertThat(ArraySpec.parse("7, 1,3")).containsExactly(1, 3, 7);
        assertThat(ArraySpec.parse("1-3,10-20:5,99")).containsExactly(1, 2, 3, 10, 15, 20, 99);
        assertThat(ArraySpec.parse("5")).containsExactly(5);
        assertThat(ArraySpec.parse("0-9999")).hasSize(ArraySpec.MAX_TASKS);
    }

    @Test
    void badIndicesAreRefusedNamingTheFieldAndTheRule() {
        assertRefused("-1", "not an index");
        assertRefused("0--3", "not an index");
        assertRefused("a-b", "not an index");
        assertRefused("1,,2", "not an index");
        assertRefused("", "is empty");
        assertRefused("5-1", "ends before it starts");
        assertRefused("0-9:0", "step of 0-9:0 must be between 1 and 999999");
        assertRefused("1,2,1", "index 1 appears more than once");
        assertRefused("0-3,2-5", "index 2 appears more than once");
        assertRefused("0-10000", "at most 10000 tasks");
        assertRefused("1000000", "index 1000000 is beyond the largest allowed index, 999999");
        assertRefused("9999999999", "index 9999999999 is beyond the largest allowed index, 999999");
        assertRefused("0-2147483647", "index 2147483647 is beyond the largest allowed index, 999999");
        assertRefused("0-99999999999999999999", "index 99999999999999999999 is beyond the largest allowed index");
        assertRefused("0-99:4294967296", "step of 0-99:4294967296 must be between 1 and 999999");
        assertRefused("0-999999", "at most 10000 tasks");
        assertThat(ArraySpec.parse("0000000000007")).containsExactly(7);
    }

    private static void assertRefused(String text, String rule) {
        assertThatThrownBy(() -> ArraySpec.parse(text)).isInstanceOfSatisfying(CoopException.class, e -> {
            assertThat(e.kind()).isEqualTo(CoopException.Kind.INVALID_ARGUMENT);
            assertThat(e.getMessage()).startsWith("array: ").contains(rule);
        });
    }

    @Test
    void anArrayIsStoredWholeInOneBatchAndEachTaskKnowsItsIndex() throws Exception {
        RecordingLink n1 = connect("n1", 2);
        Store.Counters before = engine.store().counters();
        JobBook.Submitted done = submit("alice", "0-8:2");
        Store.Counters after = engine.store().counters();
        assertThat(after.syncs() - before.syncs()).as("synced batches for one array submit").isEqualTo(1);
        assertThat(done.tasks()).isEqualTo(5);
        assertThat(done.firstJobId()).isEqualTo(done.arrayId() + 1);
        List<Job> tasks = call((s, tx) -> s.jobs("", Set.of(), 0)).stream().filter(Job::inArray).toList();
        assertThat(tasks).extracting(Job::arrayIndex).containsExactlyInAnyOrder(0, 2, 4, 6, 8);
        assertThat(tasks).allSatisfy(t -> {
            assertThat(t.arrayId()).isEqualTo(done.arrayId());
            assertThat(t.id()).isEqualTo(done.arrayId() + 1 + t.arrayIndex() / 2);
        });
        // Two GPUs: the two lowest tasks start, each told its array and index.
        assertThat(n1.launched).hasSize(2).allSatisfy(l -> assertThat(l.env())
                .containsEntry("COOP_ARRAY_JOB_ID", Long.toString(done.arrayId())));
        assertThat(n1.launched).extracting(l -> l.env().get("COOP_ARRAY_INDEX")).containsExactlyInAnyOrder("0", "2");
        JobArray a = call((s, tx) -> s.array(done.arrayId()));
        assertThat(a.tasks()).isEqualTo(5);
        assertThat(a.count(JobState.RUNNING)).isEqualTo(2);
        assertThat(a.count(JobState.PENDING)).isEqualTo(3);
        assertThat(a.firstIndex()).isZero();
        assertThat(a.lastIndex()).isEqualTo(8);
        // The array's own id is not a job, and the refusal says what it is.
        assertThatThrownBy(() -> call((s, tx) -> s.job(done.arrayId()))).hasMessageContaining("is a job array");
        // The next job gets an id after the tasks.
        long single = call((s, tx) -> s.submit("alice", new JobSpec("lab-a", 1, 1, "", 60, "true", 0, "",
                false, false), tx));
        assertThat(single).isEqualTo(done.arrayId() + 6);
    }

    @Test
    void theWaitingCapCountsTasksAndARefusedArrayStoresNothing() throws Exception {
        int jobsBefore = call((s, tx) -> s.jobCount());
        Store.Counters before = engine.store().counters();
        assertThatThrownBy(() -> submit("alice", "0-" + MAX_WAITING)).isInstanceOfSatisfying(CoopException.class, e -> {
            assertThat(e.kind()).isEqualTo(CoopException.Kind.RESOURCE_EXHAUSTED);
            assertThat(e.getMessage()).contains("max_pending_per_member (" + MAX_WAITING + ")").contains("51 tasks");
        });
        assertThatThrownBy(() -> submit("alice", "3,3")).hasMessageStartingWith("array: index 3");
        int jobsAfter = call((s, tx) -> s.jobCount());
        assertThat(jobsAfter).isEqualTo(jobsBefore);
        assertThat(engine.store().counters().records()).isEqualTo(before.records());
        submit("alice", "1-" + (MAX_WAITING - 1));
        assertThatThrownBy(() -> submit("alice", "0,1")).hasMessageContaining("49 jobs member alice already has");
        assertThat(submit("alice", "0").tasks()).isEqualTo(1);
        // Another member's cap is their own.
        assertThat(submit("bob", "0-9").tasks()).isEqualTo(10);
    }

    @Test
    void cancellingAnArrayEndsItsUnfinishedTasksAndIsRefusedToOtherAccounts() throws Exception {
        RecordingLink n1 = connect("n1", 2);
        JobBook.Submitted done = submit("alice", "0-4");
        RankRef first = n1.launched.get(0).ref();
        exit(n1, first, 0);
        assertThat(n1.launched).hasSize(3);
        assertThatThrownBy(() -> call((s, tx) -> s.cancelArray("carol", done.arrayId(), tx)))
                .isInstanceOfSatisfying(CoopException.class,
                        e -> assertThat(e.kind()).isEqualTo(CoopException.Kind.PERMISSION_DENIED));
        JobArray a = call((s, tx) -> s.cancelArray("alice", done.arrayId(), tx));
        assertThat(a.count(JobState.SUCCEEDED)).isEqualTo(1);
        assertThat(a.count(JobState.CANCELLED)).isEqualTo(4);
        assertThat(a.isOver()).isTrue();
        // The two running tasks are told to stop; the finished one is left alone.
        assertThat(n1.killed).hasSize(2).doesNotContain(first);
        assertThatThrownBy(() -> call((s, tx) -> s.cancelArray("alice", done.arrayId(), tx)))
                .isInstanceOfSatisfying(CoopException.class,
                        e -> assertThat(e.kind()).isEqualTo(CoopException.Kind.FAILED_PRECONDITION));
        assertThatThrownBy(() -> call((s, tx) -> s.cancelArray("alice", 999, tx)))
                .isInstanceOfSatisfying(CoopException.class,
                        e -> assertThat(e.kind()).isEqualTo(CoopException.Kind.NOT_FOUND));
    }

    @Test
    void anArraySurvivesARestartListsAsOneLineAndItsGpuTimeIsCounted() throws Exception {
        RecordingLink n1 = connect("n1", 1);
        JobBook.Submitted done = submit("alice", "0-2");
        clock.advanceSeconds(10);
        exit(n1, n1.launched.get(0).ref(), 0);
        restart();
        JobArray a = call((s, tx) -> s.array(done.arrayId()));
        assertThat(a.tasks()).isEqualTo(3);
        assertThat(a.count(JobState.SUCCEEDED)).isEqualTo(1);
        // The running one stays running across the restart until its node reports.
        assertThat(a.count(JobState.RUNNING) + a.count(JobState.PENDING)).isEqualTo(2);
        call((s, tx) -> s.submit("alice", new JobSpec("lab-a", 1, 1, "", 60, "true", 0, "solo", false,
                false), tx));
        List<JobBook.Listed> lines = call((s, tx) -> s.listing(
                new JobBook.Filter("", "", Set.of(), 0, 0, true), 0, 100).lines());
        assertThat(lines).hasSize(2);
        assertThat(lines.get(0).job().name()).isEqualTo("solo");
        assertThat(lines.get(1).array().id()).isEqualTo(done.arrayId());
        List<JobBook.Listed> tasks = call((s, tx) -> s.listing(
                new JobBook.Filter("", "", Set.of(), 0, done.arrayId(), false), 0, 100).lines());
        assertThat(tasks).hasSize(3).allSatisfy(l -> assertThat(l.job().arrayId()).isEqualTo(done.arrayId()));
        List<JobBook.Listed> succeeded = call((s, tx) -> s.listing(
                new JobBook.Filter("", "", Set.of(JobState.SUCCEEDED), 0, done.arrayId(), false), 0, 100).lines());
        assertThat(succeeded).hasSize(1);
        var usage = call((s, tx) -> s.usage());
        assertThat(usage.accounts()).filteredOn(u -> u.account().equals("lab-a")).singleElement()
                .satisfies(u -> assertThat(u.totalGpuSeconds()).isEqualTo(10.0));
    }
}
