package coop.bench;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import coop.scheduler.ledger.Canonical;
import coop.scheduler.ledger.Entry;
import coop.scheduler.ledger.EventType;
import coop.scheduler.ledger.Ledger;
import coop.scheduler.store.Store;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SortedMap;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A short {@code coop demo} (two periods of a few seconds, two votes, real agents and jobs) leaves
 * a data folder whose recorded allocation cycles {@code coop audit replay} re-derives without a
 * divergence, under both policies; once one recorded decision is changed, it reports that cycle
 * and exits 1.
 */
class DemoAuditIT {
    @TempDir
    Path dir;

    @Test
    void theDemosCyclesReplayWithNoDivergenceUntilARecordedDecisionIsAltered() throws Exception {
        Path data = dir.resolve("coop-demo");
        CliRun demo = CliRun.of("demo", "--data", data.toString(), "--period", "4s", "--http", "127.0.0.1:0");
        // The demo replays its own cycles before it reports, and fails on a divergence.
        assertThat(demo.exitCode()).as(demo.err()).isZero();

        CliRun replay = CliRun.of("audit", "replay", "--data", data.toString(), "--json");
        assertThat(replay.exitCode()).as(replay.out() + replay.err()).isZero();
        JsonNode r = new ObjectMapper().readTree(replay.out());
        assertThat(r.get("ok").asBoolean()).isTrue();
        assertThat(r.get("cycles").asInt()).isPositive();
        assertThat(r.get("diverged").asInt()).isZero();
        List<Long> policies = new ArrayList<>();
        r.get("checked").forEach(c -> policies.add(c.get("policy_version").asLong()));
        // The first cycle after each vote is recorded: the founding policy's and both voted ones.
        assertThat(policies).contains(2L, 3L);

        // Move the first admit recorded to a GPU the allocator did not choose.
        long seq;
        try (Store store = Store.open(data)) {
            seq = Ledger.rawEntries(store).stream().map(Entry::read).filter(e -> e.is(EventType.CYCLE))
                    .findFirst().orElseThrow().seq();
            SortedMap<String, Object> stored = Canonical.parseObject(store.getRaw(Store.Kind.CYCLES, Store.key(seq)));
            List<Object> decisions = new ArrayList<>((List<?>) stored.get("decisions"));
            for (int i = 0; i < decisions.size(); i++) {
                Map<?, ?> d = (Map<?, ?>) decisions.get(i);
                if ("admit".equals(d.get("type"))) {
                    SortedMap<String, Object> changed = new TreeMap<>();
                    d.forEach((k, v) -> changed.put((String) k, v));
                    changed.put("placements", List.of(Map.of("node", "elsewhere", "site", "x", "model", "A100",
                            "gpus", List.of(99L))));
                    decisions.set(i, changed);
                    break;
                }
            }
            SortedMap<String, Object> tampered = new TreeMap<>(stored);
            tampered.put("decisions", decisions);
            store.putRawForTest(Store.Kind.CYCLES, Store.key(seq), Canonical.encode(tampered));
        }
        CliRun altered = CliRun.of("audit", "replay", "--data", data.toString());
        assertThat(altered.exitCode()).isEqualTo(1);
        assertThat(altered.err()).contains("cycle at entry " + seq + " ", "DIVERGES: the recorded decisions were "
                + "altered after the cycle", "on elsewhere[99]", "audit replay FAILED: 1 diverged");
    }
}
