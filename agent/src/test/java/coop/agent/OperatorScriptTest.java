package coop.agent;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The operator's scripts as the agent runs them: exit codes, first lines, timeouts, environment. */
class OperatorScriptTest {

    @TempDir
    Path dir;

    private OperatorScript script(String command, Duration timeout) {
        return new OperatorScript(command, timeout, dir.resolve("scratch"));
    }

    @Test
    void exitZeroPasses() {
        assertThat(script("echo all fine", Duration.ofSeconds(10)).run(Map.of()))
                .isEqualTo(OperatorScript.Outcome.PASSED);
    }

    @Test
    void aFailureIsReportedWithTheFirstNonBlankLineOfItsOutputStderrIncluded() {
        var outcome = script("echo; echo '  ERROR: nhc: GPU 3 missing  ' >&2; echo second; exit 1",
                Duration.ofSeconds(10)).run(Map.of());
        assertThat(outcome.passed()).isFalse();
        assertThat(outcome.reason()).isEqualTo("ERROR: nhc: GPU 3 missing");
    }

    @Test
    void aSilentFailureIsReportedByItsExitCode() {
        assertThat(script("exit 7", Duration.ofSeconds(10)).run(Map.of()))
                .isEqualTo(new OperatorScript.Outcome(false, "exit code 7"));
    }

    @Test
    void aScriptPastItsTimeoutFailsAndItsWholeGroupIsKilled() throws Exception {
        Path pid = dir.resolve("child.pid");
        long started = System.nanoTime();
        var outcome = script("echo checking GPUs; sleep 60 & echo $! > '" + pid + "'; wait",
                Duration.ofMillis(500)).run(Map.of());
        assertThat(Duration.ofNanos(System.nanoTime() - started)).isLessThan(Duration.ofSeconds(10));
        assertThat(outcome.passed()).isFalse();
        assertThat(outcome.reason()).isEqualTo("timed out after 0 s: checking GPUs");
        long child = Long.parseLong(Files.readString(pid).strip());
        await().atMost(Duration.ofSeconds(5)).until(() -> ProcessHandle.of(child).map(h -> !h.isAlive()).orElse(true));
    }

    @Test
    void theEnvironmentIsPassedAndTheOutputFileIsRemoved() throws Exception {
        var outcome = script("test \"$COOP_JOB_ID\" = 42 || { echo \"got '$COOP_JOB_ID'\"; exit 1; }",
                Duration.ofSeconds(10)).run(Map.of("COOP_JOB_ID", "42"));
        assertThat(outcome.passed()).as(outcome.reason()).isTrue();
        try (var left = Files.list(dir.resolve("scratch"))) {
            assertThat(left).isEmpty();
        }
    }
}
