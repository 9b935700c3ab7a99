package coop.scheduler.engine;

import static org.assertj.core.api.Assertions.assertThat;

import coop.scheduler.audit.AllocatorReplay;
import coop.scheduler.audit.LedgerVerifier;
import coop.scheduler.domain.JobContainer;
import coop.scheduler.domain.JobSpec;
import coop.scheduler.domain.NodeFeatures;
import coop.scheduler.governance.TestMembers;
import coop.scheduler.ledger.Entry;
import coop.scheduler.ledger.EventType;
import coop.scheduler.ledger.Ledger;
import coop.scheduler.store.Store;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The event loop records the first cycle that decides something and every
 * {@value CycleRunner#RECORD_EVERY}th after it: a {@code cycle} entry in the ledger, the snapshot
 * and decisions in the store; and the first after a restart. What it recorded re-runs to the same
 * decisions, the ledger still verifies and recovers, and a cycle that decides nothing is not recorded.
 */
class CycleAuditTest {
    @TempDir
    Path dir;

    @Test
    void decidingCyclesAreRecordedAndReplayWithNoDivergence() throws Exception {
        TestMembers keys = new TestMembers();
        int jobs = CycleRunner.RECORD_EVERY + 4;
        try (EngineFixture engine = EngineFixture.found(dir, new FakeClock(),
                List.of(keys.member("alice", List.of("lab-a"))), List.of("lab-a"))) {
            engine.call((s, tx) -> s.enroll("alice", "n1", "s1", "lab-a", Entry.sha256("t-n1"), tx));
            engine.connect("n1", "s1", jobs, NodeFeatures.NONE);
            // One job a turn: each turn's cycle starts it, so each is a deciding cycle.
            for (int i = 0; i < jobs; i++) {
                engine.call((s, tx) -> s.submit("alice", new JobSpec("lab-a", 1, 1, "", 60, "python train.py", 0, "",
                        false, false, "", "", "", 0, Map.of(), "", JobContainer.NONE), tx));
            }
            // A turn whose cycle starts nothing records nothing.
            engine.call((s, tx) -> {
                tx.allocationDue();
                return null;
            });
        }
        // A restart recovers through the cycle entries, and its first deciding cycle is recorded too.
        try (EngineFixture engine = EngineFixture.open(dir, new FakeClock(), Duration.ofSeconds(60),
                Duration.ofMillis(20))) {
            engine.call((s, tx) -> s.enroll("alice", "n2", "s1", "lab-a", Entry.sha256("t-n2"), tx));
            engine.connect("n2", "s1", 1, NodeFeatures.NONE);
            engine.call((s, tx) -> s.submit("alice", new JobSpec("lab-a", 1, 1, "", 60, "python train.py", 0, "",
                    false, false, "", "", "", 0, Map.of(), "", JobContainer.NONE), tx));
        }
        try (Store store = Store.open(dir)) {
            List<byte[]> raw = Ledger.rawEntries(store);
            List<Entry> cycles = raw.stream().map(Entry::read).filter(e -> e.is(EventType.CYCLE)).toList();
            // The first deciding cycle and the 17th, then the first after the restart.
            assertThat(cycles).hasSize(3);
            assertThat(cycles.get(0).body()).containsEntry("running", 0L).containsEntry("pending", 1L)
                    .containsEntry("nodes", 1L);
            assertThat(cycles.get(1).body()).containsEntry("running", (long) CycleRunner.RECORD_EVERY);
            assertThat(LedgerVerifier.verify(raw).problem()).isNull();

            AllocatorReplay.Report report = AllocatorReplay.replay(store, 0);

            assertThat(report.ok()).as("%s", report.cycles()).isTrue();
            assertThat(report.cycles()).extracting(AllocatorReplay.Cycle::seq)
                    .containsExactly(cycles.get(0).seq(), cycles.get(1).seq(), cycles.get(2).seq());
            assertThat(new String(store.getRaw(Store.Kind.CYCLES, Store.key(cycles.get(0).seq())),
                    StandardCharsets.UTF_8)).startsWith("{\"decisions\":[{\"borrowed\":false,\"job\":1,");
            assertThat(AllocatorReplay.replay(store, cycles.get(1).seq()).cycles()).hasSize(2);
        }
    }
}
