package coop.scheduler.rpc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import coop.scheduler.engine.EngineFixture;
import coop.scheduler.engine.EventLoop;
import coop.scheduler.engine.FakeClock;
import coop.scheduler.governance.TestMembers;
import coop.scheduler.ledger.Entry;
import coop.scheduler.store.Store;
import coop.v1.AgentMessage;
import coop.v1.Gpu;
import coop.v1.GpuUsage;
import coop.v1.Heartbeat;
import coop.v1.Hello;
import coop.v1.ListNodesRequest;
import coop.v1.NodeHealth;
import coop.v1.NodeInfo;
import coop.v1.NodesGrpc;
import coop.v1.SchedulerMessage;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.Server;
import io.grpc.inprocess.InProcessChannelBuilder;
import io.grpc.inprocess.InProcessServerBuilder;
import io.grpc.stub.MetadataUtils;
import io.grpc.stub.StreamObserver;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The Nodes service on an in-process server over the real event loop and store: what an
 * agent's heartbeat reports about its GPUs comes back out of ListNodes, and heartbeats that
 * report nothing new (taken in off the loop) keep a node alive until it falls silent.
 */
class NodesServiceTest {

    private static final Instant NOW = Instant.parse("2025-06-01T12:00:00Z");
    private static final Duration PROMPTLY = Duration.ofSeconds(5);

    @TempDir
    Path dir;
    private EngineFixture engine;
    private Store store;
    private EventLoop loop;
    private Server server;
    private ManagedChannel anonymous;
    private ManagedChannel agentChannel;
    private final List<SchedulerMessage> toAgent = new CopyOnWriteArrayList<>();
    private final FakeClock clock = new FakeClock(NOW);

    @BeforeEach
    void start() throws Exception {
        TestMembers keys = new TestMembers();
        engine = EngineFixture.found(dir, clock, List.of(keys.member("alice", List.of("lab-a"))), List.of("lab-a"));
        store = engine.store();
        loop = engine.loop();
        loop.call((s, tx) -> s.enroll("alice", "n1", "s1", "lab-a", Entry.sha256("node-secret"), tx)).get();
        String name = InProcessServerBuilder.generateName();
        InProcessServerBuilder builder = InProcessServerBuilder.forName(name);
        Services.register(builder, loop, store, Map.of(), java.util.Set.of(), null);
        server = builder.build().start();
        anonymous = InProcessChannelBuilder.forName(name).build();
        Metadata identity = new Metadata();
        identity.put(PeerAddress.NODE, "n1");
        identity.put(PeerAddress.NODE_TOKEN, "node-secret");
        agentChannel = InProcessChannelBuilder.forName(name)
                .intercept(MetadataUtils.newAttachHeadersInterceptor(identity)).build();
    }

    @AfterEach
    void stop() {
        agentChannel.shutdownNow();
        anonymous.shutdownNow();
        server.shutdownNow();
        engine.close();
    }

    @Test
    void listNodesReturnsTheLatestGpuUsageAndHeartbeatLag() {
        StreamObserver<AgentMessage> agent = connect(2);
        beat(agent, NOW.toEpochMilli() - 250,
                GpuUsage.newBuilder().setIndex(0).setUtilizationPct(97).setMemoryUsedMib(61234).build(),
                // MIG mode: memory, but no utilization.
                GpuUsage.newBuilder().setIndex(1).setMemoryUsedMib(13).build());

        await().atMost(PROMPTLY).until(() -> node().getGpuUsageCount() == 2);
        NodeInfo n = node();
        assertThat(n.getGpuUsage(0)).isEqualTo(
                GpuUsage.newBuilder().setIndex(0).setUtilizationPct(97).setMemoryUsedMib(61234).build());
        assertThat(n.getGpuUsage(1).hasUtilizationPct()).isFalse();
        assertThat(n.getGpuUsage(1).getMemoryUsedMib()).isEqualTo(13);
        assertThat(n.getHeartbeatLagMs()).isEqualTo(250);

        // The next heartbeat replaces the sample; one without usage clears it, and impossible
        // entries (a GPU the node does not have, 140 %) are dropped, not believed.
        beat(agent, NOW.toEpochMilli() - 40,
                GpuUsage.newBuilder().setIndex(0).setUtilizationPct(12).setMemoryUsedMib(900).build(),
                GpuUsage.newBuilder().setIndex(1).setUtilizationPct(140).setMemoryUsedMib(5).build(),
                GpuUsage.newBuilder().setIndex(7).setUtilizationPct(50).setMemoryUsedMib(5).build());
        await().atMost(PROMPTLY).until(() -> node().getHeartbeatLagMs() == 40);
        assertThat(node().getGpuUsageList()).containsExactly(
                GpuUsage.newBuilder().setIndex(0).setUtilizationPct(12).setMemoryUsedMib(900).build());
        beat(agent, NOW.toEpochMilli() - 10);
        await().atMost(PROMPTLY).until(() -> node().getHeartbeatLagMs() == 10);
        assertThat(node().getGpuUsageList()).isEmpty();
    }

    @Test
    void heartbeatsWithNothingNewKeepTheNodeAliveUntilItFallsSilent() {
        StreamObserver<AgentMessage> agent = connect(1);
        beat(agent, clock.millis() - 5);
        // 6 heartbeats 5 s apart, the same each time (nothing running, no usage): 30 s, twice the
        // 15 s of silence (3 heartbeats of 5 s) that get a node declared lost.
        for (int i = 0; i < 6; i++) {
            clock.advanceMillis(5_000);
            long sent = clock.millis() - 7;
            beat(agent, sent);
            await().atMost(PROMPTLY).until(() -> node().getLastHeartbeatMs() == sent + 7);
            assertThat(node().getState()).isEqualTo("online");
        }
        assertThat(node().getHeartbeatLagMs()).isEqualTo(7);

        // Silent for just over 3 heartbeats: the loop's sweep declares it lost and ends its stream.
        clock.advanceMillis(15_001);
        await().atMost(PROMPTLY).until(() -> node().getState().equals("offline"));
    }

    @Test
    void anOfflineNodeShowsNoUsage() {
        StreamObserver<AgentMessage> agent = connect(1);
        beat(agent, NOW.toEpochMilli() - 5, GpuUsage.newBuilder().setIndex(0).setUtilizationPct(50).build());
        await().atMost(PROMPTLY).until(() -> node().getGpuUsageCount() == 1);

        agent.onCompleted();

        await().atMost(PROMPTLY).until(() -> node().getState().equals("offline"));
        assertThat(node().getGpuUsageList()).isEmpty();
        assertThat(node().getHeartbeatLagMs()).isZero();
    }

    @Test
    void aHealthReportDrainsTheNodeWithItsReasonMadeFitToShowAndAPassLiftsIt() {
        StreamObserver<AgentMessage> agent = connect(1);
        agent.onNext(AgentMessage.newBuilder().setHealth(NodeHealth.newBuilder().setHealthy(false)
                .setReason("GPU 0:\tXID 79\u0007 " + "x".repeat(500))).build());

        await().atMost(PROMPTLY).until(() -> node().getDraining());
        NodeInfo n = node();
        assertThat(n.getHealthDrain()).startsWith("GPU 0: XID 79  xxx").hasSize(200);
        assertThat(n.getOperatorDrain()).isFalse();
        assertThat(n.getDrainReason()).isEmpty();

        agent.onNext(AgentMessage.newBuilder().setHealth(NodeHealth.newBuilder().setHealthy(true)).build());
        await().atMost(PROMPTLY).until(() -> !node().getDraining());
        assertThat(node().getHealthDrain()).isEmpty();
    }

    private StreamObserver<AgentMessage> connect(int gpus) {
        StreamObserver<AgentMessage> agent = NodesGrpc.newStub(agentChannel).connect(new StreamObserver<>() {
            @Override
            public void onNext(SchedulerMessage m) {
                toAgent.add(m);
            }

            @Override
            public void onError(Throwable t) {
            }

            @Override
            public void onCompleted() {
            }
        });
        Hello.Builder hello = Hello.newBuilder().setNode("n1").setSite("s1").setVersion("test");
        for (int i = 0; i < gpus; i++) {
            hello.addGpus(Gpu.newBuilder().setIndex(i).setModel("A100").setMemoryMib(81920));
        }
        agent.onNext(AgentMessage.newBuilder().setHello(hello).build());
        await().atMost(PROMPTLY).until(() -> toAgent.stream().anyMatch(SchedulerMessage::hasWelcome));
        return agent;
    }

    private static void beat(StreamObserver<AgentMessage> agent, long sentAtMs, GpuUsage... usage) {
        agent.onNext(AgentMessage.newBuilder()
                .setHeartbeat(Heartbeat.newBuilder().setSentAtMs(sentAtMs).addAllGpus(List.of(usage))).build());
    }

    private NodeInfo node() {
        return NodesGrpc.newBlockingStub(anonymous).listNodes(ListNodesRequest.getDefaultInstance()).getNodes(0);
    }
}
