package coop.scheduler.audit;

import coop.scheduler.allocation.Allocator;
import coop.scheduler.allocation.ClusterSnapshot;
import coop.scheduler.ledger.Canonical;
import coop.scheduler.ledger.Entry;
import coop.scheduler.ledger.EventType;
import coop.scheduler.store.Store;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * Re-derives the allocator's recorded decisions: for each {@code cycle} entry of the ledger from a
 * sequence number on, reads the snapshot and decisions the scheduler stored beside it
 * ({@link CycleRecord}), checks both against the hashes the entry holds, runs the pure
 * {@link Allocator} on the snapshot again and compares what it decides with what was recorded.
 * The allocator is a function of its snapshot, so any difference means the scheduler did not do
 * what the code and the policy say, or someone changed the record afterwards: either way a member
 * should hear of it. The chain itself (that no entry was changed, dropped or re-chained) is
 * {@code coop ledger verify}'s to check; here each cycle entry's own hash is checked.
 */
public final class AllocatorReplay {

    /** One recorded cycle re-run: {@code problem} is null when it re-derives exactly. */
    public record Cycle(long seq, long at, long policyVersion, long nodes, long pending, long running,
                        long decisions, int storedBytes, String problem) {
        public boolean ok() {
            return problem == null;
        }
    }

    /** Every cycle entry met from the first sequence number asked, in ledger order. */
    public record Report(long from, long entriesRead, List<Cycle> cycles) {
        public Report {
            cycles = List.copyOf(cycles);
        }

        public boolean ok() {
            return cycles.stream().allMatch(Cycle::ok);
        }

        /** The first cycle that did not re-derive, or null. */
        public Cycle firstDivergence() {
            return cycles.stream().filter(c -> !c.ok()).findFirst().orElse(null);
        }

        /** Bytes the store holds for the cycles read: the cost of keeping them. */
        public long storedBytes() {
            return cycles.stream().mapToLong(Cycle::storedBytes).sum();
        }
    }

    private AllocatorReplay() {
    }

    /** Re-runs every cycle recorded in the store's ledger from entry {@code from} on. */
    public static Report replay(Store store, long from) {
        List<Cycle> cycles = new ArrayList<>();
        long[] read = {0};
        Allocator allocator = new Allocator();
        store.scanRaw(Store.Kind.LEDGER, Math.max(0, from), (seq, bytes) -> {
            read[0]++;
            Entry e;
            try {
                e = Entry.read(bytes);
            } catch (IllegalArgumentException bad) {
                cycles.add(new Cycle(seq, 0, 0, 0, 0, 0, 0, 0, "entry " + seq + " cannot be read: " + bad.getMessage()));
                return true;
            }
            if (e.is(EventType.CYCLE)) {
                cycles.add(check(allocator, e, store.getRaw(Store.Kind.CYCLES, Store.key(e.seq()))));
            }
            return true;
        });
        return new Report(Math.max(0, from), read[0], cycles);
    }

    /** Checks one cycle entry against what the store holds for it ({@code stored} null: nothing). */
    static Cycle check(Allocator allocator, Entry e, byte[] stored) {
        Map<String, Object> b = e.body();
        String problem = problem(allocator, e, stored);
        return new Cycle(e.seq(), e.at(), number(b.get("policy_version")), number(b.get("nodes")),
                number(b.get("pending")), number(b.get("running")), number(b.get("decisions")),
                stored == null ? 0 : stored.length, problem);
    }

    private static String problem(Allocator allocator, Entry e, byte[] stored) {
        if (!e.hash().equals(e.expectedHash())) {
            return "the cycle entry was altered: its hash does not match its fields (coop ledger verify says more)";
        }
        if (stored == null) {
            return "the store holds no record of this cycle";
        }
        Map<String, Object> record;
        try {
            record = Canonical.parseObject(stored);
        } catch (IllegalArgumentException bad) {
            return "the stored record cannot be read: " + bad.getMessage();
        }
        String snapshotHash = Entry.sha256(Canonical.encode(record.get("snapshot")));
        if (!snapshotHash.equals(e.body().get("snapshot_sha256"))) {
            return "the recorded snapshot was altered: its SHA-256 is " + snapshotHash + ", the ledger entry says "
                    + e.body().get("snapshot_sha256");
        }
        if (!(record.get("snapshot") instanceof Map<?, ?>) || !(record.get("decisions") instanceof List<?> recorded)) {
            return "the stored record lacks its snapshot or its decisions";
        }
        @SuppressWarnings("unchecked")
        Map<String, Object> snapshotFields = (Map<String, Object>) record.get("snapshot");
        ClusterSnapshot snapshot;
        try {
            snapshot = CycleRecord.snapshot(snapshotFields);
        } catch (RuntimeException bad) {
            return "the recorded snapshot cannot be read: " + bad.getMessage();
        }
        // A snapshot that does not write back to the bytes hashed would be re-run on other input.
        if (!Entry.sha256(Canonical.encode(CycleRecord.encode(snapshot))).equals(snapshotHash)) {
            return "the recorded snapshot does not read back as it was written";
        }
        List<Object> derived = CycleRecord.encode(allocator.plan(snapshot).taken());
        String derivedHash = Entry.sha256(Canonical.encode(derived));
        String recordedHash = Entry.sha256(Canonical.encode(recorded));
        String ledgerHash = (String) e.body().get("decisions_sha256");
        if (derivedHash.equals(ledgerHash) && recordedHash.equals(ledgerHash)) {
            return null;
        }
        String where = firstDifference(recorded, derived);
        if (derivedHash.equals(ledgerHash)) {
            return "the recorded decisions were altered after the cycle (the allocator and the ledger's hash agree): "
                    + where;
        }
        return "the allocator re-run diverges from the decisions "
                + (recordedHash.equals(ledgerHash) ? "recorded" : "recorded (which do not match the ledger's hash "
                + "either)") + ": " + where;
    }

    /** The first decision that differs, both ways, in words. */
    private static String firstDifference(List<?> recorded, List<Object> derived) {
        int n = Math.max(recorded.size(), derived.size());
        for (int i = 0; i < n; i++) {
            Object r = i < recorded.size() ? recorded.get(i) : null;
            Object d = i < derived.size() ? derived.get(i) : null;
            if (r == null || d == null || !Objects.equals(Canonical.text(r), Canonical.text(d))) {
                return "decision " + (i + 1) + " recorded " + CycleRecord.describe(r) + ", re-run "
                        + CycleRecord.describe(d);
            }
        }
        return "the decisions are the same but their hash differs from the ledger's";
    }

    private static long number(Object o) {
        return o instanceof Long n ? n : 0;
    }
}
