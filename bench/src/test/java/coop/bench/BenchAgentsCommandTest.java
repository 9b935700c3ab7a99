package coop.bench;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import coop.bench.swarm.Swarm;
import coop.cli.CliException;
import org.junit.jupiter.api.Test;

/** {@code coop bench agents}: what counts as a problem in its report, and the options it refuses. */
class BenchAgentsCommandTest {
    @Test
    void lostSessionsAreAProblemEvenWhenTheAgentsConnectedAgain() {
        Swarm.Losses none = new Swarm.Losses(0, 0, java.util.Map.of(), 0, 0);
        assertThat(BenchAgentsCommand.problem(10, 10, none, none, null)).isNull();
        // A dial refused under load and retried is reported, not a failure.
        assertThat(BenchAgentsCommand.problem(10, 10, new Swarm.Losses(0, 2, java.util.Map.of("x", 2), 1, 2), none,
                "n1: x")).isNull();
        Swarm.Losses lost = new Swarm.Losses(3, 0, java.util.Map.of(
                "stream failed: ABORTED node declared lost: missed 3 heartbeats", 3), 12.5, 13.0);
        assertThat(BenchAgentsCommand.problem(10, 10, lost, none, "n00495: stream failed: ABORTED node declared lost"))
                .contains("3 sessions lost during the ramp-up (3 x stream failed: ABORTED node declared lost")
                .contains("first problem: n00495");
        assertThat(BenchAgentsCommand.problem(10, 9, none, lost, "n1: gone"))
                .contains("1 of 10 agents not connected at the end").contains("3 sessions lost and 0 dials failed "
                        + "while measuring");
        assertThat(Swarm.reason("n00001: stream failed: UNAVAILABLE io exception\n\tat x")).isEqualTo(
                "stream failed: UNAVAILABLE io exception");
    }

    @Test
    void refusesTooFewOpenFilesNamingTheLimit() {
        assertThatThrownBy(() -> BenchAgentsCommand.requireOpenFiles(10_000, 1024))
                .isInstanceOf(CliException.class).hasMessageContaining("--agents 10000")
                .hasMessageContaining("limit (ulimit -n) is 1024").hasMessageContaining("ulimit -n 11000");
        BenchAgentsCommand.requireOpenFiles(10_000, 20_000);
        BenchAgentsCommand.requireOpenFiles(10_000, -1);
    }

    @Test
    void refusesZeroAgents() {
        CliRun run = CliRun.of("bench", "agents", "--agents", "0");
        assertThat(run.exitCode()).isNotZero();
        assertThat(run.err()).contains("--agents: must be at least 1");
    }
}
