package coop.it;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code coop demo --json}: the real jar runs the whole system, both votes pass, the report
 * computed from the recorded attempts keeps every account within 5 points of its voted share,
 * and the same report is written as an HTML page in the demo's folder.
 */
class DemoIT {
    @TempDir
    Path dir;

    @Test
    void theDemoRunsBothPolicyPeriodsAndReportsAchievedSharesNearTheVotedOnes() throws Exception {
        Path data = dir.resolve("demo");
        Path out = dir.resolve("demo.out");
        Path err = dir.resolve("demo.err");
        // The demo exactly as a user runs it (default periods), so its promise is what is tested.
        List<String> command = new java.util.ArrayList<>(CoopProcesses.command("demo", "--data", data.toString(),
                "--json"));
        command.remove("-Xmx256m");
        Process p = new ProcessBuilder(command)
                .redirectOutput(out.toFile()).redirectError(err.toFile()).start();
        try {
            // The dashboard is live while the demo runs (on a free port if 8080 is taken): its API
            // shows the demo's nodes and accounts.
            String url = org.awaitility.Awaitility.await().atMost(java.time.Duration.ofSeconds(60))
                    .until(() -> dashboardUrl(err), java.util.Objects::nonNull);
            var http = java.net.http.HttpClient.newHttpClient();
            org.awaitility.Awaitility.await().atMost(java.time.Duration.ofSeconds(60)).untilAsserted(() -> {
                var usage = http.send(java.net.http.HttpRequest.newBuilder(java.net.URI.create(url + "api/v1/usage"))
                        .build(), java.net.http.HttpResponse.BodyHandlers.ofString());
                assertThat(usage.statusCode()).isEqualTo(200);
                assertThat(usage.body()).contains("lab-a").contains("uni-c");
                var page = http.send(java.net.http.HttpRequest.newBuilder(java.net.URI.create(url)).build(),
                        java.net.http.HttpResponse.BodyHandlers.ofString());
                assertThat(page.statusCode()).isEqualTo(200);
            });
            assertThat(p.waitFor(180, java.util.concurrent.TimeUnit.SECONDS)).as("demo finished").isTrue();
        } finally {
            p.destroyForcibly();
        }
        assertThat(p.exitValue()).as(Files.readString(err)).isZero();
        // The members' identity files name the port the scheduler took, not the port 0 they were founded with, so
        // that a member's coop command given one of them called the demo while it ran.
        var listening = java.util.regex.Pattern.compile("scheduler listening on (127\\.0\\.0\\.1:\\d+)")
                .matcher(Files.readString(err));
        assertThat(listening.find()).as(Files.readString(err)).isTrue();
        for (String member : List.of("alice", "bob", "carol", "dave", "erin")) {
            assertThat(coop.cli.Identity.read(data.resolve("identities").resolve(member + ".json")).scheduler())
                    .as(member).isEqualTo(listening.group(1));
        }
        List<String> lines = Files.readAllLines(out);
        JsonNode report = new ObjectMapper().readTree(lines.get(lines.size() - 1));

        JsonNode periods = report.get("periods");
        assertThat(periods).hasSize(2);
        assertThat(periods.get(0).get("voted").get("lab-a").asDouble()).isEqualTo(50.0);
        assertThat(periods.get(1).get("voted").get("uni-c").asDouble()).isEqualTo(50.0);
        for (JsonNode period : periods) {
            assertThat(period.get("all_pending").asBoolean()).isTrue();
            double sum = 0;
            for (var e : period.get("voted").properties()) {
                double achieved = period.get("achieved").get(e.getKey()).asDouble();
                sum += achieved;
                assertThat(achieved).as("%s in policy v%s", e.getKey(), period.get("policy_version"))
                        .isCloseTo(e.getValue().asDouble(), org.assertj.core.data.Offset.offset(5.0));
            }
            assertThat(sum).isCloseTo(100.0, org.assertj.core.data.Offset.offset(0.5));
        }
        assertThat(report.get("jobs_done").asInt()).isGreaterThan(50);
        assertThat(report.get("utilization").asDouble()).isBetween(0.5, 1.0);
        assertThat(Files.readString(err)).contains("vote 2: passed").contains("moving-phantom aggregate")
                .contains("ledger verified");

        // The same report as a page next to the demo's data: both periods' charts, the timeline, every account.
        Path html = data.resolve("report.html");
        assertThat(report.get("report_html").asText()).isEqualTo(html.toString());
        assertThat(html).isRegularFile();
        String page = Files.readString(html);
        assertThat(page.length()).isGreaterThan(20_000);
        assertThat(page).startsWith("<!DOCTYPE html>").contains("verified")
                .contains("lab-a").contains("lab-b").contains("uni-c")
                .contains("policy v" + periods.get(0).get("policy_version").asText())
                .contains("policy v" + periods.get(1).get("policy_version").asText())
                .doesNotContain("<script");
        assertThat(page.split("class=\"chart shares\"", -1)).hasSize(3);
        assertThat(page.split("class=\"point\"", -1).length - 1).as("usage samples, about one a second")
                .isGreaterThan(30);
        assertThat(page).contains(">" + report.get("jobs_done").asInt() + "<");

        // Any member can re-check the demo's ledger from its data, and a tampered copy fails.
        try (CoopProcesses coop = new CoopProcesses(dir)) {
            var verified = coop.run("ledger", "verify", "--data", data.toString());
            assertThat(verified.exitCode()).as(verified.stderr()).isZero();
            assertThat(verified.stdout()).contains("ledger verified").contains("2 proposals re-tallied");
            Path copy = dir.resolve("tampered");
            CoopProcesses.copyData(data, copy);
            long flipped = CoopProcesses.flipLedgerByte(copy, 5);
            var tampered = coop.run("ledger", "verify", "--data", copy.toString());
            assertThat(tampered.exitCode()).isEqualTo(1);
            assertThat(tampered.stderr()).contains("entry " + flipped + " ");
        }
    }

    /** The dashboard's URL from the demo's progress, once it has said it. */
    private static String dashboardUrl(Path err) throws java.io.IOException {
        var m = java.util.regex.Pattern.compile("dashboard at (http://\\S+/)").matcher(Files.readString(err));
        return m.find() ? m.group(1) : null;
    }
}
