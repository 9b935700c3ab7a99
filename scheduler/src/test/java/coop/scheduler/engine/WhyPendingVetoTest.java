package coop.scheduler.engine;

import static org.assertj.core.api.Assertions.assertThat;

import coop.scheduler.domain.Gpu;
import coop.scheduler.domain.JobSpec;
import coop.scheduler.domain.JobState;
import coop.scheduler.governance.TestMembers;
import coop.scheduler.ledger.Entry;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** What {@code coop job ID} tells the submitter of a job that drained nodes keep waiting. */
class WhyPendingVetoTest {
    @TempDir
    Path dir;
    private final FakeClock clock = new FakeClock();
    private final TestMembers keys = new TestMembers();
    private EngineFixture engine;

    @BeforeEach
    void found() {
        engine = EngineFixture.found(dir, clock, List.of(
                keys.member("alice", List.of("lab-a")),
                keys.member("bob", List.of("lab-b"))), List.of("lab-a", "lab-b"));
    }

    @AfterEach
    void close() {
        engine.close();
    }

    private <T> T call(EventLoop.Command<T> c) throws Exception {
        return engine.call(c);
    }

    private long submit(String member, String account, int gpus) throws Exception {
        return call((s, tx) -> s.submit(member, new JobSpec(account, gpus, 1, "", 60, "true", 0, "",
                false, false), tx));
    }

    private void connect(String node, int gpus) throws Exception {
        List<Gpu> list = EngineFixture.a100s(gpus);
        call((s, tx) -> {
            s.hello(new RecordingLink(), node, "s1", list, List.of(), "10.0.0." + (node.hashCode() & 0x7f), tx);
            return null;
        });
    }

    private void drain(String node) throws Exception {
        call((s, tx) -> s.enroll("alice", node, "s1", "lab-a", Entry.sha256("t"), tx));
        connect(node, 4);
        call((s, tx) -> s.drain("alice", node, true, "disk swap", tx));
    }

    @Test
    void aJobNoOfferedNodeFitsNamesTheDrainedNodesWithCounts() throws Exception {
        drain("n1");
        drain("n2");
        connect("small", 2);
        long id = submit("bob", "lab-b", 4);
        assertThat(call((s, tx) -> s.job(id)).state()).isEqualTo(JobState.PENDING);
        assertThat((String) call((s, tx) -> s.whyPending(id)))
                .endsWith("3 nodes: 2 draining, 1 too small; no offered node has 4 GPUs of one model");
    }

    @Test
    void aJobBehindTheFirstInLineCountsDrainingTooSmallAndBusyNodes() throws Exception {
        drain("n1");
        drain("n2");
        connect("small", 2);
        connect("big", 4);
        long running = submit("alice", "lab-a", 4);
        long first = submit("bob", "lab-b", 4);
        long second = submit("bob", "lab-b", 4);
        assertThat(call((s, tx) -> s.job(running)).state()).isEqualTo(JobState.RUNNING);
        assertThat((String) call((s, tx) -> s.whyPending(first))).contains("first in line");
        assertThat((String) call((s, tx) -> s.whyPending(second)))
                .startsWith("lab-b holds 0 GPUs of ")
                .contains("; 4 nodes: 2 draining, 1 too small, 1 busy; needs 4 GPUs; most idle: 2 on small");
    }
}
