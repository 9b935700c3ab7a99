package coop.scheduler.engine;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import coop.scheduler.domain.CoopException;
import coop.scheduler.domain.JobContainer;
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
 * A container job goes only to a node whose agent runs a container runtime and allows each of its
 * mounts; it waits, saying so, while no such node can take it, and is refused at submit when no
 * enrolled node ever said it could. Bad images and mounts are refused naming the field, with
 * nothing stored.
 */
class ContainerPlacementTest {
    private static final JobContainer.Mount DATA = new JobContainer.Mount("/data/imagenet", "/data", true);

    @TempDir
    Path dir;
    private final FakeClock clock = new FakeClock();
    private final TestMembers keys = new TestMembers();
    private EngineFixture engine;

    @BeforeEach
    void found() throws Exception {
        engine = EngineFixture.found(dir, clock, List.of(keys.member("alice", List.of("lab-a"))), List.of("lab-a"));
        for (String node : List.of("plain", "box")) {
            engine.call((s, tx) -> s.enroll("alice", node, "s1", "lab-a", Entry.sha256("t-" + node), tx));
        }
    }

    @AfterEach
    void close() {
        engine.close();
    }

    private RecordingLink connect(String node, int gpus, NodeFeatures features) throws Exception {
        return engine.connect(node, "s1", gpus, features);
    }

    private long submit(int gpus, JobContainer container) throws Exception {
        return engine.call((s, tx) -> s.submit("alice", new JobSpec("lab-a", gpus, 1, "", 60, "python train.py", 0, "",
                false, false, "", "", "", 0, Map.of(), "", container), tx));
    }

    @Test
    void aContainerJobGoesToTheNodeWithARuntimeAndItsMountsWithItsLaunch() throws Exception {
        RecordingLink plain = connect("plain", 4, NodeFeatures.NONE);
        RecordingLink box = connect("box", 2, new NodeFeatures(List.of("podman"), List.of("/data")));
        long id = submit(1, new JobContainer("localhost/coop-bb:1", List.of(DATA)));

        assertThat(plain.launched).isEmpty();
        assertThat(box.launched).singleElement().satisfies(l -> {
            assertThat(l.container().image()).isEqualTo("localhost/coop-bb:1");
            assertThat(l.container().mounts()).containsExactly(DATA);
        });
        assertThat(engine.call((s, tx) -> s.job(id)).container().mounts()).containsExactly(DATA);
        // A job without a container still goes to the tightest fit, whatever the nodes run.
        submit(1, JobContainer.NONE);
        assertThat(box.launched).hasSize(2);
    }

    @Test
    void aContainerJobWaitsSayingWhatTheOtherNodesLack() throws Exception {
        connect("plain", 4, NodeFeatures.NONE);
        connect("box", 2, new NodeFeatures(List.of("podman"), List.of("/data")));
        long id = submit(4, new JobContainer("localhost/coop-bb:1", List.of()));

        assertThat(engine.call((s, tx) -> s.job(id)).state()).isEqualTo(JobState.PENDING);
        String why = engine.call((s, tx) -> s.whyPending(id));
        assertThat(why).contains("1 without the container runtime, mounts or memory it needs", "that runs containers");
    }

    @Test
    void aContainerJobNoEnrolledNodeCouldRunIsRefusedWithNothingStored() throws Exception {
        connect("plain", 4, NodeFeatures.NONE);
        int before = engine.<Integer>call((s, tx) -> s.jobCount());

        assertThatThrownBy(() -> submit(1, new JobContainer("localhost/coop-bb:1", List.of())))
                .isInstanceOf(CoopException.class).hasMessageContaining("container: no node of the cooperative runs");
        connect("box", 2, new NodeFeatures(List.of("podman"), List.of("/data")));
        assertThatThrownBy(() -> submit(1, new JobContainer("localhost/coop-bb:1",
                List.of(new JobContainer.Mount("/etc", "/etc", true)))))
                .isInstanceOf(CoopException.class).hasMessageContaining("mounts: no node that runs containers allows "
                        + "mounting /etc");
        // /data allowed does not allow /database.
        assertThatThrownBy(() -> submit(1, new JobContainer("localhost/coop-bb:1",
                List.of(new JobContainer.Mount("/database", "/db", true))))).isInstanceOf(CoopException.class);
        assertThat(engine.<Integer>call((s, tx) -> s.jobCount())).isEqualTo(before);
    }

    @Test
    void whatANodeOffersIsKeptWithItsRecordSoAJobIsAcceptedWhileItsAgentIsAway() throws Exception {
        RecordingLink box = connect("box", 2, new NodeFeatures(List.of("podman"), List.of("/data")));
        engine.call((s, tx) -> {
            s.disconnected(box);
            return null;
        });
        long id = submit(1, new JobContainer("localhost/coop-bb:1", List.of(DATA)));

        assertThat(engine.call((s, tx) -> s.job(id)).state()).isEqualTo(JobState.PENDING);
    }

    @Test
    void badImagesAndMountsAreRefusedNamingTheField() {
        for (String image : List.of("busybox;rm -rf /", "-v/:/x", "a b", "$(id)", "img`x`")) {
            assertThatThrownBy(() -> JobContainer.checked(image, List.of())).as(image)
                    .isInstanceOf(CoopException.class).hasMessageStartingWith("container:");
        }
        for (JobContainer.Mount m : List.of(new JobContainer.Mount("data", "/data", true),
                new JobContainer.Mount("/data", "/proc/x", true), new JobContainer.Mount("/data/../etc", "/d", true),
                new JobContainer.Mount("/a:b", "/d", false), new JobContainer.Mount("/data", "/", false))) {
            assertThatThrownBy(() -> JobContainer.checked("img:1", List.of(m))).as(m.toString())
                    .isInstanceOf(CoopException.class).hasMessageStartingWith("mounts:");
        }
        assertThatThrownBy(() -> JobContainer.checked("", List.of(DATA))).hasMessageContaining("need a container");
        assertThatThrownBy(() -> JobContainer.checked("img:1", List.of(DATA, new JobContainer.Mount("/x", "/data", true))))
                .hasMessageContaining("given twice");
        assertThatThrownBy(() -> new JobSpec("lab-a", 1, 1, "", 60, "true", 0, "", false, false, "", "", "", 0,
                Map.of("NOTE", "two\nlines"), "", new JobContainer("img:1", List.of())).checked(3600))
                .hasMessageStartingWith("env:").hasMessageContaining("one line");
        assertThat(JobContainer.checked("registry.example.org:5000/lab/train@sha256:abc", List.of()).present()).isTrue();
    }
}
