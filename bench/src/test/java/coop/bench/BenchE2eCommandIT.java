package coop.bench;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;

/**
 * A tiny {@code coop bench e2e}: a real scheduler and agent in this process run a 12-task array
 * as real processes, and the report adds up. No timing thresholds: only that the figures agree.
 */
class BenchE2eCommandIT {
    @Test
    void aTinyArrayRunsEveryTaskOnceAndTheReportIsConsistent() throws Exception {
        CliRun run = CliRun.of("bench", "e2e", "--jobs", "12", "--gpus", "2", "--warmup", "1s", "--json");
        assertThat(run.exitCode()).as(run.err()).isZero();
        JsonNode r = new ObjectMapper().readTree(run.out());
        assertThat(r.get("jobs").asInt()).isEqualTo(12);
        assertThat(r.get("gpus").asInt()).isEqualTo(2);
        assertThat(r.get("succeeded").asInt()).isEqualTo(12);
        assertThat(r.get("indices_run_once").asInt()).isEqualTo(12);
        assertThat(r.get("attempts").asInt()).isEqualTo(12);
        assertThat(r.has("slurm_jobs_per_s")).isFalse();
        double seconds = r.get("seconds").asDouble();
        assertThat(seconds).isPositive();
        assertThat(r.get("jobs_per_s").asDouble()).isCloseTo(12 / seconds, org.assertj.core.data.Offset.offset(0.1));
        // Every task's start and end is stored: at least one synced batch, more than one record in each on average.
        assertThat(r.get("synced_batches").asLong()).isPositive();
        assertThat(r.get("records_per_batch").asDouble()).isGreaterThan(1.0);
        assertThat(run.err()).contains("12 succeeded");
        // Untimed arrays of 8 tasks (4 rounds of both GPUs) ran first, one after the other, for 1 s.
        int arrays = r.get("warmup_arrays").asInt();
        assertThat(arrays).isPositive();
        assertThat(r.get("warmup_tasks").asInt()).isEqualTo(8 * arrays);
        assertThat(r.get("warmup_seconds").asDouble()).isGreaterThanOrEqualTo(1.0);
        assertThat(r.get("warmup_last_array_jobs_per_s").asDouble()).isPositive();
    }
}
