package coop.scheduler.engine;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import coop.scheduler.domain.CoopException;
import coop.scheduler.domain.JobContainer;
import coop.scheduler.domain.JobOptions;
import coop.scheduler.domain.JobSpec;
import coop.scheduler.domain.JobState;
import coop.scheduler.domain.NodeFeatures;
import coop.scheduler.governance.TestMembers;
import coop.scheduler.ledger.Entry;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Slurm's {@code --mem} and {@code -o/-e}: a job asking memory for each rank goes only to a node
 * whose ranks get that much for its GPUs, waits saying so, and is refused when no node could ever
 * give it; each rank's launch carries the memory and its output files with their patterns filled
 * in for that rank and node. Bad values are refused naming the field, with nothing stored.
 */
class JobMemoryAndOutputTest {
    @TempDir
    Path dir;
    private final FakeClock clock = new FakeClock();
    private final TestMembers keys = new TestMembers();
    private EngineFixture engine;

    @BeforeEach
    void found() throws Exception {
        engine = EngineFixture.found(dir, clock, List.of(keys.member("alice", List.of("lab-a"))), List.of("lab-a"));
        for (String node : List.of("small", "big")) {
            engine.call((s, tx) -> s.enroll("alice", node, "s1", "lab-a", Entry.sha256("t-" + node), tx));
        }
    }

    @AfterEach
    void close() {
        engine.close();
    }

    private RecordingLink connect(String node, int gpus, long memoryPerGpuMib) throws Exception {
        return engine.connect(node, "s1", gpus, new NodeFeatures(List.of(), List.of(), memoryPerGpuMib));
    }

    private long submit(String name, int gpus, JobOptions options) throws Exception {
        return engine.call((s, tx) -> s.submit("alice", new JobSpec("lab-a", gpus, 1, "", 60, "python train.py", 0,
                name, false, false, "", "", "", 0, Map.of(), "", JobContainer.NONE).withOptions(options), tx));
    }

    @Test
    void aJobAskingMemoryGoesWhereItsGpusBringThatMuchAndItsRanksAreToldTheirFiles() throws Exception {
        RecordingLink small = connect("small", 4, 8 * 1024);
        RecordingLink big = connect("big", 2, 32 * 1024);
        long id = submit("train", 1, new JobOptions("", "", "", 24 * 1024, "logs/%x-%j_%t.%N.out", "err-%A-%a%%.txt"));

        assertThat(small.launched).isEmpty();
        assertThat(big.launched).singleElement().satisfies(l -> {
            assertThat(l.rank().memMb()).isEqualTo(24 * 1024);
            assertThat(l.rank().output()).isEqualTo("logs/train-" + id + "_0.big.out");
            assertThat(l.rank().error()).isEqualTo("err-" + id + "-4294967294%.txt");
        });
        // Two of the small node's GPUs bring 16 GiB: enough for a 2-GPU job asking 12.
        submit("", 2, new JobOptions("", "", "", 12 * 1024, "", ""));
        assertThat(small.launched).singleElement().satisfies(l -> assertThat(l.rank().memMb()).isEqualTo(12 * 1024));
        assertThat(engine.call((s, tx) -> s.job(id)).options().output()).isEqualTo("logs/%x-%j_%t.%N.out");
    }

    @Test
    void aJobNoFreeNodeGivesEnoughMemoryWaitsForOneThatDoes() throws Exception {
        connect("small", 4, 8 * 1024);
        connect("big", 2, 32 * 1024);
        submit("", 2, JobOptions.NONE);
        long id = submit("", 1, new JobOptions("", "", "", 20 * 1024, "", ""));

        assertThat(engine.call((s, tx) -> s.job(id)).state()).isEqualTo(JobState.PENDING);
        String why = engine.call((s, tx) -> s.whyPending(id));
        // The small node's four free GPUs bring 8 GiB each: the job waits for the big node's.
        assertThat(why).contains("reserved on big");
    }

    @Test
    void whileTheOnlyNodeGivingEnoughIsAwayTheJobWaitsSayingWhatItAsks() throws Exception {
        connect("small", 4, 8 * 1024);
        RecordingLink big = connect("big", 2, 1536 * 1024);
        engine.call((s, tx) -> {
            s.disconnected(big);
            return null;
        });
        long id = submit("", 2, new JobOptions("", "", "", 3 * 1024 * 1024, "", ""));

        String why = engine.call((s, tx) -> s.whyPending(id));
        assertThat(why).contains("no offered node has 2 GPUs", "giving each rank 3 TiB of memory",
                "1 without the container runtime, mounts or memory it needs");
        long half = submit("", 2, new JobOptions("", "", "", 3 * 1024 * 1024 / 2, "", ""));
        String halfWhy = engine.call((s, tx) -> s.whyPending(half));
        assertThat(halfWhy).contains("giving each rank 1.5 TiB of memory");
        long small = submit("", 1, new JobOptions("", "", "", 9 * 1024, "", ""));
        String smallWhy = engine.call((s, tx) -> s.whyPending(small));
        assertThat(smallWhy).contains("giving each rank 9 GiB of memory");
        // What the cycle found of those shapes asking memory says nothing of the same shapes asking none.
        long plain = submit("", 2, JobOptions.NONE);
        assertThat(engine.call((s, tx) -> s.job(plain)).state()).isEqualTo(JobState.RUNNING);
    }

    @Test
    void memoryNoNodeCouldEverGiveIsRefusedWithNothingStored() throws Exception {
        connect("small", 4, 8 * 1024);
        connect("big", 2, 32 * 1024);

        assertThatThrownBy(() -> submit("", 1, new JobOptions("", "", "", 40 * 1024, "", "")))
                .isInstanceOf(CoopException.class).hasMessageContaining("mem_mb: asks 40960 MiB")
                .hasMessageContaining("is 32768 MiB");
        List<coop.scheduler.domain.Job> stored = engine.call((s, tx) -> s.jobs(null, java.util.Set.of(), 0));
        assertThat(stored).isEmpty();
    }

    @Test
    void badMemoryAndPatternsAreRefusedNamingTheField() throws Exception {
        connect("big", 2, 32 * 1024);
        assertThatThrownBy(() -> submit("", 1, new JobOptions("", "", "", -1, "", "")))
                .hasMessageContaining("mem_mb: must be between 0");
        assertThatThrownBy(() -> submit("", 1, new JobOptions("", "", "", 0, "out-%q.txt", "")))
                .hasMessageContaining("output: 'out-%q.txt': % must be followed by");
        assertThatThrownBy(() -> submit("", 1, new JobOptions("", "", "", 0, "", "logs/")))
                .hasMessageContaining("error: 'logs/' names a folder");
        assertThatThrownBy(() -> engine.call((s, tx) -> s.submit("alice", new JobSpec("lab-a", 1, 1, "", 60, "true",
                0, "", false, false, "", "", "", 0, Map.of(), "", new JobContainer("localhost/coop-bb:1", List.of()))
                .withOptions(new JobOptions("", "", "", 0, "o.txt", "")), tx)))
                .hasMessageContaining("output: not with container");
        List<coop.scheduler.domain.Job> stored = engine.call((s, tx) -> s.jobs(null, java.util.Set.of(), 0));
        assertThat(stored).isEmpty();
    }
}
