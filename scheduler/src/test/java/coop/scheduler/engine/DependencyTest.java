package coop.scheduler.engine;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import coop.scheduler.domain.CoopException;
import coop.scheduler.domain.Dependency;
import coop.scheduler.domain.Gpu;
import coop.scheduler.domain.Job;
import coop.scheduler.domain.JobArray;
import coop.scheduler.domain.JobOptions;
import coop.scheduler.domain.JobSpec;
import coop.scheduler.domain.JobState;
import coop.scheduler.domain.RankRef;
import coop.scheduler.governance.TestMembers;
import coop.scheduler.store.Store;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Job dependencies (Slurm's --dependency) and array throttles (--array=...%N): jobs held out of
 * the queue until their parents end, released or cancelled the turn a parent ends, refusals at
 * submit that name the field, and the waits rebuilt from the stored jobs after a restart. On a real
 * RocksDB store with a hand-moved clock, as {@link EngineTest}.
 */
class DependencyTest {
    @TempDir
    Path dir;
    private final FakeClock clock = new FakeClock();
    private final TestMembers keys = new TestMembers();
    private EngineFixture engine;
    private RecordingLink node;

    @BeforeEach
    void found() throws Exception {
        engine = EngineFixture.found(dir, clock, List.of(keys.member("alice", List.of("lab-a")),
                        keys.member("bob", List.of("lab-a")), keys.member("carol", List.of("lab-b"))),
                List.of("lab-a", "lab-b"));
    }

    @AfterEach
    void close() {
        engine.close();
    }

    private <T> T call(EventLoop.Command<T> c) throws Exception {
        return engine.call(c);
    }

    private static JobSpec spec(String account, String name, String dependency) {
        return new JobSpec(account, 1, 1, "", 60, "true", 0, name, false, false)
                .withOptions(JobOptions.NONE.withDependency(dependency));
    }

    private long submit(String member, String name, String dependency) throws Exception {
        String account = member.equals("carol") ? "lab-b" : "lab-a";
        return call((s, tx) -> s.submit(member, spec(account, name, dependency), tx));
    }

    private void connect(int gpus) throws Exception {
        RecordingLink link = new RecordingLink();
        List<Gpu> list = EngineFixture.a100s(gpus);
        call((s, tx) -> {
            s.hello(link, "n1", "s1", list, List.of(), "10.0.0.1", tx);
            return null;
        });
        node = link;
    }

    /** The job's running attempt ends with {@code code}. */
    private void exit(long jobId, int code) throws Exception {
        RankRef ref = node.launched.stream().map(RecordingLink.Launched::ref).filter(r -> r.jobId() == jobId)
                .reduce((a, b) -> b).orElseThrow(() -> new AssertionError("job " + jobId + " never launched"));
        call((s, tx) -> {
            s.exited(node, ref, code, "exited", tx);
            return null;
        });
    }

    private Job job(long id) throws Exception {
        return call((s, tx) -> s.job(id));
    }

    private String why(long id) throws Exception {
        return call((s, tx) -> s.whyPending(id));
    }

    private List<Long> launched() {
        return node.launched.stream().map(l -> l.ref().jobId()).toList();
    }

    @Test
    void anAfterokChainOfThreeRunsInOrder() throws Exception {
        connect(4);
        long a = submit("alice", "a", "");
        long b = submit("alice", "b", "afterok:" + a);
        long c = submit("bob", "c", "afterok:" + b);
        // Four free GPUs, yet only the first starts: the others wait out of the queue.
        assertThat(launched()).containsExactly(a);
        assertThat(job(b).state()).isEqualTo(JobState.PENDING);
        assertThat(why(b)).isEqualTo("DEPENDENCY: waits for job " + a + " to succeed");
        assertThat(why(c)).isEqualTo("DEPENDENCY: waits for job " + b + " to succeed");
        exit(a, 0);
        assertThat(launched()).containsExactly(a, b);
        assertThat(why(c)).isEqualTo("DEPENDENCY: waits for job " + b + " to succeed");
        exit(b, 0);
        assertThat(launched()).containsExactly(a, b, c);
        exit(c, 0);
        assertThat(job(c).state()).isEqualTo(JobState.SUCCEEDED);
        assertThat(job(c).options().dependency()).isEqualTo("afterok:" + b);
    }

    @Test
    void aFailedParentCancelsItsAfterokChildAndThatChildsChild() throws Exception {
        connect(4);
        long a = submit("alice", "a", "");
        long b = submit("alice", "b", "afterok:" + a);
        long c = submit("alice", "c", "afterok:" + b);
        long any = submit("alice", "any", "afterany:" + b);
        exit(a, 3);
        assertThat(job(a).state()).isEqualTo(JobState.FAILED);
        assertThat(job(b).state()).isEqualTo(JobState.CANCELLED);
        assertThat(job(b).endReason()).isEqualTo("dependency never satisfied: job " + a + " FAILED");
        assertThat(job(c).state()).isEqualTo(JobState.CANCELLED);
        assertThat(job(c).endReason()).isEqualTo("dependency never satisfied: job " + b + " CANCELLED");
        // afterany on the cancelled middle job is met by its end, in the same turn.
        assertThat(launched()).containsExactly(a, any);
    }

    @Test
    void afteranyRunsAfterAFailureAndAfternotokOnlyAfterOne() throws Exception {
        connect(4);
        long a = submit("alice", "a", "");
        long ok = submit("alice", "ok", "");
        long any = submit("alice", "any", "afterany:" + a);
        long onFail = submit("alice", "onfail", "afternotok:" + a);
        long onOkFail = submit("alice", "onokfail", "afternotok:" + ok);
        assertThat(why(onFail)).isEqualTo("DEPENDENCY: waits for job " + a + " to end without succeeding");
        exit(a, 1);
        assertThat(launched()).containsExactly(a, ok, any, onFail);
        exit(ok, 0);
        assertThat(job(onOkFail).state()).isEqualTo(JobState.CANCELLED);
        assertThat(job(onOkFail).endReason()).isEqualTo("dependency never satisfied: job " + ok
                + " SUCCEEDED (afternotok)");
    }

    @Test
    void aSingletonWaitsForItsMembersEarlierJobOfTheSameName() throws Exception {
        connect(4);
        long first = submit("alice", "train", "");
        long other = submit("bob", "train", "singleton");
        long second = submit("alice", "train", "singleton");
        long third = submit("alice", "train", "singleton");
        // Bob's job of the same name is not alice's: it runs.
        assertThat(launched()).containsExactly(first, other);
        assertThat(why(second)).isEqualTo("DEPENDENCY: singleton: job " + first + " of the same name is unfinished");
        assertThat(why(third)).isEqualTo("DEPENDENCY: singleton: job " + first + " of the same name is unfinished");
        exit(first, 1);
        assertThat(launched()).containsExactly(first, other, second);
        assertThat(why(third)).isEqualTo("DEPENDENCY: singleton: job " + second + " of the same name is unfinished");
        // Cancelling a waiting dependent works as for any pending job.
        call((s, tx) -> s.cancel("alice", third, tx));
        assertThat(job(third).state()).isEqualTo(JobState.CANCELLED);
        exit(second, 0);
        assertThat(launched()).containsExactly(first, other, second);
    }

    @Test
    void aWholeArrayAndOneTaskAreDependencies() throws Exception {
        connect(4);
        JobBook.Submitted array = call((s, tx) -> s.submitJobs("alice", new JobSpec("lab-a", 1, 1, "", 60, "true",
                0, "sweep", false, false, "", "0-2"), tx));
        long afterAll = submit("alice", "all", "afterok:" + array.arrayId());
        long afterTask = submit("alice", "one", "afterany:" + (array.firstJobId() + 1));
        assertThat(why(afterAll)).isEqualTo("DEPENDENCY: waits for array " + array.arrayId()
                + "'s 3 unfinished tasks to succeed");
        exit(array.firstJobId(), 0);
        assertThat(why(afterAll)).isEqualTo("DEPENDENCY: waits for array " + array.arrayId()
                + "'s 2 unfinished tasks to succeed");
        exit(array.firstJobId() + 1, 0);
        assertThat(launched()).endsWith(afterTask).doesNotContain(afterAll);
        exit(array.firstJobId() + 2, 0);
        assertThat(launched()).endsWith(afterAll);
        // A dependent array: each task waits, and all are released together.
        long parent = submit("alice", "p", "");
        JobBook.Submitted waiting = call((s, tx) -> s.submitJobs("alice", new JobSpec("lab-a", 1, 1, "", 60,
                "true", 0, "dep", false, false, "", "0-1").withOptions(JobOptions.NONE.withDependency("afterok:"
                + parent)), tx));
        assertThat(why(waiting.firstJobId() + 1)).startsWith("DEPENDENCY: waits for job " + parent);
        exit(afterTask, 0);
        exit(parent, 0);
        assertThat(launched()).endsWith(waiting.firstJobId(), waiting.firstJobId() + 1);
    }

    @Test
    void oneFailedTaskCancelsAnAfterokOnItsArrayAndMeetsAnAfternotokOnceAllEnd() throws Exception {
        connect(4);
        JobBook.Submitted array = call((s, tx) -> s.submitJobs("alice", new JobSpec("lab-a", 1, 1, "", 60, "true",
                0, "sweep", false, false, "", "0-1"), tx));
        long ok = submit("alice", "ok", "afterok:" + array.arrayId());
        long notOk = submit("alice", "notok", "afternotok:" + array.arrayId());
        exit(array.firstJobId(), 2);
        assertThat(job(ok).state()).isEqualTo(JobState.CANCELLED);
        assertThat(job(ok).endReason()).isEqualTo("dependency never satisfied: job " + array.firstJobId()
                + " (task 0 of array " + array.arrayId() + ") FAILED");
        assertThat(why(notOk)).isEqualTo("DEPENDENCY: waits for array " + array.arrayId()
                + "'s 1 unfinished task to end");
        exit(array.firstJobId() + 1, 0);
        assertThat(launched()).endsWith(notOk);
    }

    @Test
    void badDependenciesAreRefusedNamingTheField() throws Exception {
        long done = submit("alice", "a", "");
        long other = submit("carol", "c", "");
        call((s, tx) -> s.cancel("alice", done, tx));
        assertRefused("after:" + other, CoopException.Kind.INVALID_ARGUMENT, "dependency: type 'after' is not");
        assertRefused("aftercorr:" + other, CoopException.Kind.INVALID_ARGUMENT, "type 'aftercorr'");
        assertRefused("afterok:1?afterok:2", CoopException.Kind.INVALID_ARGUMENT, "dependency: '?'");
        assertRefused("afterok", CoopException.Kind.INVALID_ARGUMENT, "afterok needs at least one job id");
        assertRefused("afterok:x", CoopException.Kind.INVALID_ARGUMENT, "'x' in afterok is not a job id");
        assertRefused("afterok:999", CoopException.Kind.NOT_FOUND, "dependency: no job or job array 999");
        assertRefused("afterany:" + other, CoopException.Kind.INVALID_ARGUMENT,
                "dependency: job " + other + " is of account lab-b, which member alice is not in");
        assertRefused("afterok:" + done, CoopException.Kind.FAILED_PRECONDITION,
                "dependency: can never be met: job " + done + " CANCELLED");
        StringBuilder many = new StringBuilder("afterany");
        for (int i = 0; i <= Dependency.MAX_IDS; i++) {
            many.append(':').append(done);
        }
        assertRefused(many.toString(), CoopException.Kind.INVALID_ARGUMENT, "more than 64 job ids");
        // afterany on an ended job is met at once.
        assertThat(job(submit("alice", "ok", "afterany:" + done)).state()).isEqualTo(JobState.PENDING);
    }

    private void assertRefused(String dependency, CoopException.Kind kind, String text) {
        assertThatThrownBy(() -> submit("alice", "x", dependency)).isInstanceOfSatisfying(CoopException.class, e -> {
            assertThat(e.kind()).isEqualTo(kind);
            assertThat(e.getMessage()).contains(text);
        });
    }

    @Test
    void aRestartRebuildsTheWaitsFromTheStoredJobs() throws Exception {
        long a = submit("alice", "a", "");
        long b = submit("alice", "b", "afterok:" + a);
        long s1 = submit("alice", "s", "");
        long s2 = submit("alice", "s", "singleton");
        engine.restart();
        assertThat(why(b)).isEqualTo("DEPENDENCY: waits for job " + a + " to succeed");
        assertThat(why(s2)).startsWith("DEPENDENCY: singleton: job " + s1);
        connect(4);
        assertThat(launched()).containsExactly(a, s1);
        exit(a, 0);
        exit(s1, 0);
        assertThat(launched()).containsExactly(a, s1, b, s2);
    }

    @Test
    void aThrottledArrayRunsAtMostSoManyTasksAtOnce() throws Exception {
        connect(8);
        JobSpec throttled = new JobSpec("lab-a", 1, 1, "", 60, "true", 0, "sweep", false, false, "", "0-5")
                .withOptions(JobOptions.NONE.withArrayMaxRunning(2));
        JobBook.Submitted array = call((s, tx) -> s.submitJobs("alice", throttled, tx));
        long first = array.firstJobId();
        assertThat(launched()).containsExactly(first, first + 1);
        assertThat(why(first + 2)).isEqualTo("ARRAY THROTTLE: 2 of array " + array.arrayId()
                + "'s tasks run, the most it allows");
        JobArray shown = call((s, tx) -> s.array(array.arrayId()));
        assertThat(shown.maxRunning()).isEqualTo(2);
        exit(first, 0);
        assertThat(launched()).containsExactly(first, first + 1, first + 2);
        // A restart keeps the cap: the two running hold their places, the rest wait.
        engine.restart();
        assertThat(why(first + 3)).isEqualTo("ARRAY THROTTLE: 2 of array " + array.arrayId()
                + "'s tasks run, the most it allows");
        assertThat(call((s, tx) -> s.array(array.arrayId())).count(JobState.RUNNING)).isEqualTo(2);
        assertThatThrownBy(() -> call((s, tx) -> s.submit("alice", new JobSpec("lab-a", 1, 1, "", 60, "true", 0,
                "", false, false).withOptions(JobOptions.NONE.withArrayMaxRunning(2)), tx)))
                .hasMessageStartingWith("array_max_running: ");
    }

    @Test
    void aJobStoredBeforeTheThrottleReadsAsUnthrottled() throws Exception {
        long a = submit("alice", "a", "");
        long b = submit("alice", "b", "afterok:" + a);
        String stored = new String(engine.store().getRaw(Store.Kind.JOBS, Store.key(b)), StandardCharsets.UTF_8);
        assertThat(stored).contains("\"arrayMaxRunning\":0");
        String old = stored.replace(",\"arrayMaxRunning\":0", "").replace("\"arrayMaxRunning\":0,", "");
        engine.store().putRawForTest(Store.Kind.JOBS, Store.key(b), old.getBytes(StandardCharsets.UTF_8));
        engine.restart();
        assertThat(job(b).options().arrayMaxRunning()).isZero();
        assertThat(why(b)).isEqualTo("DEPENDENCY: waits for job " + a + " to succeed");
    }
}
