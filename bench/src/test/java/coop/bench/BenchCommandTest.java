package coop.bench;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** {@code coop bench} refuses options it cannot run with, before running anything. */
class BenchCommandTest {
    @Test
    void refusesZeroNodes() {
        CliRun run = CliRun.of("bench", "schedule", "--nodes", "0");
        assertThat(run.exitCode()).isNotZero();
        assertThat(run.err()).contains("--nodes");
    }

    @Test
    void theCrashLoopRefusesZeroCycles() {
        CliRun run = CliRun.of("bench", "crash", "--cycles", "0");
        assertThat(run.exitCode()).isNotZero();
        assertThat(run.err()).contains("--cycles");
    }
}
