package coop.agent;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import coop.v1.AgentMessage;
import coop.v1.AttemptExited;
import coop.v1.AttemptRef;
import coop.v1.Launch;
import coop.v1.NodeHealth;
import coop.v1.SchedulerMessage;
import io.grpc.Server;
import io.grpc.inprocess.InProcessChannelBuilder;
import io.grpc.inprocess.InProcessServerBuilder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The operator's health check, prolog, epilog and GPU job map around real ranks, with the agent
 * talking to a fake scheduler over in-process gRPC.
 */
class AttemptHooksTest {

    private static final Duration PROMPTLY = Duration.ofSeconds(10);

    @TempDir
    Path dir;

    /** The agent's clock, moved by hand past the health check's reuse window. */
    private final AtomicLong nowMs = new AtomicLong(System.currentTimeMillis());
    private FakeScheduler scheduler;
    private Server server;
    private Agent agent;

    @AfterEach
    void tearDown() {
        if (agent != null) {
            agent.close();
        }
        if (server != null) {
            server.shutdownNow();
        }
    }

    private void connect(NodeHooks hooks) throws Exception {
        scheduler = new FakeScheduler(60_000);
        String name = InProcessServerBuilder.generateName();
        server = InProcessServerBuilder.forName(name).addService(scheduler).build().start();
        AgentConfig config = new AgentConfig("in-process:" + name, "node-a", "lab-1",
                GpuSpec.parse("sim:4xA100-80GB").resolve(new NvidiaSmi("")), dir.resolve("work"), "test-1", null,
                null, null, Confinement.none(), Duration.ZERO, hooks);
        agent = new Agent(config, InProcessChannelBuilder.forName(name).build(),
                new ProcessLauncher(config.workDir()), () -> Instant.ofEpochMilli(nowMs.get()), new SplittableRandom(7),
                GpuTelemetry.NONE);
        agent.start();
        await().atMost(PROMPTLY).until(agent::isConnected);
    }

    private static NodeHooks hooks(String check, String prolog, String epilog, Path map) {
        return new NodeHooks(check, Duration.ofHours(1), prolog, epilog, map, Duration.ofSeconds(20));
    }

    private static AttemptRef ref(long job) {
        return AttemptRef.newBuilder().setJobId(job).setAttempt(1).setRank(0).build();
    }

    private void launch(AttemptRef ref, String command, List<Integer> gpus) {
        scheduler.latest().send(SchedulerMessage.newBuilder()
                .setLaunch(Launch.newBuilder().setRef(ref).setCommand(command).addAllGpuIndices(gpus))
                .build());
    }

    private AttemptExited awaitExit(AttemptRef ref) {
        FakeScheduler.Stream stream = scheduler.latest();
        await().atMost(PROMPTLY).until(() -> !stream.exits(ref).isEmpty());
        return stream.exits(ref).get(0);
    }

    private List<AgentMessage> received() {
        return scheduler.latest().received;
    }

    private List<NodeHealth> health() {
        return received().stream().filter(AgentMessage::hasHealth).map(AgentMessage::getHealth).toList();
    }

    @Test
    void whileTheCheckFailsTheNodeReportsItAndRefusesLaunchesAsANodeFault() throws Exception {
        Path sick = dir.resolve("sick");
        Files.writeString(sick, "GPU 2: XID 79, fallen off the bus\n");
        connect(hooks("if [ -e '" + sick + "' ]; then cat '" + sick + "'; exit 1; fi", null, null, null));
        await().atMost(PROMPTLY).until(() -> !health().isEmpty());
        assertThat(health().get(0).getHealthy()).isFalse();
        assertThat(health().get(0).getReason()).isEqualTo("GPU 2: XID 79, fallen off the bus");

        Path ran = dir.resolve("ran");
        launch(ref(5), "touch '" + ran + "'", List.of(0));
        AttemptExited exit = awaitExit(ref(5));
        assertThat(exit.getReason()).isEqualTo("node-fault");
        assertThat(exit.getWhy()).isEqualTo("health check failed: GPU 2: XID 79, fallen off the bus");
        assertThat(ran).doesNotExist();
        assertThat(scheduler.latest().started(ref(5))).isEmpty();

        Files.delete(sick);
        nowMs.addAndGet(HealthCheck.REUSE.toMillis() + 1);
        launch(ref(6), "touch '" + ran + "'", List.of(0));
        assertThat(awaitExit(ref(6)).getReason()).isEqualTo("exited");
        assertThat(ran).exists();
        // The pre-launch run that passed told the scheduler too, before the rank's exit.
        List<AgentMessage> all = received();
        int healthy = -1;
        int exited = -1;
        for (int i = 0; i < all.size(); i++) {
            if (all.get(i).hasHealth() && all.get(i).getHealth().getHealthy()) {
                healthy = healthy < 0 ? i : healthy;
            }
            if (all.get(i).hasExited() && all.get(i).getExited().getRef().equals(ref(6))) {
                exited = i;
            }
        }
        assertThat(healthy).isBetween(0, exited);
    }

    @Test
    void prologAndEpilogSeeTheAttemptAndTheGpuMapHoldsTheJobWhileItsRankRuns() throws Exception {
        Path map = dir.resolve("dcgm-map");
        Path log = dir.resolve("hooks.log");
        String record = "echo \"$0 $COOP_JOB_ID $COOP_ATTEMPT $COOP_RANK $COOP_JOB_USER $COOP_GPUS $COOP_JOB_DIR\""
                + " >> '" + log + "'";
        connect(hooks(null, "bash -c '" + record.replace("'", "'\\''") + "' prolog",
                "sleep 0.3; bash -c '" + record.replace("'", "'\\''") + "' epilog", map));
        Path release = dir.resolve("release");
        AttemptRef ref = ref(77);
        launch(ref, "while [ ! -e '" + release + "' ]; do sleep 0.05; done", List.of(1, 3));

        await().atMost(PROMPTLY).until(() -> !scheduler.latest().started(ref).isEmpty());
        assertThat(Files.readString(map.resolve("1"))).isEqualTo("77\n");
        assertThat(Files.readString(map.resolve("3"))).isEqualTo("77\n");
        assertThat(map.resolve("0")).doesNotExist();
        Files.writeString(release, "");

        AttemptExited exit = awaitExit(ref);
        assertThat(exit.getReason()).isEqualTo("exited");
        assertThat(map.resolve("1")).doesNotExist();
        assertThat(map.resolve("3")).doesNotExist();
        String folder = dir.resolve("work").resolve("jobs").resolve("77.1.0").toAbsolutePath().toString();
        String user = System.getProperty("user.name");
        // The exit waits for the epilog: its line is there when the scheduler hears of the exit.
        assertThat(Files.readAllLines(log)).containsExactly(
                "prolog 77 1 0 " + user + " 1,3 " + folder,
                "epilog 77 1 0 " + user + " 1,3 " + folder);
        assertThat(health()).isEmpty();
    }

    @Test
    void aFailedPrologRefusesTheRankAndDrainsTheNode() throws Exception {
        connect(hooks(null, "echo '/scratch is full' >&2; exit 3", null, null));
        Path ran = dir.resolve("ran");
        launch(ref(8), "touch '" + ran + "'", List.of(0));

        AttemptExited exit = awaitExit(ref(8));
        assertThat(exit.getReason()).isEqualTo("node-fault");
        assertThat(exit.getWhy()).isEqualTo("prolog failed: /scratch is full");
        assertThat(ran).doesNotExist();
        assertThat(health()).singleElement().satisfies(h -> {
            assertThat(h.getHealthy()).isFalse();
            assertThat(h.getReason()).isEqualTo("prolog failed: /scratch is full");
        });
    }

    @Test
    void aFailedEpilogDrainsTheNodeButTheRankEndsAsItDid() throws Exception {
        connect(hooks(null, null, "echo 'GPU 0 still has processes'; exit 1", null));
        launch(ref(9), "exit 4", List.of(0));

        AttemptExited exit = awaitExit(ref(9));
        assertThat(exit.getReason()).isEqualTo("exited");
        assertThat(exit.getExitCode()).isEqualTo(4);
        assertThat(health()).singleElement().satisfies(h -> {
            assertThat(h.getHealthy()).isFalse();
            assertThat(h.getReason()).isEqualTo("epilog failed: GPU 0 still has processes");
        });
    }

    @Test
    void aNewSessionStartsWithTheLatestOutcomeOfTheCheck() throws Exception {
        connect(hooks("echo 'nvidia-smi: no devices'; exit 1", null, null, null));
        await().atMost(PROMPTLY).until(() -> !health().isEmpty());
        FakeScheduler.Stream first = scheduler.latest();

        first.end();
        await().atMost(PROMPTLY).until(() -> scheduler.latest() != first && !health().isEmpty());
        assertThat(health().get(0).getReason()).isEqualTo("nvidia-smi: no devices");
    }
}
