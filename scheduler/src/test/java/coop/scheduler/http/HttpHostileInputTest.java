package coop.scheduler.http;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import coop.scheduler.SchedulerServer;
import coop.scheduler.audit.LedgerVerifier;
import coop.scheduler.engine.ClusterState;
import coop.scheduler.engine.EngineFixture;
import coop.scheduler.engine.EventLoop;
import coop.scheduler.governance.TestMembers;
import coop.scheduler.ledger.Ledger;
import coop.scheduler.rpc.Caller;
import coop.scheduler.store.Store;
import coop.v1.GetJobRequest;
import coop.v1.GovernanceGrpc;
import coop.v1.JobsGrpc;
import coop.v1.ListProposalsRequest;
import coop.v1.SubmitRequest;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.stub.MetadataUtils;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Duration;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.random.RandomGenerator;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Hostile input against the dashboard's real HTTP port (Netty on 127.0.0.1, beside the gRPC
 * port of the same scheduler): random bytes, mutated valid requests, oversized request lines,
 * headers and bodies, random paths and parameters, pipelined and half-closed connections, and
 * connections that trickle a request or say nothing. Every answer must be a well-formed HTTP
 * response with a status from the set the dashboard gives (never 500); afterwards the dashboard
 * still answers valid requests correctly, the gRPC side still serves, and the store and ledger
 * still verify.
 *
 * <p>Seeded: the seed is printed and {@code -Dcoop.fuzz.seed=N} replays it. {@code
 * -Dcoop.fuzz.inputs=N} makes a longer run.
 */
class HttpHostileInputTest {
    private static final int INPUTS = Integer.getInteger("coop.fuzz.inputs", 1500);
    private static final Set<Integer> EXPECTED = Set.of(200, 400, 403, 404, 405, 413, 414, 417, 431, 503);
    private static final Pattern STATUS = Pattern.compile("^HTTP/\\d\\.\\d (\\d{3}) ");
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final List<String> PATHS = List.of("/", "/index.html", "/dashboard.js", "/dashboard.css",
            "/metrics", "/api/v1/nodes", "/api/v1/jobs", "/api/v1/usage", "/api/v1/proposals", "/api/v1/ledger",
            "/api/v1/history", "/api/v1/jobs?state=pending,running&limit=3", "/api/v1/proposals?open=true",
            "/api/v1/history?since=0");

    @TempDir
    Path dir;
    private Path data;
    private SchedulerServer server;
    private ManagedChannel channel;

    /** Status codes seen, and anything that was not a well-formed answer from the expected set. */
    private final Map<Integer, AtomicInteger> statuses = new ConcurrentHashMap<>();
    private final ConcurrentLinkedQueue<String> unexpected = new ConcurrentLinkedQueue<>();

    @BeforeEach
    void found() throws Exception {
        data = dir.resolve("data");
        Files.createDirectories(data);
        TestMembers keys = new TestMembers();
        try (Store store = Store.open(data)) {
            ClusterState.found(store, List.of(keys.member("alice", List.of("lab-a")),
                    keys.member("bob", List.of("lab-b"))), List.of("lab-a", "lab-b"), System.currentTimeMillis());
        }
        server = start();
    }

    private SchedulerServer start() {
        return SchedulerServer.start(new SchedulerServer.Config(data, "127.0.0.1", 0, Duration.ofSeconds(5), null,
                true).withHttp(new InetSocketAddress("127.0.0.1", 0)), InstantSource.system());
    }

    @AfterEach
    void stop() throws InterruptedException {
        if (channel != null) {
            channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
        }
        if (server != null) {
            server.close();
        }
    }

    @Test
    @Timeout(120)
    void survivesABarrageOfHostileInput() throws Exception {
        long seed = Long.getLong("coop.fuzz.seed", new SecureRandom().nextLong());
        System.out.printf("HttpHostileInputTest seed %d (replay with -Dcoop.fuzz.seed=%d)%n", seed, seed);
        RandomGenerator random = new Random(seed);
        channel = NettyChannelBuilder.forAddress("127.0.0.1", server.port()).usePlaintext().build();
        submit("before-the-barrage");

        // Connections that trickle or say nothing stay open through the barrage: they must not starve it.
        List<Socket> slow = new ArrayList<>();
        for (int i = 0; i < 20; i++) {
            Socket s = connect();
            s.getOutputStream().write("GET /api/v1/nodes HTTP/1.1\r\nHost: 127.0.0.1".getBytes(StandardCharsets.US_ASCII));
            slow.add(s);
        }
        long start = System.nanoTime();
        ExecutorService pool = Executors.newFixedThreadPool(8);
        try {
            List<Future<?>> all = new ArrayList<>();
            for (int i = 0; i < INPUTS; i++) {
                long inputSeed = random.nextLong();
                all.add(pool.submit(() -> {
                    hostileConnection(new Random(inputSeed));
                    return null;
                }));
            }
            for (Future<?> f : all) {
                f.get(60, TimeUnit.SECONDS);
            }
        } finally {
            pool.shutdownNow();
        }
        System.out.printf("HttpHostileInputTest: %d connections in %d ms; statuses %s%n", INPUTS,
                (System.nanoTime() - start) / 1_000_000, new TreeMap<>(statuses));
        assertThat(unexpected).as("answers that were malformed or not from %s (seed %d)", EXPECTED, seed).isEmpty();
        assertThat(statuses).as("the barrage reached the routes").containsKeys(200, 400, 404, 405);
        for (Socket s : slow) {
            s.close();
        }
        assertStillServing();
    }

    @Test
    @Timeout(60)
    void oversizedRequestsAreRefusedWithTheirOwnStatus() throws Exception {
        assertThat(exchange("GET /" + "a".repeat(10_000) + " HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")).startsWith("HTTP/1.1 414 ");
        assertThat(exchange("GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Big: " + "b".repeat(20_000) + "\r\n\r\n"))
                .startsWith("HTTP/1.1 431 ");
        StringBuilder many = new StringBuilder("GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n");
        for (int i = 0; i < 2000; i++) {
            many.append("X-").append(i).append(": y\r\n");
        }
        assertThat(exchange(many + "\r\n")).startsWith("HTTP/1.1 431 ");
        assertThat(exchange("GET /api/v1/nodes HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 100000\r\n\r\n"
                + "z".repeat(100_000))).startsWith("HTTP/1.1 413 ");
        StringBuilder chunked = new StringBuilder("GET /api/v1/nodes HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: chunked\r\n\r\n");
        for (int i = 0; i < 20; i++) {
            chunked.append("1000\r\n").append("c".repeat(0x1000)).append("\r\n");
        }
        assertThat(exchange(chunked + "0\r\n\r\n")).startsWith("HTTP/1.1 413 ");
        // A length Java cannot hold, and one that is no number.
        assertThat(exchange("GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 99999999999999999999\r\n\r\n"))
                .startsWith("HTTP/1.1 400 ");
        assertThat(exchange("GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: -5\r\n\r\n")).startsWith("HTTP/1.1 400 ");
        assertThat(exchange("GET /api/v1/jobs?account=%zz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")).startsWith("HTTP/1.1 400 ")
                .contains("account: malformed percent-encoding '%zz'");
        assertThat(exchange("GET /api/v1/%zz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")).startsWith("HTTP/1.1 400 ")
                .contains("malformed request target");
        assertThat(exchange("BREW /pot HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")).startsWith("HTTP/1.1 405 ").contains("Allow: GET, HEAD");
        assertStillServing();
    }

    @Test
    @Timeout(60)
    void everyBadParameterIsRefusedWith400NamingItAndTheRule() throws Exception {
        // Each target, and what its one-line refusal must say: the parameter first, then the rule.
        Map<String, String> refusals = new java.util.LinkedHashMap<>();
        refusals.put("/api/v1/jobs?account=%00%ff", "account: ");
        refusals.put("/api/v1/jobs?account=%ff", "account: is not valid UTF-8");
        refusals.put("/api/v1/jobs?account=%c3%28", "account: is not valid UTF-8");
        refusals.put("/api/v1/jobs?account=%ed%a0%80", "account: is not valid UTF-8");
        refusals.put("/api/v1/jobs?account=%00", "account: contains a control character (U+0000)");
        refusals.put("/api/v1/jobs?account=lab-a%0a", "account: contains a control character (U+000A)");
        refusals.put("/api/v1/jobs?account=lab%7f", "account: contains a control character (U+007F)");
        refusals.put("/api/v1/jobs?account=%c2%85", "account: contains a control character (U+0085)");
        refusals.put("/api/v1/jobs?account=%zz", "account: malformed percent-encoding");
        refusals.put("/api/v1/jobs?account=lab%4", "account: malformed percent-encoding");
        refusals.put("/api/v1/jobs?account=lab%", "account: malformed percent-encoding");
        refusals.put("/api/v1/jobs?account=Lab-A", "account: 'Lab-A' must match [a-z][a-z0-9_-]{0,62}");
        refusals.put("/api/v1/jobs?account=no-such-lab", "account: no account named 'no-such-lab'");
        refusals.put("/api/v1/jobs?account=lab-a&account=lab-b", "account: given 2 times");
        refusals.put("/api/v1/jobs?limit=abc", "limit: must be a whole number");
        refusals.put("/api/v1/jobs?limit=", "limit: must be a whole number");
        refusals.put("/api/v1/jobs?limit=1e3", "limit: must be a whole number");
        refusals.put("/api/v1/jobs?limit=%d9%a1", "limit: must be a whole number");
        refusals.put("/api/v1/jobs?limit=+5", "limit: must be a whole number");
        refusals.put("/api/v1/jobs?limit=-1", "limit: must be between 0 and 2147483647, got -1");
        refusals.put("/api/v1/jobs?limit=99999999999999999999", "limit: must be between 0 and 2147483647");
        refusals.put("/api/v1/jobs?limit=%ff", "limit: is not valid UTF-8");
        refusals.put("/api/v1/jobs?page_token=abc", "page_token: 'abc' is not a token a listing gave");
        refusals.put("/api/v1/jobs?page_token=-3", "page_token: '-3' is not a token a listing gave");
        refusals.put("/api/v1/jobs?page_size=-1", "page_size: must be between 0 and 2147483647, got -1");
        refusals.put("/api/v1/jobs?member=Bob", "member: 'Bob' must match [a-z][a-z0-9_-]{0,62}");
        refusals.put("/api/v1/jobs?member=nobody", "member: no member named 'nobody'");
        refusals.put("/api/v1/jobs?state=bogus", "state: unknown state 'bogus'; expected pending");
        refusals.put("/api/v1/jobs?state=pending,,running", "state: unknown state ''");
        refusals.put("/api/v1/jobs?state=runn%c4%b1ng", "state: unknown state 'runn\u0131ng'");
        refusals.put("/api/v1/jobs?state=job_state_unspecified", "state: unknown state");
        refusals.put("/api/v1/jobs?state=unrecognized", "state: unknown state");
        refusals.put("/api/v1/jobs?state=%01", "state: contains a control character (U+0001)");
        refusals.put("/api/v1/jobs?%ff=1", "parameter name: is not valid UTF-8");
        refusals.put("/api/v1/jobs?lim%zzit=1", "parameter name: malformed percent-encoding");
        refusals.put("/api/v1/jobs?acc%00ount=1", "parameter name: contains a control character (U+0000)");
        refusals.put("/api/v1/jobs?sort=name", "unknown parameter 'sort'; expected account, member, state, limit, page_size, page_token");
        refusals.put("/api/v1/history?since=abc", "since: must be a whole number");
        refusals.put("/api/v1/history?since=-5", "since: must be between 0 and");
        refusals.put("/api/v1/history?since=1.5", "since: must be a whole number");
        refusals.put("/api/v1/history?since=%ff%fe", "since: is not valid UTF-8");
        refusals.put("/api/v1/proposals?open=maybe", "open: must be true or false, got 'maybe'");
        refusals.put("/api/v1/proposals?open=%e2%82", "open: is not valid UTF-8");
        refusals.put("/api/v1/nodes?x=1", "unknown parameter 'x': this page takes none");
        refusals.put("/api/v1/usage?%00", "parameter name: contains a control character (U+0000)");
        refusals.put("/api/v1/ledger?a=%zz", "a: malformed percent-encoding");
        refusals.put("/api/v1/nodes?" + "a=1&".repeat(17), "more than 16 parameters");
        for (var refusal : refusals.entrySet()) {
            String answer = exchange("GET " + refusal.getKey() + " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n");
            assertThat(answer).as(refusal.getKey()).startsWith("HTTP/1.1 400 ");
            assertThat(JSON.readTree(body(answer)).path("error").asText()).as(refusal.getKey())
                    .startsWith(refusal.getValue().substring(0, refusal.getValue().indexOf(':') + 1))
                    .contains(refusal.getValue());
        }
        // What is well-formed is still served: raw UTF-8 and its escapes alike, any case of a state.
        for (String good : List.of("/api/v1/jobs?account=lab-a", "/api/v1/jobs?account=lab%2Da&limit=0",
                "/api/v1/jobs?state=PENDING,running&limit=3", "/api/v1/jobs?account=", "/api/v1/proposals?open",
                "/api/v1/proposals?open=false", "/api/v1/history?since=0", "/api/v1/history?since=9223372036854775807")) {
            assertThat(exchange("GET " + good + " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"))
                    .as(good).startsWith("HTTP/1.1 200 ");
        }
        assertStillServing();
    }

    @Test
    @Timeout(60)
    void aRequestForAnotherHostIsRefusedOnALoopbackAddress() throws Exception {
        // DNS rebinding: a page at evil.example whose name now points at 127.0.0.1.
        String refused = exchange("GET /api/v1/usage HTTP/1.1\r\nHost: evil.example:" + server.httpPort()
                + "\r\nConnection: close\r\n\r\n");
        assertThat(refused).startsWith("HTTP/1.1 403 ").contains("not for 'evil.example:");
        assertThat(exchange("GET /api/v1/usage HTTP/1.1\r\nHost: 127.0.0.1.evil.example\r\n\r\n"))
                .startsWith("HTTP/1.1 403 ");
        for (String host : List.of("localhost:" + server.httpPort(), "127.0.0.1", "[::1]:" + server.httpPort(),
                "LOCALHOST")) {
            assertThat(exchange("GET /api/v1/nodes HTTP/1.1\r\nHost: " + host + "\r\nConnection: close\r\n\r\n"))
                    .as(host).startsWith("HTTP/1.1 200 ");
        }
        // HTTP/1.0 may leave the Host out.
        assertThat(exchange("GET /api/v1/nodes HTTP/1.0\r\n\r\n")).startsWith("HTTP/1.0 200 ");
        assertThat(RequestHandler.isLoopbackName("[::1]evil")).isFalse();
        assertThat(RequestHandler.isLoopbackName("127.0.0.1:80")).isTrue();
        assertThat(RequestHandler.isLoopbackName("localhost.evil.example")).isFalse();
    }

    @Test
    @Timeout(60)
    void pipelinedRequestsAreAnsweredInOrderAndHalfClosedOnesStillGetTheirAnswer() throws Exception {
        String pipeline = "GET /api/v1/usage HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
                + "GET /dashboard.css HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
                + "GET /nope HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
                + "HEAD /api/v1/nodes HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
                + "GET /api/v1/ledger HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n";
        String answers;
        try (Socket s = connect()) {
            s.getOutputStream().write(pipeline.getBytes(StandardCharsets.US_ASCII));
            // The last request asks the server to close: read to the end, however slow the answers come.
            answers = readUntilClosed(s, Duration.ofSeconds(30));
        }
        List<String> order = new ArrayList<>();
        Matcher m = Pattern.compile("HTTP/1\\.1 (\\d{3}) [^\\r]*\\r\\n(?:[^\\r]+\\r\\n)*?content-type: ([^;\\r]+)",
                Pattern.CASE_INSENSITIVE).matcher(answers);
        while (m.find()) {
            order.add(m.group(1) + " " + m.group(2));
        }
        assertThat(order).as(answers).containsExactly("200 application/json", "200 text/css", "404 text/plain",
                "200 application/json", "200 application/json");
        // The client closes its half after the request: the answer still comes, then the server closes.
        try (Socket s = connect()) {
            s.getOutputStream().write("GET /api/v1/nodes HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
            s.shutdownOutput();
            assertThat(readUntilClosed(s, Duration.ofSeconds(30))).startsWith("HTTP/1.1 200 ").endsWith("[]");
        }
        assertStillServing();
    }

    @Test
    @Timeout(60)
    void connectionsThatTrickleOrSayNothingAreClosed() throws Exception {
        // A dashboard with a short request timeout, over a scheduler's own store and loop.
        server.close();
        server = null;
        try (EngineFixture engine = EngineFixture.open(data, InstantSource.system(), null, Duration.ofMillis(250))) {
            Store store = engine.store();
            EventLoop loop = engine.loop();
            var limits = new DashboardServer.Limits(4096, 8192, 8192, 8, Duration.ofMillis(700));
            try (DashboardServer dashboard = DashboardServer.start(new InetSocketAddress("127.0.0.1", 0), loop,
                    store, InstantSource.system(), null, false, limits, Duration.ofSeconds(1))) {
                try (Socket silent = new Socket("127.0.0.1", dashboard.port());
                     Socket trickle = new Socket("127.0.0.1", dashboard.port())) {
                    silent.setSoTimeout(10_000);
                    byte[] request = "GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".getBytes(StandardCharsets.US_ASCII);
                    long t = System.nanoTime();
                    boolean closed = false;
                    // One byte every 100 ms would take 2.7 s: the connection is closed before it ends.
                    for (byte b : request) {
                        try {
                            trickle.getOutputStream().write(b);
                            trickle.getOutputStream().flush();
                        } catch (IOException e) {
                            closed = true;
                            break;
                        }
                        await().pollDelay(Duration.ofMillis(100)).atMost(Duration.ofSeconds(1)).until(() -> true);
                    }
                    trickle.setSoTimeout(10_000);
                    String got = closed ? "" : readAll(trickle, Duration.ofSeconds(10));
                    assertThat(got).as("a trickled request gets no answer").isEmpty();
                    assertThat(silent.getInputStream().read()).as("a silent connection is closed").isEqualTo(-1);
                }
                // More connections than allowed: the extra ones are closed at once, the rest still work.
                List<Socket> held = new ArrayList<>();
                try {
                    for (int i = 0; i < 12; i++) {
                        held.add(new Socket("127.0.0.1", dashboard.port()));
                    }
                    int refused = 0;
                    for (Socket s : held) {
                        s.setSoTimeout(5_000);
                        try {
                            if (s.getInputStream().read() == -1) {
                                refused++;
                            }
                        } catch (IOException e) {
                            refused++;
                        }
                    }
                    // Each was closed: the extra ones at once, the others by the request timeout.
                    assertThat(refused).isEqualTo(12);
                } finally {
                    for (Socket s : held) {
                        s.close();
                    }
                }
                try (Socket s = new Socket("127.0.0.1", dashboard.port())) {
                    s.setSoTimeout(10_000);
                    s.getOutputStream().write("GET /api/v1/nodes HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
                            .getBytes(StandardCharsets.US_ASCII));
                    assertThat(readUntilClosed(s, Duration.ofSeconds(30))).startsWith("HTTP/1.1 200 ").endsWith("[]");
                }
            }
        }
    }

    // ------------------------------------------------------------------ the barrage

    private void hostileConnection(RandomGenerator random) {
        byte[] bytes = switch (random.nextInt(6)) {
            case 0 -> randomBytes(random, random.nextInt(4) == 0 ? 70_000 : 300);
            case 1, 2 -> mutate(random, validRequest(random));
            case 3 -> randomPath(random);
            case 4 -> oversized(random);
            default -> validRequest(random);
        };
        boolean halfClose = random.nextBoolean();
        try (Socket s = connect()) {
            s.setSoTimeout(300);
            OutputStream out = s.getOutputStream();
            out.write(bytes);
            out.flush();
            if (halfClose) {
                s.shutdownOutput();
            }
            check(drain(s), bytes);
        } catch (IOException closedOnUs) {
            // The server may hang up at any point: a fine answer to garbage.
        }
    }

    private void check(byte[] answer, byte[] sent) {
        if (answer.length == 0) {
            return;
        }
        String text = new String(answer, StandardCharsets.ISO_8859_1);
        // Every answer on the connection, pipelined or not.
        int from = 0;
        while (from >= 0 && from < text.length()) {
            Matcher m = STATUS.matcher(text.substring(from));
            if (!m.find()) {
                unexpected.add("not an HTTP answer: " + abbreviate(text.substring(from)) + " to " + abbreviate(sent));
                return;
            }
            int status = Integer.parseInt(m.group(1));
            statuses.computeIfAbsent(status, k -> new AtomicInteger()).incrementAndGet();
            if (!EXPECTED.contains(status)) {
                unexpected.add(status + " to " + abbreviate(sent) + ": " + abbreviate(text.substring(from)));
            }
            from = text.indexOf("\r\nHTTP/", from + 1);
            from = from < 0 ? -1 : from + 2;
        }
    }

    private static byte[] validRequest(RandomGenerator random) {
        String method = List.of("GET", "GET", "GET", "HEAD", "POST", "PUT", "DELETE", "OPTIONS", "TRACE", "PATCH")
                .get(random.nextInt(10));
        String path = PATHS.get(random.nextInt(PATHS.size()));
        StringBuilder r = new StringBuilder(method + " " + path + " HTTP/1." + random.nextInt(2) + "\r\nHost: 127.0.0.1\r\n");
        if (random.nextBoolean()) {
            r.append("Connection: ").append(random.nextBoolean() ? "close" : "keep-alive").append("\r\n");
        }
        if (random.nextInt(4) == 0) {
            String body = "x".repeat(random.nextInt(100));
            r.append("Content-Length: ").append(body.length()).append("\r\n\r\n").append(body);
        } else {
            r.append("\r\n");
        }
        if (random.nextInt(4) == 0) {
            // Pipelined: a second request behind the first.
            r.append("GET ").append(PATHS.get(random.nextInt(PATHS.size()))).append(" HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
        }
        return r.toString().getBytes(StandardCharsets.US_ASCII);
    }

    private static byte[] mutate(RandomGenerator random, byte[] request) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.writeBytes(request);
        byte[] b = out.toByteArray();
        for (int n = 1 + random.nextInt(4); n > 0; n--) {
            int at = random.nextInt(b.length);
            switch (random.nextInt(6)) {
                case 0 -> b[at] = (byte) random.nextInt(256);
                case 1 -> b[at] = (byte) "\r\n :%?&=/\0\t".charAt(random.nextInt(11));
                case 2 -> b = java.util.Arrays.copyOf(b, at);
                case 3 -> {
                    byte[] c = new byte[b.length + 1];
                    System.arraycopy(b, 0, c, 0, at);
                    c[at] = (byte) random.nextInt(256);
                    System.arraycopy(b, at, c, at + 1, b.length - at);
                    b = c;
                }
                case 4 -> {
                    byte[] c = new byte[b.length - 1];
                    System.arraycopy(b, 0, c, 0, at);
                    System.arraycopy(b, at + 1, c, at, b.length - at - 1);
                    b = c;
                }
                default -> {
                    // Repeat a stretch, as a confused proxy might.
                    int len = Math.min(b.length - at, 1 + random.nextInt(40));
                    ByteArrayOutputStream c = new ByteArrayOutputStream();
                    c.write(b, 0, at + len);
                    c.write(b, at, b.length - at);
                    b = c.toByteArray();
                }
            }
            if (b.length == 0) {
                return b;
            }
        }
        return b;
    }

    private static byte[] randomPath(RandomGenerator random) {
        StringBuilder path = new StringBuilder(List.of("/", "/api/", "/api/v1/", "/api/v1/jobs", "/metrics/", "//",
                "/../../", "/%2e%2e/").get(random.nextInt(8)));
        String alphabet = "abcdefghijklmnopqrstuvwxyz0123456789-._~%/?&=+#;,:@!$'()*[]";
        for (int i = random.nextInt(60); i > 0; i--) {
            path.append(alphabet.charAt(random.nextInt(alphabet.length())));
        }
        if (random.nextInt(5) == 0) {
            path.append("%").append(Integer.toHexString(random.nextInt(256)));
        }
        if (random.nextInt(5) == 0) {
            path.append("é\u0001");
        }
        String request = "GET " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n";
        return request.getBytes(StandardCharsets.UTF_8);
    }

    private static byte[] oversized(RandomGenerator random) {
        return switch (random.nextInt(3)) {
            case 0 -> ("GET /" + "u".repeat(5_000 + random.nextInt(20_000)) + " HTTP/1.1\r\n\r\n")
                    .getBytes(StandardCharsets.US_ASCII);
            case 1 -> ("GET / HTTP/1.1\r\nX: " + "h".repeat(9_000 + random.nextInt(20_000)) + "\r\n\r\n")
                    .getBytes(StandardCharsets.US_ASCII);
            default -> ("GET /api/v1/usage HTTP/1.1\r\nContent-Length: " + (9_000 + random.nextInt(50_000))
                    + "\r\n\r\n" + "b".repeat(random.nextInt(20_000))).getBytes(StandardCharsets.US_ASCII);
        };
    }

    // ------------------------------------------------------------------ afterwards

    private void assertStillServing() throws Exception {
        assertThat(server.isServing()).as("gRPC server and event loop running").isTrue();
        String nodes = exchange("GET /api/v1/nodes HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n");
        assertThat(nodes).startsWith("HTTP/1.1 200 ").endsWith("[]");
        String page = exchange("GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n");
        assertThat(page).startsWith("HTTP/1.1 200 ").contains("<title>coop dashboard</title>");
        long id = submit("after-the-barrage");
        JsonNode jobs = JSON.readTree(body(exchange("GET /api/v1/jobs?state=pending HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                + "Connection: close\r\n\r\n"))).get("jobs");
        assertThat(jobs.findValuesAsText("name")).contains("after-the-barrage");
        if (channel == null) {
            channel = NettyChannelBuilder.forAddress("127.0.0.1", server.port()).usePlaintext().build();
        }
        assertThat(GovernanceGrpc.newBlockingStub(channel).withDeadlineAfter(10, TimeUnit.SECONDS)
                .listProposals(ListProposalsRequest.getDefaultInstance())).isNotNull();
        await().atMost(Duration.ofSeconds(20)).untilAsserted(() -> {
            JsonNode ledger = JSON.readTree(body(exchange("GET /api/v1/ledger HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                    + "Connection: close\r\n\r\n")));
            assertThat(ledger.path("verification").path("ok").asBoolean()).as(ledger.toString()).isTrue();
            assertThat(ledger.path("verification").path("current").asBoolean()).as(ledger.toString()).isTrue();
        });
        try (Store readOnly = Store.openReadOnly(data)) {
            LedgerVerifier.Report report = LedgerVerifier.verify(Ledger.rawEntries(readOnly));
            assertThat(report.problem()).isNull();
        }
        // The store recovers: a restarted scheduler has the job.
        channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
        server.close();
        server = start();
        channel = NettyChannelBuilder.forAddress("127.0.0.1", server.port()).usePlaintext().build();
        assertThat(JobsGrpc.newBlockingStub(channel).withDeadlineAfter(10, TimeUnit.SECONDS)
                .getJob(GetJobRequest.newBuilder().setJobId(id).build()).getName()).isEqualTo("after-the-barrage");
    }

    private long submit(String name) {
        if (channel == null) {
            channel = NettyChannelBuilder.forAddress("127.0.0.1", server.port()).usePlaintext().build();
        }
        Metadata alice = new Metadata();
        alice.put(Caller.MEMBER, "alice");
        alice.put(Caller.TOKEN, "token-alice");
        return JobsGrpc.newBlockingStub(channel).withInterceptors(MetadataUtils.newAttachHeadersInterceptor(alice))
                .withDeadlineAfter(10, TimeUnit.SECONDS).submit(SubmitRequest.newBuilder().setAccount("lab-a")
                        .setGpusPerNode(1).setGpuModel("H100").setCommand("true").setName(name).build()).getJobId();
    }

    // ------------------------------------------------------------------ sockets

    private Socket connect() throws IOException {
        Socket s = new Socket();
        s.connect(new InetSocketAddress("127.0.0.1", server.httpPort()), 2000);
        return s;
    }

    /** Sends {@code request} and reads until the server closes (or stays silent for a second). */
    private String exchange(String request) throws IOException {
        try (Socket s = connect()) {
            s.getOutputStream().write(request.getBytes(StandardCharsets.UTF_8));
            s.getOutputStream().flush();
            return readAll(s, Duration.ofSeconds(10));
        }
    }

    /** Everything the server sends until it closes the connection, or fails at {@code patience}. */
    private static String readUntilClosed(Socket s, Duration patience) throws IOException {
        s.setSoTimeout(Math.toIntExact(patience.toMillis()));
        return new String(s.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    }

    private static String readAll(Socket s, Duration patience) throws IOException {
        s.setSoTimeout(1000);
        ByteArrayOutputStream got = new ByteArrayOutputStream();
        long deadline = System.nanoTime() + patience.toNanos();
        byte[] buf = new byte[8192];
        InputStream in = s.getInputStream();
        while (System.nanoTime() < deadline) {
            try {
                int n = in.read(buf);
                if (n < 0) {
                    break;
                }
                got.write(buf, 0, n);
            } catch (SocketTimeoutException quiet) {
                if (got.size() > 0) {
                    break;
                }
            } catch (IOException reset) {
                break;
            }
        }
        return got.toString(StandardCharsets.UTF_8);
    }

    private static byte[] drain(Socket s) {
        ByteArrayOutputStream got = new ByteArrayOutputStream();
        byte[] buf = new byte[8192];
        try {
            InputStream in = s.getInputStream();
            for (int n; (n = in.read(buf)) >= 0 && got.size() < (4 << 20); ) {
                got.write(buf, 0, n);
            }
        } catch (IOException silentOrReset) {
            // Silence for the socket timeout or a reset ends the answer.
        }
        return got.toByteArray();
    }

    private static String body(String response) {
        int at = response.indexOf("\r\n\r\n");
        return at < 0 ? "" : response.substring(at + 4);
    }

    private static byte[] randomBytes(RandomGenerator random, int n) {
        byte[] b = new byte[n];
        random.nextBytes(b);
        return b;
    }

    private static String abbreviate(byte[] b) {
        return abbreviate(new String(b, StandardCharsets.ISO_8859_1));
    }

    private static String abbreviate(String s) {
        String flat = s.replace("\r", "\\r").replace("\n", "\\n");
        return flat.length() <= 200 ? flat : flat.substring(0, 200) + "...";
    }
}
