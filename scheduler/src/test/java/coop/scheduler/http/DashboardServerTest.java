package coop.scheduler.http;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import coop.scheduler.SchedulerServer;
import coop.scheduler.engine.ClusterState;
import coop.scheduler.engine.EngineFixture;
import coop.scheduler.governance.TestMembers;
import coop.scheduler.rpc.Caller;
import coop.scheduler.store.Store;
import coop.scheduler.view.WireJson;
import coop.v1.GovernanceGrpc;
import coop.v1.JobsGrpc;
import coop.v1.ListJobsRequest;
import coop.v1.SubmitRequest;
import coop.v1.UsageRequest;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.stub.MetadataUtils;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.InstantSource;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The dashboard of a real scheduler (RocksDB, event loop, gRPC and HTTP on 127.0.0.1): every
 * API answer is the JSON the CLI prints for the same gRPC reply, the page and its assets are
 * served, and what is not a read is refused with the right status.
 */
class DashboardServerTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path dir;
    private SchedulerServer server;
    private ManagedChannel channel;
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    @BeforeEach
    void start() throws Exception {
        Path data = dir.resolve("data");
        Files.createDirectories(data);
        TestMembers keys = new TestMembers();
        try (Store store = Store.open(data)) {
            ClusterState.found(store, List.of(keys.member("alice", List.of("lab-a")),
                    keys.member("bob", List.of("lab-b"))), List.of("lab-a", "lab-b"), System.currentTimeMillis());
        }
        startServer(data);
    }

    private void startServer(Path data) {
        server = SchedulerServer.start(new SchedulerServer.Config(data, "127.0.0.1", 0, Duration.ofSeconds(5), null,
                true).withHttp(new InetSocketAddress("127.0.0.1", 0)), InstantSource.system());
        channel = NettyChannelBuilder.forAddress("127.0.0.1", server.port()).usePlaintext().build();
    }

    @Test
    void theChartsHistoryOutlivesARestartOfTheScheduler() throws Exception {
        long[] first = new long[1];
        await().atMost(Duration.ofSeconds(20)).untilAsserted(() -> {
            JsonNode samples = get("/api/v1/history").get("samples");
            assertThat(samples.size()).isGreaterThanOrEqualTo(1);
            first[0] = samples.get(0).get("at_ms").asLong();
        });
        stop();
        startServer(dir.resolve("data"));
        // The new run's first sample is not the old one: the old one comes back from the store, before it.
        JsonNode history = get("/api/v1/history");
        assertThat(history.get("kept_every_ms").asLong()).isEqualTo(60_000);
        assertThat(history.get("samples").size()).isGreaterThanOrEqualTo(1);
        JsonNode kept = history.get("samples").get(0);
        assertThat(kept.get("at_ms").asLong()).isEqualTo(first[0]);
        assertThat(kept.get("accounts").get(0).get("voted_percent").asDouble()).isEqualTo(50.0);
        assertThat(kept.get("accounts").get(0).has("hour_achieved_percent")).isTrue();
        await().atMost(Duration.ofSeconds(20)).untilAsserted(() -> {
            JsonNode samples = get("/api/v1/history").get("samples");
            assertThat(samples.size()).isGreaterThanOrEqualTo(2);
            assertThat(samples.get(samples.size() - 1).get("at_ms").asLong()).isGreaterThan(first[0]);
        });
    }

    @AfterEach
    void stop() throws InterruptedException {
        if (channel != null) {
            channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
            channel = null;
        }
        if (server != null) {
            server.close();
            server = null;
        }
    }

    @Test
    void theApiServesWhatTheCliPrintsForTheSameReply() throws Exception {
        Metadata alice = new Metadata();
        alice.put(Caller.MEMBER, "alice");
        alice.put(Caller.TOKEN, "token-alice");
        var jobs = JobsGrpc.newBlockingStub(channel).withInterceptors(MetadataUtils.newAttachHeadersInterceptor(alice));
        long id = jobs.submit(SubmitRequest.newBuilder().setAccount("lab-a").setGpusPerNode(2).setGpuModel("H100")
                .setCommand("train").setName("waits <script>").build()).getJobId();

        JsonNode page = get("/api/v1/jobs");
        assertThat(page.get("next_page_token").asText()).as("one page holds them all").isEmpty();
        JsonNode api = page.get("jobs");
        // The dashboard has no login: it reads as a call that names no member does.
        JsonNode cli = reparsed(WireJson.array(JobsGrpc.newBlockingStub(channel)
                .listJobs(ListJobsRequest.getDefaultInstance()).getJobsList(), WireJson::job));
        assertThat(api).isEqualTo(cli);
        assertThat(api.get(0).get("id").asLong()).isEqualTo(id);
        assertThat(api.get(0).get("state").asText()).isEqualTo("PENDING");
        assertThat(api.get(0).get("why_pending").asText()).isNotEmpty();
        assertThat(get("/api/v1/jobs?state=running").get("jobs")).isEmpty();
        assertThat(get("/api/v1/jobs?state=pending,review&account=lab-a&limit=5").get("jobs")).hasSize(1);
        assertThat(get("/api/v1/jobs?member=alice&page_size=1").get("jobs")).hasSize(1);
        assertThat(get("/api/v1/jobs?member=bob").get("jobs")).isEmpty();

        JsonNode usage = get("/api/v1/usage");
        JsonNode grpcUsage = reparsed(WireJson.usage(GovernanceGrpc.newBlockingStub(channel)
                .usage(UsageRequest.getDefaultInstance())));
        // Both were read at different moments: everything but the window's end is the same.
        ((com.fasterxml.jackson.databind.node.ObjectNode) usage).remove("window_end_ms");
        ((com.fasterxml.jackson.databind.node.ObjectNode) grpcUsage).remove("window_end_ms");
        assertThat(usage).isEqualTo(grpcUsage);
        assertThat(usage.get("accounts").get(0).get("pending_jobs").asInt()).isEqualTo(1);

        assertThat(get("/api/v1/nodes")).isEmpty();
        assertThat(get("/api/v1/proposals?open=true")).isEmpty();

        await().atMost(Duration.ofSeconds(20)).untilAsserted(() -> {
            JsonNode ledger = get("/api/v1/ledger");
            assertThat(ledger.get("size").asLong()).isPositive();
            assertThat(ledger.get("verification").isObject()).as(ledger.toString()).isTrue();
            assertThat(ledger.get("verification").get("ok").asBoolean()).isTrue();
            assertThat(ledger.get("verification").get("head").asText()).isEqualTo(ledger.get("head").asText());
        });
        await().atMost(Duration.ofSeconds(20)).untilAsserted(() -> {
            JsonNode history = get("/api/v1/history");
            assertThat(history.get("samples").size()).isGreaterThanOrEqualTo(2);
            JsonNode first = history.get("samples").get(0);
            assertThat(first.get("accounts").get(0).get("voted_percent").asDouble()).isEqualTo(50.0);
            long after = first.get("at_ms").asLong();
            assertThat(get("/api/v1/history?since=" + after).get("samples").size())
                    .isEqualTo(history.get("samples").size() - 1);
        });
    }

    @Test
    void theApiShowsNoCommandUnlessTheSchedulerWasStartedToShowThem() throws Exception {
        Metadata alice = new Metadata();
        alice.put(Caller.MEMBER, "alice");
        alice.put(Caller.TOKEN, "token-alice");
        var jobs = JobsGrpc.newBlockingStub(channel).withInterceptors(MetadataUtils.newAttachHeadersInterceptor(alice));
        jobs.submit(SubmitRequest.newBuilder().setAccount("lab-a").setGpusPerNode(1).setGpuModel("H100")
                .setCommand("train --token=s3cret").build());
        jobs.submit(SubmitRequest.newBuilder().setAccount("lab-a").setGpusPerNode(1).setGpuModel("H100")
                .setCommand("sweep").setArray("0-2").build());
        assertThat(jobs.listJobs(ListJobsRequest.getDefaultInstance()).getJobsList())
                .as("lab-a's member reads them over gRPC").extracting(j -> j.getCommand()).contains("train --token=s3cret");

        // Pages as ListJobs does: newest first, the token leading on to the rest, empty on the last page.
        JsonNode first = get("/api/v1/jobs?page_size=3");
        assertThat(first.get("jobs")).hasSize(3);
        String token = first.get("next_page_token").asText();
        assertThat(token).isNotEmpty();
        JsonNode rest = get("/api/v1/jobs?page_size=3&page_token=" + token);
        assertThat(rest.get("jobs")).hasSize(1);
        assertThat(rest.get("jobs").get(0).get("id").asLong()).isLessThan(first.get("jobs").get(2).get("id").asLong());
        assertThat(rest.get("next_page_token").asText()).isEmpty();

        HttpResponse<String> raw = send(HttpRequest.newBuilder(uri("/api/v1/jobs")).GET());
        assertThat(raw.body()).doesNotContain("s3cret").doesNotContain("sweep");
        JsonNode api = JSON.readTree(raw.body()).get("jobs");
        assertThat(api).hasSize(4);
        for (JsonNode j : api) {
            assertThat(j.get("command").asText()).isEmpty();
            assertThat(j.get("command_withheld").asBoolean()).isTrue();
            assertThat(j.get("account").asText()).as("the metadata is still there").isEqualTo("lab-a");
            assertThat(j.get("member").asText()).isEqualTo("alice");
        }

        channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
        server.close();
        server = SchedulerServer.start(new SchedulerServer.Config(dir.resolve("data"), "127.0.0.1", 0,
                Duration.ofSeconds(5), null, true).withHttp(new InetSocketAddress("127.0.0.1", 0))
                .withHttpShowingCommands(true), InstantSource.system());
        channel = NettyChannelBuilder.forAddress("127.0.0.1", server.port()).usePlaintext().build();
        JsonNode shown = get("/api/v1/jobs").get("jobs");
        assertThat(shown).hasSize(4);
        assertThat(shown.findValuesAsText("command")).containsExactly("sweep", "sweep", "sweep",
                "train --token=s3cret");
        assertThat(shown.findValues("command_withheld")).allSatisfy(w -> assertThat(w.asBoolean()).isFalse());
    }

    @Test
    void thePageAndItsAssetsComeFromTheScheduler() throws Exception {
        HttpResponse<String> page = send(HttpRequest.newBuilder(uri("/")).GET());
        assertThat(page.statusCode()).isEqualTo(200);
        assertThat(page.headers().firstValue("content-type")).hasValue("text/html; charset=utf-8");
        assertThat(page.headers().firstValue("content-security-policy").orElse("")).contains("default-src 'none'")
                .contains("script-src 'self'");
        assertThat(page.body()).contains("<script src=\"/dashboard.js\"").doesNotContain("http://", "https://");
        HttpResponse<String> script = send(HttpRequest.newBuilder(uri("/dashboard.js")).GET());
        assertThat(script.headers().firstValue("content-type")).hasValue("text/javascript; charset=utf-8");
        assertThat(script.body()).contains("/api/v1/history").doesNotContain("innerHTML");
        assertThat(send(HttpRequest.newBuilder(uri("/dashboard.css")).GET()).statusCode()).isEqualTo(200);

        HttpResponse<String> head = send(HttpRequest.newBuilder(uri("/")).method("HEAD",
                HttpRequest.BodyPublishers.noBody()));
        assertThat(head.statusCode()).isEqualTo(200);
        assertThat(head.body()).isEmpty();
        assertThat(head.headers().firstValueAsLong("content-length")).hasValue(page.body().getBytes(
                java.nio.charset.StandardCharsets.UTF_8).length);
    }

    @Test
    void whatIsNotAReadIsRefused() throws Exception {
        HttpResponse<String> post = send(HttpRequest.newBuilder(uri("/api/v1/jobs"))
                .POST(HttpRequest.BodyPublishers.ofString("{}")));
        assertThat(post.statusCode()).isEqualTo(405);
        assertThat(post.headers().firstValue("allow")).hasValue("GET, HEAD");
        assertThat(JSON.readTree(post.body()).get("error").asText()).contains("read-only");
        assertThat(send(HttpRequest.newBuilder(uri("/api/v1/jobs")).DELETE()).statusCode()).isEqualTo(405);

        HttpResponse<String> missing = send(HttpRequest.newBuilder(uri("/api/v1/nope")).GET());
        assertThat(missing.statusCode()).isEqualTo(404);
        assertThat(send(HttpRequest.newBuilder(uri("/etc/passwd")).GET()).statusCode()).isEqualTo(404);
        // The scheduler serves its own metrics next to the dashboard.
        HttpResponse<String> metrics = send(HttpRequest.newBuilder(uri("/metrics")).GET());
        assertThat(metrics.statusCode()).isEqualTo(200);
        assertThat(metrics.headers().firstValue("content-type")).hasValueSatisfying(
                t -> assertThat(t).startsWith("text/plain; version=0.0.4"));
        assertThat(metrics.body()).contains("coop_jobs{").contains("coop_agents_connected");

        assertRefused("/api/v1/jobs?state=bogus", "state: unknown state 'bogus'");
        assertRefused("/api/v1/jobs?limit=-1", "limit: must be between 0");
        assertRefused("/api/v1/jobs?limit=ten", "limit: must be a whole number");
        assertRefused("/api/v1/jobs?limit=1&limit=2", "limit: given 2 times");
        assertRefused("/api/v1/nodes?x=1", "unknown parameter 'x'");
        assertRefused("/api/v1/proposals?open=maybe", "open: must be true or false");
        assertRefused("/api/v1/history?since=yesterday", "since: must be a whole number");
    }

    @Test
    void metricsAreServedAsPrometheusTextWhenGiven() throws Exception {
        // A second dashboard over the same scheduler's pieces is not possible from outside, so this one
        // starts its own, with a metrics source, on a cooperative of its own.
        Path data = dir.resolve("metrics-data");
        Files.createDirectories(data);
        try (EngineFixture engine = EngineFixture.found(data, InstantSource.system(),
                List.of(new TestMembers().member("carol", List.of("lab-c"))), List.of("lab-c"),
                coop.scheduler.domain.Params.DEFAULTS, null, Duration.ofMillis(250))) {
            Store store = engine.store();
            var loop = engine.loop();
            try (DashboardServer dashboard = DashboardServer.start(new InetSocketAddress("127.0.0.1", 0), loop,
                    store, InstantSource.system(), () -> "# TYPE coop_up gauge\ncoop_up 1\n")) {
                HttpResponse<String> m = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:"
                        + dashboard.port() + "/metrics")).GET().build(), HttpResponse.BodyHandlers.ofString());
                assertThat(m.statusCode()).isEqualTo(200);
                assertThat(m.headers().firstValue("content-type"))
                        .hasValue("text/plain; version=0.0.4; charset=utf-8");
                assertThat(m.body()).isEqualTo("# TYPE coop_up gauge\ncoop_up 1\n");
            }
        }
    }

    /** As printed and read back, so numbers compare by value whatever node type built them. */
    private static JsonNode reparsed(JsonNode node) throws Exception {
        return JSON.readTree(JSON.writeValueAsString(node));
    }

    private void assertRefused(String path, String message) throws Exception {
        HttpResponse<String> r = send(HttpRequest.newBuilder(uri(path)).GET());
        assertThat(r.statusCode()).as(path).isEqualTo(400);
        assertThat(JSON.readTree(r.body()).get("error").asText()).as(path).contains(message);
    }

    private JsonNode get(String path) throws Exception {
        HttpResponse<String> r = send(HttpRequest.newBuilder(uri(path)).GET());
        assertThat(r.statusCode()).as(path + ": " + r.body()).isEqualTo(200);
        assertThat(r.headers().firstValue("content-type")).hasValue("application/json; charset=utf-8");
        return JSON.readTree(r.body());
    }

    private HttpResponse<String> send(HttpRequest.Builder request) throws Exception {
        return http.send(request.timeout(Duration.ofSeconds(15)).build(), HttpResponse.BodyHandlers.ofString());
    }

    private URI uri(String path) {
        return URI.create("http://127.0.0.1:" + server.httpPort() + path);
    }
}
