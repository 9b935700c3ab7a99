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
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
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
                null, true).withHttp(new InetSocketAddress("127.0.0.1", 0)), clock);
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
        // Every end state is a series, jobs stopped at their walltime too.
        assertThat(value("coop_jobs{state=\"timeout\"}")).contains(0.0);
        assertThat(value("coop_agents_connected")).contains(1.0);
        assertThat(value("coop_gpus_online")).contains(2.0);
        assertThat(value("coop_account_gpus_allocated{account=\"lab-a\"}")).contains(1.0);
        assertThat(value("coop_account_gpus_allocated{account=\"lab-b\"}")).contains(0.0);
        // Founded with equal shares: each account is entitled to half of the 2 GPUs online.
        assertThat(value("coop_account_gpus_entitled{account=\"lab-a\"}")).contains(1.0);
        assertThat(value("coop_account_gpus_entitled{account=\"lab-b\"}")).contains(1.0);
        // Nothing was preempted yet; the counters exist for each open account from the start.
        assertThat(value("coop_account_preemptions_total{account=\"lab-a\"}")).contains(0.0);
        assertThat(value("coop_account_preempted_gpu_seconds_total{account=\"lab-b\"}")).contains(0.0);

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

    /**
     * The shipped alert rules and Grafana dashboard name only metrics this scheduler exports, with
     * label values it gives them: a rule on a misspelt or renamed metric would never fire, and a
     * panel would stay empty, without an error anywhere.
     */
    @Test
    void theShippedRulesAndDashboardUseOnlyMetricsTheSchedulerServes() throws Exception {
        String token = NodesGrpc.newBlockingStub(member).enroll(EnrollRequest.newBuilder().setName("n1").setSite("s1")
                .setAccount("lab-a").build()).getToken();
        connect("n1", token, 2);
        JobsGrpc.newBlockingStub(member).submit(SubmitRequest.newBuilder().setAccount("lab-a").setGpusPerNode(1)
                .setCommand("true").setWalltimeSeconds(60).build());
        await().atMost(PROMPTLY).until(() -> value("coop_jobs{state=\"running\"}").orElse(0.0) == 1);
        HttpResponse<String> metrics = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
                URI.create("http://127.0.0.1:" + server.httpPort() + "/metrics")).build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(metrics.statusCode()).isEqualTo(200);
        List<String> samples = metrics.body().lines().filter(l -> !l.startsWith("#") && !l.isBlank()).toList();
        // Samples' names, and families' (a histogram's name, as a description may give it).
        Set<String> exported = samples.stream().map(l -> l.split("[{ ]", 2)[0]).collect(Collectors.toSet());
        metrics.body().lines().filter(l -> l.startsWith("# TYPE ")).forEach(l -> exported.add(l.split(" ")[2]));

        Map<String, String> queries = new LinkedHashMap<>();
        queries.put(ContribMonitoring.rules().toString(), ContribMonitoring.read(ContribMonitoring.rules()));
        ContribMonitoring.dashboardQueries().forEach(q -> queries.put(q, q));
        Set<String> used = new TreeSet<>();
        queries.forEach((where, text) -> {
            Matcher m = SELECTOR.matcher(text);
            while (m.find()) {
                String name = m.group(1);
                used.add(name);
                assertThat(exported).as("%s in %s", name, where).contains(name);
                if (m.group(2) == null) {
                    continue;
                }
                Matcher label = MATCHER.matcher(m.group(2));
                while (label.find()) {
                    // A label the metric has; an equality also a value it takes. Grafana's variables
                    // ($job, $account) stand for whatever values there are; job and instance are
                    // the labels Prometheus adds to what it scrapes.
                    String key = label.group(1);
                    if (key.equals("job") || key.equals("instance")) {
                        continue;
                    }
                    String op = label.group(2);
                    String wanted = op.equals("=") ? key + "=\"" + label.group(3) + "\"" : key + "=\"";
                    assertThat(samples).as("%s{%s} in %s", name, label.group(), where)
                            .anyMatch(s -> s.startsWith(name + "{") && s.contains(wanted));
                }
            }
        });
        // Every alert's and panel's metric is among them (the scrape's names, not a list kept here).
        assertThat(used).contains("coop_agents_connected", "coop_heartbeat_oldest_age_seconds",
                "coop_heartbeat_interval_seconds", "coop_store_commit_seconds_bucket", "coop_jobs",
                "coop_gpus_online", "coop_account_gpus_allocated", "coop_rpc_seconds_count");
    }

    /** A metric's name in PromQL (or YAML around it), with the braces of its selector if it has them. */
    private static final Pattern SELECTOR = Pattern.compile("\\b(coop_[a-z0-9_]+)(?:\\{([^}]*)})?");
    /** One matcher of a selector; Grafana's {@code job=~"$job"} is matched like any other. */
    private static final Pattern MATCHER = Pattern.compile("([a-z_]+)\\s*(=~|!~|!=|=)\\s*\"([^\"]*)\"");

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
