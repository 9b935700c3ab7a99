package coop.scheduler.engine;

import static org.assertj.core.api.Assertions.assertThat;

import coop.scheduler.domain.Gpu;
import coop.scheduler.domain.Job;
import coop.scheduler.domain.JobSpec;
import coop.scheduler.domain.JobState;
import coop.scheduler.domain.RankRef;
import coop.scheduler.governance.TestMembers;
import coop.scheduler.ledger.Entry;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A node's own health reports: a failed check drains it apart from its operator's drain, a
 * passing one lifts only that, both survive a restart, and a launch the node refused is requeued
 * elsewhere rather than failing the job.
 */
class NodeHealthTest {
    @TempDir
    Path dir;
    private final FakeClock clock = new FakeClock();
    private final TestMembers keys = new TestMembers();
    private EngineFixture engine;

    @BeforeEach
    void found() throws Exception {
        engine = EngineFixture.found(dir, clock, List.of(keys.member("alice", List.of("lab-a"))), List.of("lab-a"));
        enroll("n1");
        enroll("n2");
    }

    @AfterEach
    void close() {
        engine.close();
    }

    private void enroll(String node) throws Exception {
        engine.call((s, tx) -> s.enroll("alice", node, "s1", "lab-a", Entry.sha256("t-" + node), tx));
    }

    private RecordingLink connect(String node, int gpus) throws Exception {
        RecordingLink link = new RecordingLink();
        List<Gpu> list = EngineFixture.a100s(gpus);
        engine.call((s, tx) -> {
            s.hello(link, node, "s1", list, List.of(), tx);
            return null;
        });
        return link;
    }

    private void health(RecordingLink link, boolean healthy, String reason) throws Exception {
        engine.call((s, tx) -> {
            s.nodeHealth(link, healthy, reason, tx);
            return null;
        });
    }

    private NodeRegistry.NodeStatus node(String name) throws Exception {
        return engine.call((s, tx) -> s.nodes()).stream().filter(n -> n.name().equals(name)).findFirst()
                .orElseThrow();
    }

    private long submit() throws Exception {
        return engine.call((s, tx) -> s.submit("alice", new JobSpec("lab-a", 1, 1, "", 60, "true", 0, "", false,
                false), tx));
    }

    private Job job(long id) throws Exception {
        return engine.call((s, tx) -> s.job(id));
    }

    @Test
    void aFailedCheckDrainsTheNodeWithItsReasonAndAPassingOneLiftsItAgain() throws Exception {
        RecordingLink n1 = connect("n1", 1);
        health(n1, false, "GPU 0: 3 uncorrectable ECC errors\nsecond line");

        var drained = node("n1");
        assertThat(drained.draining()).isTrue();
        assertThat(drained.healthDrain()).isEqualTo("GPU 0: 3 uncorrectable ECC errors second line");
        assertThat(drained.operatorDrain()).isFalse();
        assertThat(drained.drainReason()).isEmpty();
        long waiting = submit();
        assertThat(job(waiting).state()).isEqualTo(JobState.PENDING);
        assertThat(n1.launched).isEmpty();

        engine.restart();
        n1 = connect("n1", 1);
        assertThat(node("n1").healthDrain()).isEqualTo("GPU 0: 3 uncorrectable ECC errors second line");
        assertThat(job(waiting).state()).isEqualTo(JobState.PENDING);

        health(n1, true, "");
        assertThat(node("n1").draining()).isFalse();
        assertThat(node("n1").healthDrain()).isEmpty();
        assertThat(job(waiting).state()).isEqualTo(JobState.RUNNING);
        assertThat(n1.launched).singleElement().satisfies(l -> assertThat(l.ref().jobId()).isEqualTo(waiting));
    }

    @Test
    void aPassingCheckNeverLiftsTheOperatorsDrain() throws Exception {
        RecordingLink n1 = connect("n1", 1);
        engine.call((s, tx) -> s.drain("alice", "n1", true, "disk swap", tx));
        health(n1, false, "nvidia-smi hangs");
        health(n1, true, "");

        var n = node("n1");
        assertThat(n.draining()).isTrue();
        assertThat(n.operatorDrain()).isTrue();
        assertThat(n.drainReason()).isEqualTo("disk swap");
        assertThat(n.healthDrain()).isEmpty();
        long waiting = submit();
        assertThat(job(waiting).state()).isEqualTo(JobState.PENDING);
    }

    @Test
    void theOperatorsUndrainLiftsBothAndTheNextFailedCheckDrainsAgain() throws Exception {
        RecordingLink n1 = connect("n1", 1);
        health(n1, false, "nvidia-smi hangs");
        engine.call((s, tx) -> s.drain("alice", "n1", false, "", tx));
        assertThat(node("n1").draining()).isFalse();

        health(n1, false, "nvidia-smi hangs");
        assertThat(node("n1").draining()).isTrue();
        assertThat(node("n1").healthDrain()).isEqualTo("nvidia-smi hangs");
    }

    @Test
    void aLaunchTheNodeRefusedIsRequeuedElsewhereAndDoesNotFailTheJob() throws Exception {
        RecordingLink n1 = connect("n1", 1);
        long id = submit();
        assertThat(n1.launched).hasSize(1);
        RankRef ref = new RankRef(id, 1, 0);
        // As an agent reports a failed prolog: its health first, then the refused rank.
        health(n1, false, "prolog failed: /scratch is full");
        engine.call((s, tx) -> {
            s.exited(n1, ref, 127, "node-fault", "prolog failed: /scratch is full", tx);
            return null;
        });

        Job requeued = job(id);
        assertThat(requeued.state()).isEqualTo(JobState.PENDING);
        assertThat(requeued.attempts()).singleElement().satisfies(a -> assertThat(a.outcome())
                .isEqualTo("requeued: rank 0 on n1 not started: prolog failed: /scratch is full"));
        assertThat(n1.acked).containsExactly(ref);

        RecordingLink n2 = connect("n2", 1);
        assertThat(job(id).state()).isEqualTo(JobState.RUNNING);
        assertThat(n2.launched).singleElement().satisfies(l -> assertThat(l.ref()).isEqualTo(new RankRef(id, 2, 0)));
        assertThat(n1.launched).hasSize(1);
    }

    @Test
    void aHealthReportFromALinkThatIsNoSessionIsIgnored() throws Exception {
        connect("n1", 1);
        health(new RecordingLink(), false, "who am I");
        assertThat(node("n1").draining()).isFalse();
    }
}
