package coop.scheduler.metrics;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The shipped alert rules and dashboard as Prometheus's own {@code promtool} reads them: the
 * rules are valid, each alert fires (and stays quiet) as its unit tests in
 * {@code coop.rules.test.yml} say, and every query of the Grafana dashboard is valid PromQL.
 * Needs promtool (Debian: {@code apt-get install prometheus}).
 */
class PrometheusRulesTest {
    private static final Path PROMTOOL = Path.of("/usr/bin/promtool");

    @TempDir
    Path dir;

    @BeforeEach
    void promtool() {
        Prerequisite.require(Files.isExecutable(PROMTOOL),
                "promtool is not installed (Debian: apt-get install prometheus)");
    }

    @Test
    void theRulesAreValidAndHoldTheFiveAlerts() throws Exception {
        Result check = promtool("check", "rules", ContribMonitoring.rules().toString());
        assertThat(check.exitCode()).as(check.output()).isZero();
        assertThat(check.output()).contains("SUCCESS: 5 rules found");
        assertThat(ContribMonitoring.read(ContribMonitoring.rules())).contains("alert: CoopNodeLost",
                "alert: CoopHeartbeatLate", "alert: CoopCommitSlow", "alert: CoopQueueStuck",
                "alert: CoopNotificationsFailing");
    }

    @Test
    void eachAlertFiresWhenItsUnitTestsSay() throws Exception {
        Result test = promtool("test", "rules", ContribMonitoring.rulesTests().toString());
        assertThat(test.exitCode()).as(test.output()).isZero();
        assertThat(test.output()).contains("SUCCESS");
    }

    @Test
    void aRuleTestExpectingAnAlertTooEarlyFails() throws Exception {
        // The unit tests can fail: the same file expecting the lost node's alert before its 5 minutes.
        Files.copy(ContribMonitoring.rules(), dir.resolve("coop.rules.yml"));
        String tests = ContribMonitoring.read(ContribMonitoring.rulesTests());
        String early = tests.replace("eval_time: 36m", "eval_time: 33m");
        assertThat(early).isNotEqualTo(tests);
        Path file = Files.writeString(dir.resolve("coop.rules.test.yml"), early);
        Result test = promtool("test", "rules", file.toString());
        assertThat(test.exitCode()).as(test.output()).isNotZero();
        assertThat(test.output()).contains("CoopNodeLost");
    }

    @Test
    void everyDashboardQueryIsValidPromQl() throws Exception {
        List<String> queries = ContribMonitoring.dashboardQueries();
        assertThat(queries).hasSizeGreaterThan(15);
        // As recording rules, which promtool parses and checks like any rule.
        StringBuilder rules = new StringBuilder("groups:\n  - name: dashboard\n    rules:\n");
        for (int i = 0; i < queries.size(); i++) {
            rules.append("      - record: dashboard:query").append(i).append("\n        expr: '")
                    .append(ContribMonitoring.asPromQl(queries.get(i)).replace("'", "''")).append("'\n");
        }
        Path file = Files.writeString(dir.resolve("dashboard.rules.yml"), rules);
        Result check = promtool("check", "rules", file.toString());
        assertThat(check.exitCode()).as(check.output() + "\n" + rules).isZero();
        assertThat(check.output()).contains("SUCCESS: " + queries.size() + " rules found");
    }

    private record Result(int exitCode, String output) {
    }

    private Result promtool(String... args) throws IOException, InterruptedException {
        List<String> command = new ArrayList<>(List.of(PROMTOOL.toString()));
        command.addAll(List.of(args));
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
        return new Result(p.exitValue(), out);
    }
}
