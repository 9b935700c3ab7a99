package coop.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import coop.scheduler.allocation.AccountStanding;
import coop.scheduler.allocation.Allocator;
import coop.scheduler.allocation.ClusterSnapshot;
import coop.scheduler.allocation.GpuSlot;
import coop.scheduler.allocation.JobRequest;
import coop.scheduler.allocation.NodeView;
import coop.scheduler.audit.CycleRecord;
import coop.scheduler.ledger.Entry;
import coop.scheduler.ledger.Ledger;
import coop.scheduler.store.Batch;
import coop.scheduler.store.Store;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code coop audit replay} on a data folder: a cycle recorded after the founding re-derives and
 * the command exits 0; with its stored decision changed it says which cycle diverged and how, and
 * exits 1. A folder with no data is refused naming --data.
 */
class AuditReplayTest {
    @TempDir
    Path dir;
    private Path data;
    private long seq;

    @BeforeEach
    void foundAndRecordACycle() {
        data = dir.resolve("data");
        CliRun init = CliRun.of("init", "--data", data.toString(), "--accounts", "lab-a", "--founders", "alice:lab-a");
        assertThat(init.exitCode()).as(init.err()).isZero();
        List<JobRequest> pending = List.of(new JobRequest(1, "lab-a", 2, 1, "", 0, 0, false));
        ClusterSnapshot s = new ClusterSnapshot(1000, List.of(new NodeView("n1", "s1",
                List.of(new GpuSlot(0, "A100", true), new GpuSlot(1, "A100", true)))), pending, List.of(),
                Map.of("lab-a", new AccountStanding("lab-a", 10_000, 0)));
        CycleRecord r = CycleRecord.of(s, new Allocator().plan(s).taken(), 1);
        try (Store store = Store.open(data)) {
            List<Entry> entries = Ledger.rawEntries(store).stream().map(Entry::read).toList();
            Entry last = entries.get(entries.size() - 1);
            Ledger ledger = Ledger.resume(entries.size(), last.hash(), last.at());
            Batch batch = store.batch();
            seq = ledger.size();
            ledger.append(last.at() + 1, r.event(), batch);
            batch.putRaw(Store.Kind.CYCLES, seq, r.stored());
            store.commit(batch);
        }
    }

    @Test
    void aRecordedCycleIsReDerivedAndAnAlteredOneDivergesWithExitOne() throws Exception {
        CliRun ok = CliRun.of("audit", "replay", "--data", data.toString());
        assertThat(ok.exitCode()).as(ok.err()).isZero();
        assertThat(ok.out()).contains("cycle at entry " + seq + " (policy v1, 1 nodes, 1 pending, 0 running, "
                + "1 decisions): OK", "no divergence: 1 of 1 recorded cycles from entry 0 re-derived");
        CliRun later = CliRun.of("audit", "replay", "--data", data.toString(), "--from", Long.toString(seq + 1));
        assertThat(later.exitCode()).isZero();
        assertThat(later.out()).startsWith("no cycle recorded from entry " + (seq + 1));
        assertThat(CliRun.of("ledger", "verify", "--data", data.toString()).exitCode()).isZero();

        try (Store store = Store.open(data)) {
            String stored = new String(store.getRaw(Store.Kind.CYCLES, Store.key(seq)), StandardCharsets.UTF_8);
            assertThat(stored).contains("\"gpus\":[0,1],\"model\":\"A100\",\"node\":\"n1\"");
            store.putRawForTest(Store.Kind.CYCLES, Store.key(seq), stored.replaceFirst("\"gpus\":\\[0,1\\]",
                    "\"gpus\":[1,0]").getBytes(StandardCharsets.UTF_8));
        }
        CliRun bad = CliRun.of("audit", "replay", "--data", data.toString());
        assertThat(bad.exitCode()).isEqualTo(1);
        assertThat(bad.err()).contains("cycle at entry " + seq, "DIVERGES: the recorded decisions were altered after "
                + "the cycle (the allocator and the ledger's hash agree): decision 1 recorded admit job 1 on n1[1, 0], "
                + "re-run admit job 1 on n1[0, 1]", "audit replay FAILED: 1 diverged");
        JsonNode json = new ObjectMapper().readTree(CliRun.of("audit", "replay", "--data", data.toString(), "--json")
                .out());
        assertThat(json.get("ok").asBoolean()).isFalse();
        assertThat(json.get("checked").get(0).get("problem").asText()).contains("admit job 1 on n1[1, 0]");
    }

    @Test
    void aFolderWithoutDataIsRefusedNamingTheOption() {
        CliRun run = CliRun.of("audit", "replay", "--data", dir.resolve("none").toString());
        assertThat(run.exitCode()).isNotZero();
        assertThat(run.err()).contains("--data: ");
    }
}
