package coop.scheduler.metrics;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import coop.scheduler.SchedulerServer;
import coop.scheduler.engine.ClusterState;
import coop.scheduler.engine.FakeClock;
import coop.scheduler.governance.TestMembers;
import coop.scheduler.rpc.Caller;
import coop.scheduler.store.Store;
import coop.v1.AgentMessage;
import coop.v1.AttemptRef;
import coop.v1.EnrollRequest;
import coop.v1.Gpu;
import coop.v1.Heartbeat;
import coop.v1.Hello;
import coop.v1.JobsGrpc;
import coop.v1.NodesGrpc;
import coop.v1.SchedulerMessage;
import coop.v1.SubmitRequest;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.stub.MetadataUtils;
import io.grpc.stub.StreamObserver;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The metrics of a real scheduler (RocksDB in a temporary folder, Netty on 127.0.0.1:0) after
 * real activity: an enrolled node's agent connects and heartbeats, a member submits a job that
 * the allocation cycle starts there, and a bad submit is refused. The scrape must show each of
 * it. The scheduler's clock is moved by hand, so the heartbeat delay and age are exact.
 */
class MetricsTest {
    private static final Duration PROMPTLY = Duration.ofSeconds(10);

    @TempDir
    Path dir;
    private final FakeClock clock = new FakeClock(Instant.parse("2026-03-01T12:00:00Z"));
    private SchedulerServer server;
    private ManagedChannel member;
    private ManagedChannel agent;
    private final List<SchedulerMessage> toAgent = new CopyOnWriteArrayList<>();

    @BeforeEach
    void start() {
        try (Store store = Store.open(dir)) {
            ClusterState.found(store, List.of(new TestMembers().member("alice", List.of("lab-a"))),
                    List.of("lab-a", "lab-b"), clock.millis());
        }
        server = SchedulerServer.start(new SchedulerServer.Config(dir, "127.0.0.1", 0, Duration.ofSeconds(1),
                null, true), clock);
        Metadata alice = new Metadata();
        alice.put(Caller.MEMBER, "alice");
        alice.put(Caller.TOKEN, "token-alice");
        member = NettyChannelBuilder.forAddress("127.0.0.1", server.port()).usePlaintext()
                .intercept(MetadataUtils.newAttachHeadersInterceptor(alice)).build();
    }

    @AfterEach
    void stop() {
        if (agent != null) {
            agent.shutdownNow();
        }
        member.shutdownNow();
        server.close();
    }

    @Test
    void aScrapeShowsJobsNodesHeartbeatsCyclesCommitsAndCalls() {
        String token = NodesGrpc.newBlockingStub(member).enroll(EnrollRequest.newBuilder().setName("n1").setSite("s1")
                .setAccount("lab-a").build()).getToken();
        StreamObserver<AgentMessage> stream = connect("n1", token, 2);
        long job = JobsGrpc.newBlockingStub(member).submit(SubmitRequest.newBuilder().setAccount("lab-a")
                .setGpusPerNode(1).setCommand("true").setWalltimeSeconds(60).build()).getJobId();
        assertThatThrownBy(() -> JobsGrpc.newBlockingStub(member).submit(SubmitRequest.newBuilder()
                .setAccount("lab-a").setGpusPerNode(-1).setCommand("true").build()))
                .isInstanceOf(StatusRuntimeException.class).hasMessageContaining("INVALID_ARGUMENT");
        await().atMost(PROMPTLY).until(() -> toAgent.stream().anyMatch(SchedulerMessage::hasLaunch));
        stream.onNext(AgentMessage.newBuilder().setHeartbeat(Heartbeat.newBuilder().setSentAtMs(clock.millis() - 250)
                .addRunning(AttemptRef.newBuilder().setJobId(job).setAttempt(1).setRank(0))).build());
        stream.onNext(AgentMessage.newBuilder().setHeartbeat(Heartbeat.newBuilder().setSentAtMs(clock.millis() - 40))
                .build());
        // Ahead of the scheduler's clock (skew): counted as no delay, not as a negative one.
        stream.onNext(AgentMessage.newBuilder().setHeartbeat(Heartbeat.newBuilder().setSentAtMs(clock.millis() + 500))
                .build());

        await().atMost(PROMPTLY).until(() -> value("coop_heartbeat_delay_seconds_count").orElse(0.0) == 3);
        assertThat(value("coop_heartbeat_delay_seconds_sum")).contains(0.29);
        assertThat(value("coop_heartbeat_delay_seconds_max")).contains(0.25);
        // A histogram, so that an operator's rules can take quantiles.
        assertThat(value("coop_heartbeat_delay_seconds_bucket{le=\"+Inf\"}")).contains(3.0);
        assertThat(value("coop_heartbeat_interval_seconds")).contains(1.0);

        await().atMost(PROMPTLY).until(() -> value("coop_jobs{state=\"running\"}").orElse(0.0) == 1);
        assertThat(value("coop_jobs{state=\"pending\"}")).contains(0.0);
        assertThat(value("coop_agents_connected")).contains(1.0);
        assertThat(value("coop_gpus_online")).contains(2.0);
        assertThat(value("coop_account_gpus_allocated{account=\"lab-a\"}")).contains(1.0);
        assertThat(value("coop_account_gpus_allocated{account=\"lab-b\"}")).contains(0.0);
        // Founded with equal shares: each account is entitled to half of the 2 GPUs online.
        assertThat(value("coop_account_gpus_entitled{account=\"lab-a\"}")).contains(1.0);
        assertThat(value("coop_account_gpus_entitled{account=\"lab-b\"}")).contains(1.0);

        assertThat(value("coop_allocation_cycle_seconds_count")).hasValueSatisfying(v -> assertThat(v).isPositive());
        // The enrollment and the started job at least, each synced with what its turn changed.
        assertThat(value("coop_store_commit_seconds_count")).hasValueSatisfying(v -> assertThat(v).isGreaterThan(1));
        assertThat(value("coop_store_commit_records_sum")).hasValueSatisfying(
                v -> assertThat(v).isGreaterThanOrEqualTo(value("coop_store_commit_seconds_count").orElseThrow()));
        assertThat(value("coop_rpc_seconds_count{method=\"coop.v1.Jobs/Submit\",status=\"OK\"}")).contains(1.0);
        assertThat(value("coop_rpc_seconds_count{method=\"coop.v1.Jobs/Submit\",status=\"INVALID_ARGUMENT\"}"))
                .contains(1.0);
        assertThat(value("coop_rpc_seconds_count{method=\"coop.v1.Nodes/Enroll\",status=\"OK\"}")).contains(1.0);

        // No heartbeat for 2.5 s of the scheduler's clock (short of the 3 s that declare the node lost).
        clock.advanceMillis(2500);
        await().atMost(PROMPTLY).until(() -> value("coop_heartbeat_oldest_age_seconds").orElse(0.0) == 2.5);

        // The agent hangs up: its session is counted once it ends.
        stream.onCompleted();
        await().atMost(PROMPTLY).until(() -> value("coop_agents_connected").orElse(-1.0) == 0);
        assertThat(value("coop_heartbeat_oldest_age_seconds")).contains(0.0);
        await().atMost(PROMPTLY).until(() -> value("coop_rpc_seconds_count{method=\"coop.v1.Nodes/Connect\","
                + "status=\"OK\"}").orElse(0.0) + value("coop_rpc_seconds_count{method=\"coop.v1.Nodes/Connect\","
                + "status=\"CANCELLED\"}").orElse(0.0) == 1);
    }

    /** The value of one sample line of the scrape: its name with labels as Prometheus writes them. */
    private Optional<Double> value(String sample) {
        String scrape = server.metrics().scrape();
        if (System.getProperty("coop.print.scrape") != null) {
            System.out.println(scrape);
        }
        for (String line : scrape.split("\n")) {
            if (line.startsWith(sample + " ")) {
                return Optional.of(Double.parseDouble(line.substring(sample.length() + 1).trim().split(" ")[0]));
            }
        }
        return Optional.empty();
    }

    private StreamObserver<AgentMessage> connect(String node, String token, int gpus) {
        Metadata identity = new Metadata();
        identity.put(Metadata.Key.of("coop-node", Metadata.ASCII_STRING_MARSHALLER), node);
        identity.put(Metadata.Key.of("coop-node-token", Metadata.ASCII_STRING_MARSHALLER), token);
        agent = NettyChannelBuilder.forAddress("127.0.0.1", server.port()).usePlaintext()
                .intercept(MetadataUtils.newAttachHeadersInterceptor(identity)).build();
        StreamObserver<AgentMessage> stream = NodesGrpc.newStub(agent).connect(new StreamObserver<>() {
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
        Hello.Builder hello = Hello.newBuilder().setNode(node).setSite("s1").setVersion("test");
        for (int i = 0; i < gpus; i++) {
            hello.addGpus(Gpu.newBuilder().setIndex(i).setModel("A100").setMemoryMib(81920));
        }
        stream.onNext(AgentMessage.newBuilder().setHello(hello).build());
        await().atMost(PROMPTLY).until(() -> toAgent.stream().anyMatch(SchedulerMessage::hasWelcome));
        return stream;
    }
}
