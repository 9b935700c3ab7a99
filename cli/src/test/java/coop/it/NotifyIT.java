package coop.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import coop.cli.Client;
import coop.cli.Identity;
import coop.v1.GetJobRequest;
import coop.v1.JobState;
import coop.v1.ListNodesRequest;
import coop.v1.SubmitRequest;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Notifications of real jobs run by a real scheduler and agent: the operator's hook hears every
 * event, a member's own hook and mail (through a real SMTP server, aiosmtpd) the events asked
 * for; the member's default, set with coop member set, outlives a restart and applies to jobs
 * that ask for nothing; bad targets are refused at submit naming the field; a hook that answers
 * 500 and one that hangs are retried, then given up with a log line, while the scheduler answers
 * submits promptly and runs jobs throughout.
 */
class NotifyIT {
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path dir;

    /** What a path of the test's HTTP server received: the JSON bodies of the POSTs. */
    private final Map<String, List<JsonNode>> received = new ConcurrentHashMap<>();
    private final AtomicInteger failHits = new AtomicInteger();
    private final AtomicInteger hanging = new AtomicInteger();
    private final CountDownLatch release = new CountDownLatch(1);

    @Test
    void jobEventsReachHooksAndMailWhileFailingHooksNeverHoldTheSchedulerUp() throws Exception {
        CoopProcesses.require(Files.isExecutable(Path.of("/usr/bin/python3")) && aiosmtpd(),
                "Debian's python3-aiosmtpd (a local SMTP server for the mail test)");
        HttpServer hooks = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        hooks.setExecutor(Executors.newCachedThreadPool());
        for (String path : List.of("/ops", "/alice")) {
            hooks.createContext(path, x -> record(path, x, 200));
        }
        hooks.createContext("/fail", x -> {
            failHits.incrementAndGet();
            record("/fail", x, 500);
        });
        hooks.createContext("/hang", x -> {
            hanging.incrementAndGet();
            try {
                release.await(60, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            hanging.decrementAndGet();
            record("/hang", x, 200);
        });
        hooks.start();
        String hook = "http://127.0.0.1:" + hooks.getAddress().getPort();
        int smtpPort;
        try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            smtpPort = s.getLocalPort();
        }
        Path mailbox = dir.resolve("smtp.out");
        Process smtp = new ProcessBuilder("/usr/bin/python3", "-u", "-m", "aiosmtpd", "-n", "-l",
                "127.0.0.1:" + smtpPort).redirectErrorStream(true).redirectOutput(mailbox.toFile()).start();
        try (CoopProcesses coop = new CoopProcesses(dir)) {
            Path data = dir.resolve("data");
            assertThat(coop.run("init", "--data", data.toString(), "--founders", "alice:lab-a,bob:lab-b",
                    "--accounts", "lab-a,lab-b").exitCode()).isZero();
            Path alice = data.resolve("identities/alice.json");

            // A scheduler that sends no mail and calls only 127.0.0.1.
            var first = coop.scheduler(data, "--notify-hosts", "127.0.0.1");
            try (Client client = new Client(first.target(), Identity.read(alice))) {
                refused(client, "END", "ftp://127.0.0.1/x", "notify_to: 'ftp://127.0.0.1/x' is a ftp: URL");
                refused(client, "END", "alice", "notify_to: 'alice' is neither an http(s) URL nor an email address");
                refused(client, "END,DONE", hook + "/alice", "notify: unknown event 'DONE'");
                refused(client, "END", "http://10.9.8.7/hook", "notify_to: this scheduler does not call host "
                        + "'10.9.8.7': its operator allows 127.0.0.1");
                refused(client, "END", "alice@lab.example.org", "notify_to: this scheduler sends no mail: its "
                        + "operator gave no --smtp");
                refused(client, "FAIL", "", "notify_to: events FAIL need an address");
            }
            var unset = coop.run("member", "set", "--scheduler", first.target(), "--identity", alice.toString(),
                    "--notify", "BEGIN", "--notify-to", "alice@lab.example.org");
            assertThat(unset.exitCode()).isNotZero();
            assertThat(unset.stderr()).contains("notify_to: this scheduler sends no mail");
            var set = coop.run("member", "set", "--scheduler", first.target(), "--identity", alice.toString(),
                    "--notify", "end,fail", "--notify-to", hook + "/alice");
            assertThat(set.exitCode()).as(set.stderr()).isZero();
            assertThat(set.stdout()).contains("notify:     END,FAIL", "notify to:  " + hook + "/alice");
            first.process().destroy();
            assertThat(first.process().waitFor(30, TimeUnit.SECONDS)).isTrue();

            var scheduler = coop.scheduler(data, "--webhook", hook + "/ops", "--notify-hosts", "127.0.0.1",
                    "--smtp", "127.0.0.1:" + smtpPort, "--smtp-from", "coop@lab.example.org", "--notify-tries", "2",
                    "--notify-backoff", "1s", "--notify-timeout", "2s");
            var shown = coop.run("member", "show", "--scheduler", scheduler.target(), "--identity", alice.toString());
            assertThat(shown.stdout()).as("the default outlives the restart").contains("notify:     END,FAIL");
            coop.agent(scheduler.target(), alice, "lab-a", "n1", "north", "sim:2xA100-80GB", dir.resolve("n1"));
            try (Client client = new Client(scheduler.target(), Identity.read(alice))) {
                await().atMost(Duration.ofSeconds(30)).until(() -> client.nodes()
                        .listNodes(ListNodesRequest.getDefaultInstance()).getNodesCount() == 1);

                long ok = submit(client, "true", "END", hook + "/alice");
                long failed = submit(client, "exit 3", "", "");
                long mailed = submit(client, "true", "END", "alice@lab.example.org");
                await().atMost(Duration.ofSeconds(30)).until(() -> events("/ops", failed).contains("FAIL")
                        && events("/ops", ok).contains("END") && events("/alice", failed).contains("FAIL"));
                assertThat(events("/ops", ok)).containsExactly("BEGIN", "END");
                assertThat(events("/alice", ok)).containsExactly("END");
                // No notify of its own: the member's default (END,FAIL to its hook) applies, and BEGIN is not asked.
                assertThat(events("/alice", failed)).containsExactly("FAIL");
                JsonNode end = body("/ops", failed, "FAIL");
                assertThat(end.path("name").asText()).isEmpty();
                assertThat(end.path("account").asText()).isEqualTo("lab-a");
                assertThat(end.path("member").asText()).isEqualTo("alice");
                assertThat(end.path("state").asText()).isEqualTo("FAILED");
                assertThat(end.path("exit_code").asInt()).isEqualTo(3);
                assertThat(end.path("time").asText()).matches("\\d{4}-\\d\\d-\\d\\dT.*Z");
                assertThat(end.path("text").asText()).isEqualTo("job " + failed + " of alice in lab-a ended FAILED "
                        + "with exit code 3");
                await().atMost(Duration.ofSeconds(30)).until(() -> Files.readString(mailbox)
                        .contains("Subject: [coop] job " + mailed + " END: SUCCEEDED"));
                assertThat(Files.readString(mailbox)).contains("To: alice@lab.example.org",
                        "From: coop@lab.example.org", "job " + mailed + " of alice in lab-a ended SUCCEEDED");

                // A hook that answers 500 is tried twice, then given up with one log line.
                long refusedHook = submit(client, "exit 1", "FAIL", hook + "/fail");
                await().atMost(Duration.ofSeconds(30)).until(() -> log().contains("notification given up: job "
                        + refusedHook + " FAIL to " + hook + "/fail after 2 tries"));
                assertThat(failHits.get()).isEqualTo(2);

                // Hooks that hang take every delivering thread; the scheduler answers and runs jobs all the same.
                for (int i = 0; i < 3; i++) {
                    submit(client, "true", "ALL", hook + "/hang");
                }
                await().atMost(Duration.ofSeconds(30)).until(() -> hanging.get() >= 4);
                long slowest = 0;
                long during = 0;
                for (int i = 0; i < 5; i++) {
                    long t0 = System.nanoTime();
                    during = submit(client, "true", "", "");
                    slowest = Math.max(slowest, System.nanoTime() - t0);
                }
                assertThat(TimeUnit.NANOSECONDS.toMillis(slowest)).as("the slowest submit while hooks hang, ms")
                        .isLessThan(1_500);
                long last = during;
                await().atMost(Duration.ofSeconds(20)).until(() -> client.jobs().getJob(GetJobRequest.newBuilder()
                        .setJobId(last).build()).getState() == JobState.SUCCEEDED);
                assertThat(hanging.get()).as("the hooks still hang while the job ran").isGreaterThanOrEqualTo(1);
                await().atMost(Duration.ofSeconds(60)).until(() -> log().contains("to " + hook + "/hang after 2 tries"));
                assertThat(log()).containsPattern("notification given up: job \\d+ (BEGIN|END) to " + hook
                        + "/hang after 2 tries in \\d+ ms: HttpTimeoutException");
            }
        } finally {
            release.countDown();
            hooks.stop(0);
            smtp.destroy();
            smtp.waitFor(10, TimeUnit.SECONDS);
        }
    }

    private static boolean aiosmtpd() throws IOException, InterruptedException {
        Process p = new ProcessBuilder("/usr/bin/python3", "-c", "import aiosmtpd").redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
        return p.waitFor(30, TimeUnit.SECONDS) && p.exitValue() == 0;
    }

    private void record(String path, HttpExchange x, int status) throws IOException {
        byte[] body = x.getRequestBody().readAllBytes();
        if (status == 200) {
            received.computeIfAbsent(path, p -> new CopyOnWriteArrayList<>()).add(JSON.readTree(body));
        }
        x.sendResponseHeaders(status, -1);
        x.close();
    }

    private List<String> events(String path, long job) {
        return received.getOrDefault(path, List.of()).stream().filter(n -> n.path("job_id").asLong() == job)
                .map(n -> n.path("event").asText()).toList();
    }

    private JsonNode body(String path, long job, String event) {
        return received.get(path).stream().filter(n -> n.path("job_id").asLong() == job
                && n.path("event").asText().equals(event)).findFirst().orElseThrow();
    }

    private String log() throws IOException {
        StringBuilder all = new StringBuilder();
        try (Stream<Path> files = Files.list(dir)) {
            for (Path f : files.filter(f -> f.getFileName().toString().endsWith("-scheduler.log")).sorted().toList()) {
                all.append(Files.readString(f, StandardCharsets.UTF_8));
            }
        }
        return all.toString();
    }

    private static long submit(Client client, String command, String notify, String to) {
        return client.jobs().submit(SubmitRequest.newBuilder().setAccount("lab-a").setGpusPerNode(1)
                .setWalltimeSeconds(60).setCommand(command).setNotify(notify).setNotifyTo(to).build()).getJobId();
    }

    private static void refused(Client client, String notify, String to, String message) {
        try {
            submit(client, "true", notify, to);
            throw new AssertionError("submit with notify '" + notify + "' to '" + to + "' was taken");
        } catch (StatusRuntimeException e) {
            assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT);
            assertThat(e.getStatus().getDescription()).contains(message);
        }
    }
}
