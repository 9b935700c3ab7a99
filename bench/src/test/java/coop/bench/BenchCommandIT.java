package coop.bench;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;

/** Small {@code coop bench} runs: they run, and print the figures they promise. */
class BenchCommandIT {
    @Test
    void printsCycleLatenciesAndHeapAsJson() throws Exception {
        CliRun run = CliRun.of("bench", "schedule", "--nodes", "20", "--pending", "200", "--cycles", "5", "--json");
        assertThat(run.exitCode()).as(run.err()).isZero();
        JsonNode r = new ObjectMapper().readTree(run.out());
        assertThat(r.get("incremental_p50_ms").asDouble()).isPositive();
        assertThat(r.get("incremental_p99_ms").asDouble()).isGreaterThanOrEqualTo(r.get("incremental_p50_ms").asDouble());
        assertThat(r.get("full_ms").asDouble()).isPositive();
        assertThat(r.get("heap_mb").asDouble()).isPositive();
    }

    @Test
    void aSmallLedgerBenchWritesVerifiesAndReplaysEveryEntry() throws Exception {
        CliRun run = CliRun.of("bench", "ledger", "--jobs", "100", "--proposals", "2", "--members", "3",
                "--checkpoint-every", "50", "--json");
        assertThat(run.exitCode()).as(run.err()).isZero();
        JsonNode r = new ObjectMapper().readTree(run.out());
        // genesis, a submit and an attempt per job, and per proposal: the proposal, 3 ballots and the close after the last
        long entries = 1 + 2 * 100 + 2 * (1 + 3 + 1);
        assertThat(r.get("entries").asLong()).isEqualTo(entries);
        assertThat(r.get("verify_entries_per_s").asLong()).isPositive();
        assertThat(r.get("replay_entries_per_s").asLong()).isPositive();
        // The scheduler started from a checkpoint written at most 50 entries (and one batch) before the end.
        assertThat(r.get("checkpoint_seq").asLong()).isBetween(entries - 100, entries);
        assertThat(r.get("checkpoint_bytes").asLong()).isPositive();
    }

    @Test
    void aHaBenchOfAnEvenNumberOfReplicasIsRefusedBeforeAnythingStarts() {
        CliRun run = CliRun.of("bench", "ha", "--replicas", "4", "--json");
        assertThat(run.exitCode()).isNotZero();
        assertThat(run.err()).contains("--replicas: 3 or 5");
    }

    @Test
    void aSmallSubmitBenchStoresEveryJobAndReportsItsRates() throws Exception {
        CliRun run = CliRun.of("bench", "submit", "--clients", "2", "--jobs", "500", "--json");
        assertThat(run.exitCode()).as(run.err()).isZero();
        JsonNode r = new ObjectMapper().readTree(run.out());
        assertThat(r.get("submits_per_s").asDouble()).isPositive();
        assertThat(r.get("p50_ms").asDouble()).isPositive();
        assertThat(r.get("p99_ms").asDouble()).isGreaterThanOrEqualTo(r.get("p50_ms").asDouble());
        assertThat(r.has("slurm_submits_per_s")).isFalse();
        assertThat(r.get("jobs").asInt()).isEqualTo(500);
        assertThat(r.get("timed_jobs").asInt()).isEqualTo(450);
        assertThat(r.get("jobs_stored").asInt()).isEqualTo(500);
        // Each submit writes its job and the next job id: at least 2 records per synced batch.
        assertThat(r.get("records_per_batch").asDouble()).isGreaterThanOrEqualTo(2.0);
        assertThat(r.get("syncs_per_s").asLong()).isPositive();
    }

    @Test
    void aSubmitBenchWithSlurmFailsClearlyWithoutItsScript() {
        CliRun run = CliRun.of("bench", "submit", "--clients", "1", "--jobs", "20", "--with-slurm",
                "--slurm-script", "/nonexistent/bench.sh", "--json");
        assertThat(run.exitCode()).isNotZero();
        assertThat(run.err()).contains("Slurm measurement did not run").contains("/nonexistent/bench.sh");
        assertThat(run.out()).contains("\"slurm_submits_per_s\":null");
    }

    @Test
    void aKilledAgentsNodeIsDeclaredLostWithinThreeHeartbeatsAndNothingIsLostOrRunTwice() throws Exception {
        CliRun run = CliRun.of("bench", "failover", "--agents", "2", "--json");
        assertThat(run.exitCode()).as(run.err()).isZero();
        JsonNode r = new ObjectMapper().readTree(run.out());
        assertThat(r.get("heartbeat_s").asDouble()).isEqualTo(1.0);
        assertThat(r.get("detect_s").asDouble()).isPositive().isLessThanOrEqualTo(4.0);
        assertThat(r.get("requeue_s").asDouble()).isGreaterThanOrEqualTo(r.get("detect_s").asDouble())
                .isLessThanOrEqualTo(4.0);
        assertThat(r.get("jobs").asInt()).isEqualTo(1);
        assertThat(r.get("lost_acked").asInt()).isZero();
        assertThat(r.get("double_runs").asInt()).isZero();
    }
}
