package coop.scheduler.audit;

import static org.assertj.core.api.Assertions.assertThat;

import coop.scheduler.allocation.AccountQueue;
import coop.scheduler.allocation.AccountStanding;
import coop.scheduler.allocation.Allocator;
import coop.scheduler.allocation.ClusterSnapshot;
import coop.scheduler.allocation.Decision;
import coop.scheduler.allocation.GpuHold;
import coop.scheduler.allocation.GpuSlot;
import coop.scheduler.allocation.JobList;
import coop.scheduler.allocation.JobRequest;
import coop.scheduler.allocation.NodeView;
import coop.scheduler.allocation.PreemptionRules;
import coop.scheduler.allocation.RunningAttempt;
import coop.scheduler.domain.Constitution;
import coop.scheduler.domain.JobContainer;
import coop.scheduler.domain.Member;
import coop.scheduler.domain.NodeFeatures;
import coop.scheduler.domain.Params;
import coop.scheduler.domain.Placement;
import coop.scheduler.governance.Governance;
import coop.scheduler.governance.TestMembers;
import coop.scheduler.ledger.Canonical;
import coop.scheduler.ledger.Entry;
import coop.scheduler.ledger.Event;
import coop.scheduler.ledger.EventType;
import coop.scheduler.ledger.Ledger;
import coop.scheduler.store.Batch;
import coop.scheduler.store.Store;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SortedMap;
import java.util.TreeMap;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A recorded allocation cycle re-runs to the same decisions; a stored decision or snapshot changed
 * afterwards, or a scheduler that recorded decisions the allocator does not take, is reported as
 * a divergence naming the decision, its job and its node.
 */
class AllocatorReplayTest {
    private static final long NOW = 1_700_000_000_000L;

    @TempDir
    Path dir;
    private Store store;

    @BeforeEach
    void open() {
        store = Store.open(dir);
    }

    @AfterEach
    void close() {
        store.close();
    }

    /**
     * Two sites, a draining node, a container node with memory, a borrowed attempt, a hold, and
     * decayed usage in fractions that no decimal prints exactly: every field the codec carries.
     */
    static ClusterSnapshot snapshot() {
        List<NodeView> nodes = List.of(
                new NodeView("n1", "s1", slots("A100", 4, 2), "lab-b", 1, true, false, Long.MAX_VALUE),
                new NodeView("n2", "s1", slots("A100", 8, 8), "", 0, true, false, NOW + 86_400_000L,
                        new NodeFeatures(List.of("podman"), List.of("/data"), 40_960)),
                new NodeView("n3", "s2", slots("H100", 8, 8), "", 0, true, true, Long.MAX_VALUE));
        List<JobRequest> a = List.of(
                new JobRequest(11, "lab-a", 4, 1, List.of(), 0, NOW - 5000, false, 3600, true),
                new JobRequest(12, "lab-a", 2, 2, List.of("A100"), 0, NOW - 4000, true, 600, false, "s1"));
        List<JobRequest> b = List.of(new JobRequest(21, "lab-b", 1, 1, List.of(), 5, NOW - 3000, false, 60, true, "",
                new JobContainer("localhost/img:1", List.of(new JobContainer.Mount("/data/x", "/x", true))), 8192));
        List<AccountQueue> queues = AccountQueue.byAccount(new ArrayList<>(concat(a, b)));
        List<JobRequest> pending = JobList.concat(queues.stream().map(AccountQueue::jobs).toList());
        List<RunningAttempt> running = List.of(new RunningAttempt(5, 1, "lab-b",
                List.of(new Placement("n1", "s1", "A100", List.of(0, 1))), NOW - 600_000, 7200, true, true, false, 0,
                NOW - 600_000, 1));
        Map<String, AccountStanding> accounts = new HashMap<>();
        accounts.put("lab-b", new AccountStanding("lab-b", 4000, 0.1 + 0.2, 1234.567890123));
        accounts.put("lab-a", new AccountStanding("lab-a", 6000, 1.0 / 3, Double.NaN));
        List<GpuHold> holds = List.of(new GpuHold(11, "lab-a", "n1", "A100", 2, NOW + 30_000));
        return new ClusterSnapshot(NOW, nodes, pending, running, accounts, queues,
                PreemptionRules.of(300, 600, 30), holds);
    }

    private static List<JobRequest> concat(List<JobRequest> x, List<JobRequest> y) {
        List<JobRequest> out = new ArrayList<>(x);
        out.addAll(y);
        return out;
    }

    private static List<GpuSlot> slots(String model, int n, int free) {
        List<GpuSlot> out = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            out.add(new GpuSlot(i, model, i >= n - free));
        }
        return out;
    }

    /** Records a cycle as the scheduler does: its entry in the ledger and its record in the store, in one batch. */
    private long record(CycleRecord r) {
        Ledger ledger = Ledger.resume(0, Entry.ORIGIN, 0);
        Batch batch = store.batch();
        ledger.append(NOW, Event.of(EventType.ATTEMPT, Map.of("job", 1L)), batch);
        long seq = ledger.size();
        ledger.append(NOW, r.event(), batch);
        batch.putRaw(Store.Kind.CYCLES, seq, r.stored());
        store.commit(batch);
        return seq;
    }

    private static List<Decision> planned(ClusterSnapshot s) {
        return new Allocator().plan(s).taken();
    }

    @Test
    void aRecordedCycleReplaysWithNoDivergenceAndItsSnapshotReadsBackExactly() {
        ClusterSnapshot s = snapshot();
        List<Decision> taken = planned(s);
        assertThat(taken).anyMatch(d -> d instanceof Decision.Admit);
        CycleRecord r = CycleRecord.of(s, taken, 3);
        long seq = record(r);

        AllocatorReplay.Report report = AllocatorReplay.replay(store, 0);

        assertThat(report.ok()).as("%s", report.cycles()).isTrue();
        assertThat(report.entriesRead()).isEqualTo(2);
        assertThat(report.cycles()).singleElement().satisfies(c -> {
            assertThat(c.seq()).isEqualTo(seq);
            assertThat(c.policyVersion()).isEqualTo(3);
            assertThat(c.nodes()).isEqualTo(3);
            assertThat(c.pending()).isEqualTo(3);
            assertThat(c.running()).isEqualTo(1);
            assertThat(c.decisions()).isEqualTo(taken.size());
            assertThat(c.storedBytes()).isEqualTo(r.stored().length);
        });
        @SuppressWarnings("unchecked")
        ClusterSnapshot back = CycleRecord.snapshot((Map<String, Object>) Canonical.parse(r.snapshot()));
        assertThat(Canonical.encode(CycleRecord.encode(back))).isEqualTo(r.snapshot());
        assertThat(back.accounts().get("lab-b").usedGpuSeconds()).isEqualTo(0.1 + 0.2);
        assertThat(back.accounts().get("lab-a").fairGpuSeconds()).isNaN();
        assertThat(back.nodes().get(1).features().memoryPerGpuMib()).isEqualTo(40_960);
        // Starting after the cycle's entry finds nothing to re-run.
        assertThat(AllocatorReplay.replay(store, seq + 1).cycles()).isEmpty();
    }

    @Test
    void aStoredDecisionAlteredAfterTheCycleIsReportedNamingItsJobAndNode() {
        ClusterSnapshot s = snapshot();
        long seq = record(CycleRecord.of(s, planned(s), 1));
        SortedMap<String, Object> stored = Canonical.parseObject(store.getRaw(Store.Kind.CYCLES, Store.key(seq)));
        List<Object> decisions = new ArrayList<>((List<?>) stored.get("decisions"));
        int admit = -1;
        for (int i = 0; i < decisions.size() && admit < 0; i++) {
            if ("admit".equals(((Map<?, ?>) decisions.get(i)).get("type"))) {
                admit = i;
            }
        }
        SortedMap<String, Object> changed = new TreeMap<>(cast(decisions.get(admit)));
        long job = (Long) changed.get("job");
        changed.put("placements", List.of(Map.of("node", "n3", "site", "s2", "model", "H100", "gpus", List.of(7L))));
        decisions.set(admit, changed);
        SortedMap<String, Object> tampered = new TreeMap<>(stored);
        tampered.put("decisions", decisions);
        store.putRawForTest(Store.Kind.CYCLES, Store.key(seq), Canonical.encode(tampered));

        AllocatorReplay.Report report = AllocatorReplay.replay(store, 0);

        assertThat(report.ok()).isFalse();
        assertThat(report.firstDivergence().seq()).isEqualTo(seq);
        assertThat(report.firstDivergence().problem())
                .startsWith("the recorded decisions were altered after the cycle")
                .contains("decision " + (admit + 1) + " recorded admit job " + job + " on n3[7], re-run admit job "
                        + job + " on n");
    }

    @Test
    void aStoredSnapshotAlteredAfterTheCycleIsReported() {
        ClusterSnapshot s = snapshot();
        long seq = record(CycleRecord.of(s, planned(s), 1));
        SortedMap<String, Object> stored = Canonical.parseObject(store.getRaw(Store.Kind.CYCLES, Store.key(seq)));
        SortedMap<String, Object> snap = new TreeMap<>(cast(stored.get("snapshot")));
        snap.put("now", NOW + 1);
        SortedMap<String, Object> tampered = new TreeMap<>(stored);
        tampered.put("snapshot", snap);
        store.putRawForTest(Store.Kind.CYCLES, Store.key(seq), Canonical.encode(tampered));

        assertThat(AllocatorReplay.replay(store, 0).firstDivergence().problem())
                .startsWith("the recorded snapshot was altered: its SHA-256 is");
    }

    @Test
    void aSchedulerThatRecordedOtherDecisionsThanTheAllocatorTakesIsCaught() {
        // The hashes agree with the record, as they would if the scheduler itself had lied: only
        // running the allocator again shows that it would have started job 21, not job 12 there.
        ClusterSnapshot s = snapshot();
        List<Decision> taken = new ArrayList<>(planned(s));
        taken.add(0, new Decision.Admit(21, List.of(new Placement("n2", "s1", "A100", List.of(0))), true));
        long seq = record(CycleRecord.of(s, taken, 1));

        AllocatorReplay.Cycle c = AllocatorReplay.replay(store, 0).firstDivergence();

        assertThat(c.seq()).isEqualTo(seq);
        assertThat(c.problem()).startsWith("the allocator re-run diverges from the decisions recorded: decision 1 "
                + "recorded admit job 21 on n2[0] (borrowed), re-run ");
    }

    @Test
    void aCycleWhoseRecordIsMissingDiverges() {
        ClusterSnapshot s = snapshot();
        CycleRecord r = CycleRecord.of(s, planned(s), 1);
        Ledger ledger = Ledger.resume(0, Entry.ORIGIN, 0);
        Batch batch = store.batch();
        ledger.append(NOW, r.event(), batch);
        store.commit(batch);

        assertThat(AllocatorReplay.replay(store, 0).firstDivergence().problem())
                .isEqualTo("the store holds no record of this cycle");
    }

    @Test
    void theAccountsOfASnapshotGoInNameOrderWhateverMapTheyCameIn() {
        // Map.copyOf's order changes from one JVM to the next; the allocator's sums over accounts must not.
        assertThat(snapshot().accounts().keySet()).containsExactly("lab-a", "lab-b");
    }

    @Test
    void theVerifierAcceptsACycleUnderThePolicyInForceAndRefusesOneNamingAnother() {
        TestMembers keys = new TestMembers();
        List<Member> founders = List.of(keys.member("alice", List.of("lab-a")));
        SortedMap<String, Object> genesis = Governance.genesis(founders, List.of("lab-a", "lab-b"), Params.DEFAULTS,
                Constitution.DEFAULTS);
        long version = Governance.found(genesis, NOW).policy().version();
        ClusterSnapshot s = snapshot();
        for (long v : List.of(version, version + 1)) {
            Entry first = Entry.make(0, NOW, EventType.GENESIS, genesis, Entry.ORIGIN);
            Entry cycle = Entry.make(1, NOW, EventType.CYCLE, CycleRecord.of(s, planned(s), v).event().body(),
                    first.hash());
            LedgerVerifier.Report report = LedgerVerifier.verify(List.of(first.bytes(), cycle.bytes()));
            if (v == version) {
                assertThat(report.problem()).isNull();
            } else {
                assertThat(report.problem()).isEqualTo("entry 1 (cycle) is refused by the rules: the cycle ran under "
                        + "policy " + v + ", but policy " + version + " was in force");
            }
        }
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> cast(Object o) {
        return (Map<String, Object>) o;
    }
}
