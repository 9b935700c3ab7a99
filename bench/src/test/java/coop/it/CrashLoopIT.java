package coop.it;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The short crash loop, through the real jar: {@code coop bench crash} kills its scheduler
 * process with kill -9 three times while three members flood it with submits and ballots,
 * and after every restart nothing acknowledged is lost, nothing is applied twice or in part,
 * and the ledger verifies.
 */
class CrashLoopIT {
    @TempDir
    Path dir;

    @Test
    void noAcknowledgedWriteIsLostOrDuplicatedOverThreeKills() throws Exception {
        try (CoopProcesses coop = new CoopProcesses(dir)) {
            var run = coop.run(Duration.ofSeconds(150), "bench", "crash", "--cycles", "3", "--clients", "3",
                    "--kill-within", "1s", "--seed", "20261201", "--json");
            assertThat(run.exitCode()).as(run.stderr()).isZero();
            assertThat(run.stderr()).contains("seed 20261201").contains("cycle 3/3");
            JsonNode o = new ObjectMapper().readTree(run.stdout());
            assertThat(o.get("cycles").asInt()).isEqualTo(3);
            assertThat(o.get("acked_jobs").asLong()).as("submits acknowledged").isPositive();
            assertThat(o.get("acked_ballots").asLong()).as("ballots acknowledged").isPositive();
            assertThat(o.get("acked_proposals").asLong()).as("proposals acknowledged").isGreaterThanOrEqualTo(3);
            assertThat(o.get("lost").asLong()).isZero();
            assertThat(o.get("duplicated").asLong()).isZero();
            assertThat(o.get("half_applied").asLong()).isZero();
            assertThat(o.get("phantom").asLong()).isZero();
            assertThat(o.get("ledger_verified").asBoolean()).isTrue();
            assertThat(o.get("seed").asLong()).isEqualTo(20261201L);
        }
    }
}
