package coop.agent;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The health check's schedule: periodic runs, one run for a burst of launches, every run reported. */
class HealthCheckTest {

    @TempDir
    Path dir;

    private final AtomicLong nowMs = new AtomicLong(1_000_000);
    private final InstantSource clock = () -> Instant.ofEpochMilli(nowMs.get());
    private final List<OperatorScript.Outcome> reported = new CopyOnWriteArrayList<>();
    private HealthCheck check;

    @AfterEach
    void close() {
        if (check != null) {
            check.close();
        }
    }

    /** A check that counts its runs in a file and fails while {@code sick} exists. */
    private HealthCheck check(Duration every) {
        Path runs = dir.resolve("runs");
        Path sick = dir.resolve("sick");
        String command = "echo run >> '" + runs + "'; if [ -e '" + sick + "' ]; then echo \"GPU 0: $(cat '"
                + sick + "')\"; exit 1; fi";
        check = new HealthCheck(new OperatorScript(command, Duration.ofSeconds(10), dir.resolve("scratch")), every,
                clock, reported::add);
        return check;
    }

    private long runs() throws Exception {
        Path runs = dir.resolve("runs");
        return Files.exists(runs) ? Files.readAllLines(runs).size() : 0;
    }

    @Test
    void aBurstOfLaunchesTakesOneRecentOutcomeAndAnOlderOneIsRunAgain() throws Exception {
        HealthCheck c = check(Duration.ofHours(1));
        for (int i = 0; i < 8; i++) {
            assertThat(c.beforeLaunch().passed()).isTrue();
        }
        assertThat(runs()).isEqualTo(1);
        assertThat(reported).hasSize(1);

        Files.writeString(dir.resolve("sick"), "ECC errors\n");
        nowMs.addAndGet(HealthCheck.REUSE.toMillis() + 1);
        assertThat(c.beforeLaunch()).isEqualTo(new OperatorScript.Outcome(false, "GPU 0: ECC errors"));
        assertThat(runs()).isEqualTo(2);
        assertThat(reported).last().isEqualTo(new OperatorScript.Outcome(false, "GPU 0: ECC errors"));
        assertThat(c.latest()).contains(new OperatorScript.Outcome(false, "GPU 0: ECC errors"));
    }

    @Test
    void itRunsAtStartAndThenEveryPeriodReportingEachOutcome() throws Exception {
        Files.writeString(dir.resolve("sick"), "fell off the bus\n");
        check(Duration.ofMillis(100)).start();
        await().atMost(Duration.ofSeconds(10)).until(() -> reported.size() >= 2);
        assertThat(reported.get(0)).isEqualTo(new OperatorScript.Outcome(false, "GPU 0: fell off the bus"));

        Files.delete(dir.resolve("sick"));
        await().atMost(Duration.ofSeconds(10)).until(() -> reported.get(reported.size() - 1).passed());
    }
}
