package coop.bench;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** {@code coop bench e2e} refuses options it cannot run with, before running anything. */
class BenchE2eCommandTest {
    @Test
    void refusesAWarmupLongerThanTheTimeout() {
        CliRun run = CliRun.of("bench", "e2e", "--warmup", "11m", "--timeout", "10m");
        assertThat(run.exitCode()).isNotZero();
        assertThat(run.err()).contains("--warmup must not be longer than --timeout");
    }

    @Test
    void refusesAnArrayLargerThanTheSchedulerTakes() {
        CliRun run = CliRun.of("bench", "e2e", "--jobs", "10001");
        assertThat(run.exitCode()).isNotZero();
        assertThat(run.err()).contains("--jobs must be between 1 and 10000");
    }
}
