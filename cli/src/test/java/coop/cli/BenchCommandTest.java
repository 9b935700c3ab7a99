package coop.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;

/** A small {@code coop bench schedule}: it runs, and prints the figures it promises. */
class BenchCommandTest {
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
    void refusesZeroNodes() {
        CliRun run = CliRun.of("bench", "schedule", "--nodes", "0");
        assertThat(run.exitCode()).isNotZero();
        assertThat(run.err()).contains("--nodes");
    }
}
