package coop.scheduler.engine;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import coop.scheduler.domain.CoopException;
import coop.scheduler.domain.Gpu;
import coop.scheduler.domain.JobSpec;
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
 * A job's shipped folder is stored with it, survives a restart, goes with each rank's launch, and
 * is read only by a node that runs one of its ranks, with that node's own token.
 */
class JobWorkdirTest {
    private static final String DIGEST = "0123456789abcdef".repeat(4);

    @TempDir
    Path dir;
    private final FakeClock clock = new FakeClock();
    private final TestMembers keys = new TestMembers();
    private EngineFixture engine;

    @BeforeEach
    void found() throws Exception {
        engine = EngineFixture.found(dir, clock, List.of(keys.member("alice", List.of("lab-a"))), List.of("lab-a"));
        for (String node : List.of("n1", "n2")) {
            engine.call((s, tx) -> s.enroll("alice", node, "s1", "lab-a", Entry.sha256("t-" + node), tx));
        }
    }

    @AfterEach
    void close() {
        engine.close();
    }

    @Test
    void theFolderGoesWithEachLaunchAndOnlyItsNodesMayReadIt() throws Exception {
        RecordingLink n1 = new RecordingLink();
        engine.call((s, tx) -> {
            s.hello(n1, "n1", "s1", List.of(new Gpu(0, "A100", 81920)), List.of(), tx);
            return null;
        });
        long id = engine.call((s, tx) -> s.submit("alice", new JobSpec("lab-a", 1, 1, "", 60, "python3 train.py", 0,
                "", false, false, "", "", "", 0, Map.of(), "", DIGEST), tx));
        assertThat(n1.launched).singleElement().satisfies(l -> assertThat(l.workdir()).isEqualTo(DIGEST));
        assertThat(engine.<String>call((s, tx) -> s.job(id).workdir())).isEqualTo(DIGEST);

        assertThat(engine.<String>call((s, tx) -> s.workdirForNode("n1", "t-n1", id, DIGEST))).isEqualTo(DIGEST);
        assertThatThrownBy(() -> engine.call((s, tx) -> s.workdirForNode("n2", "t-n2", id, DIGEST)))
                .isInstanceOf(CoopException.class).hasMessageContaining("node n2 runs no rank of job " + id);
        assertThatThrownBy(() -> engine.call((s, tx) -> s.workdirForNode("n1", "t-n2", id, DIGEST)))
                .hasMessageContaining("token is wrong");
        assertThatThrownBy(() -> engine.call((s, tx) -> s.workdirForNode("n1", "t-n1", id, "f".repeat(64))))
                .hasMessageContaining("ships no folder");

        engine.restart();
        assertThat(engine.<String>call((s, tx) -> s.job(id).workdir())).isEqualTo(DIGEST);
    }
}
