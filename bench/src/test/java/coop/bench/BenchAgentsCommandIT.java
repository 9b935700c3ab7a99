package coop.bench;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;

/**
 * {@code coop bench agents} end to end on a small swarm: a real scheduler process, real mutual
 * TLS per agent. Its report must be consistent; how fast anything was is not checked.
 */
class BenchAgentsCommandIT {
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
}
