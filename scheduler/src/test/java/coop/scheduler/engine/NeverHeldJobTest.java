package coop.scheduler.engine;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import coop.scheduler.domain.CoopException;
import coop.scheduler.domain.Gpu;
import coop.scheduler.domain.JobSpec;
import coop.scheduler.domain.JobState;
import coop.scheduler.governance.TestMembers;
import coop.scheduler.ledger.Entry;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A job that no node or site of the cooperative could ever hold, judged on the GPUs its agents
 * last reported, is refused at submit naming why, instead of waiting for ever; with nothing to
 * judge by (no node reported, or an enrolled one never heard from) it is queued.
 */
class NeverHeldJobTest {
    @TempDir
    Path dir;
    private final FakeClock clock = new FakeClock();
    private final TestMembers keys = new TestMembers();
    private EngineFixture engine;

    @BeforeEach
    void found() throws Exception {
        engine = EngineFixture.found(dir, clock, List.of(keys.member("alice", List.of("lab-a"))), List.of("lab-a"));
        for (String node : List.of("n1", "n2")) {
            engine.call((s, tx) -> s.enroll("alice", node, "north", "lab-a", Entry.sha256("t-" + node), tx));
        }
    }

    @AfterEach
    void close() {
        engine.close();
    }

    /** The README's pair: 4×A100, and 2×A100 + 2×L4. */
    private void connectThePair() throws Exception {
        connect("n1", "A100", "A100", "A100", "A100");
        connect("n2", "A100", "A100", "L4", "L4");
    }

    private void connect(String node, String... models) throws Exception {
        List<Gpu> gpus = new ArrayList<>();
        for (int i = 0; i < models.length; i++) {
            gpus.add(new Gpu(i, models[i], 81920));
        }
        engine.call((s, tx) -> {
            s.hello(new RecordingLink(), node, "north", gpus, List.of(), tx);
            return null;
        });
    }

    private long submit(int gpusPerNode, int nodes, String model) throws Exception {
        return engine.call((s, tx) -> s.submit("alice", new JobSpec("lab-a", gpusPerNode, nodes, model, 60, "true", 0,
                "", false, false), tx));
    }

    private void assertRefused(int gpusPerNode, int nodes, String model, String why) throws Exception {
        int before = engine.call((s, tx) -> s.jobCount());
        assertThatThrownBy(() -> submit(gpusPerNode, nodes, model)).isInstanceOfSatisfying(CoopException.class, e -> {
            assertThat(e.kind()).isEqualTo(CoopException.Kind.FAILED_PRECONDITION);
            assertThat(e.getMessage()).startsWith(why).endsWith("no node of the cooperative could ever start it, "
                    + "so it is not queued");
        });
        assertThat((int) engine.call((s, tx) -> s.jobCount())).as("nothing stored").isEqualTo(before);
    }

    @Test
    void theReadmesGangOnTheMixedPairIsRefusedNamingOneModelPerRank() throws Exception {
        connectThePair();
        assertRefused(4, 2, "", "nodes: no site has 2 nodes with 4 GPUs of one model (the most: 1 at north); "
                + "one GPU model per rank: n2 has 2×A100 + 2×L4");
        // Two ranks of 2 A100s each fit: one on each node.
        long fits = submit(2, 2, "A100");
        assertThat(engine.<JobState>call((s, tx) -> s.job(fits).state())).isEqualTo(JobState.RUNNING);
    }

    @Test
    void tooManyGpusPerNodeForAnyNodesOneModelIsRefused() throws Exception {
        connectThePair();
        assertRefused(8, 1, "", "gpus_per_node: no node of the cooperative has 8 GPUs of one model (--gpus counts "
                + "GPUs per node; the most of one model: n1 has 4×A100)");
        assertRefused(3, 1, "L4", "gpus_per_node: no node of the cooperative has 3 L4 GPUs (--gpus counts GPUs per "
                + "node; the most of one model: n2 has 2×A100 + 2×L4)");
    }

    @Test
    void aModelNoNodeHasIsRefused() throws Exception {
        connectThePair();
        assertRefused(1, 1, "H100", "gpu_model: no node of the cooperative has H100 GPUs (its nodes have A100, L4)");
    }

    @Test
    void moreNodesThanTheCooperativeHasIsRefusedAndCrossingSitesIsCountedWhole() throws Exception {
        connectThePair();
        assertRefused(1, 3, "", "nodes: no site has 3 nodes with 1 GPU of one model (the most: 2 at north)");
        assertRefused(1, 3, "A100", "nodes: no site has 3 nodes with 1 A100 GPU (the most: 2 at north)");
    }

    @Test
    void withNoNodeReportedOrAnEnrolledOneNeverHeardFromEveryJobIsQueued() throws Exception {
        long none = submit(8, 4, "H100");
        assertThat(engine.<JobState>call((s, tx) -> s.job(none).state())).isEqualTo(JobState.PENDING);
        connect("n1", "A100", "A100", "A100", "A100");
        // n2 is enrolled but has never said what GPUs it has: it might hold this one.
        long unknown = submit(8, 1, "");
        assertThat(engine.<JobState>call((s, tx) -> s.job(unknown).state())).isEqualTo(JobState.PENDING);
    }

    @Test
    void whatAnAgentReportedIsKeptWhileItIsAwayAndAcrossARestart() throws Exception {
        connectThePair();
        engine.restart();
        // No agent has connected since the restart: the records say what they last reported.
        assertRefused(4, 2, "", "nodes: no site has 2 nodes with 4 GPUs of one model");
        long fits = submit(4, 1, "");
        assertThat(engine.<JobState>call((s, tx) -> s.job(fits).state())).isEqualTo(JobState.PENDING);
    }
}
