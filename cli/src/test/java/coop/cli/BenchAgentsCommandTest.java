package coop.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import coop.cli.swarm.Swarm;
import org.junit.jupiter.api.Test;

/**
 * {@code coop bench agents} end to end on a small swarm: a real scheduler process, real mutual
 * TLS per agent. Its report must be consistent; how fast anything was is not checked.
 */
class BenchAgentsCommandTest {
    @Test
    void aSmallSwarmConnectsHeartbeatsAndIsReportedConsistently() throws Exception {
        CliRun run = CliRun.of("bench", "agents", "--agents", "20", "--duration", "2s", "--json");
        assertThat(run.exitCode()).as(run.err()).isZero();
        JsonNode r = new ObjectMapper().readTree(run.out());
        assertThat(r.get("agents").asInt()).isEqualTo(20);
        assertThat(r.get("agents_connected_at_end").asInt()).isEqualTo(20);
        assertThat(r.get("scheduler_agents_connected").asInt()).isEqualTo(20);
        assertThat(r.get("problem").isNull()).isTrue();
        assertThat(r.get("scheduler_cpu_pct").asDouble()).isGreaterThanOrEqualTo(0);
        assertThat(r.get("bench_cpu_pct").asDouble()).isGreaterThanOrEqualTo(0);
        // Every agent heartbeats once a second, and the scheduler's histogram counted them.
        assertThat(r.get("heartbeats_sent").asLong()).isPositive();
        assertThat(r.get("heartbeats_applied").asLong()).isPositive();
        assertThat(r.get("heartbeat_lag_p50_ms").isNumber()).as(r.toString()).isTrue();
        double p50 = r.get("heartbeat_lag_p50_ms").asDouble();
        double p99 = r.get("heartbeat_lag_p99_ms").asDouble();
        assertThat(p50).isGreaterThanOrEqualTo(0);
        assertThat(p99).isGreaterThanOrEqualTo(p50);
        assertThat(r.get("heartbeat_lag_max_ms").asDouble()).isGreaterThanOrEqualTo(p99);
        assertThat(r.get("send_late_p99_ms").asDouble()).isGreaterThanOrEqualTo(r.get("send_late_p50_ms").asDouble())
                .isGreaterThanOrEqualTo(0);
        assertThat(r.get("send_late_max_ms").asDouble()).isGreaterThanOrEqualTo(r.get("send_late_p99_ms").asDouble());
        assertThat(r.get("heartbeat_interval_ms").asLong()).isEqualTo(1000);
        assertThat(r.get("scheduler_rss_mb").asLong()).isPositive();
        // Nothing lost on a swarm this small, and the report says so.
        assertThat(r.get("sessions_lost_ramp").asInt()).isZero();
        assertThat(r.get("sessions_lost_measuring").asInt()).isZero();
        assertThat(r.get("dials_failed_measuring").asInt()).isZero();
        assertThat(r.get("loss_reasons_measuring").size()).isZero();
    }

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
