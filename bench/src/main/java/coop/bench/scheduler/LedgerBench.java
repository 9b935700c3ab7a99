package coop.bench.scheduler;

import coop.scheduler.audit.LedgerVerifier;
import coop.scheduler.domain.Choice;
import coop.scheduler.domain.Member;
import coop.scheduler.domain.ProposalKind;
import coop.scheduler.domain.Role;
import coop.scheduler.engine.ClusterState;
import coop.scheduler.governance.Governance;
import coop.scheduler.governance.Statements;
import coop.scheduler.ledger.Canonical;
import coop.scheduler.ledger.Checkpoint;
import coop.scheduler.ledger.Entry;
import coop.scheduler.ledger.Event;
import coop.scheduler.ledger.EventType;
import coop.scheduler.ledger.Keys;
import coop.scheduler.ledger.Ledger;
import coop.scheduler.store.Batch;
import coop.scheduler.store.Store;
import java.nio.file.Path;
import java.security.KeyPair;
import java.time.Duration;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.function.Consumer;

/**
 * What the ledger costs as it grows: a store holding a cooperative's history (signed shares
 * votes by every member, and for each job its submit and attempt entries), checkpointed every
 * {@link Checkpoint#EVERY} entries as the scheduler's event loop does, is verified in full with
 * every signature, as {@code coop ledger verify} does (one streaming pass over the store), replayed
 * whole as a scheduler without a checkpoint would, and recovered as a restarting scheduler does
 * (from the checkpoint). Synthetic and deterministic apart from the keys.
 */
public final class LedgerBench {
    /** Sizes and timings; rates are entries per second. */
    public record Result(long entries, int members, int proposals, long attempts, double writeS, double verifyS,
                         double recoverS, double startS, double bytesPerEntry, long checkpointSeq,
                         long checkpointBytes, int checkpoints, double checkpointMs) {
        public double verifyPerS() {
            return entries / verifyS;
        }

        public double recoverPerS() {
            return entries / recoverS;
        }
    }

    private static final long T0 = 1_700_000_000_000L;

    private LedgerBench() {
    }

    /** Checkpoints into {@code batch} as the scheduler's loop does at the end of a turn; returns the entries covered. */
    private static long checkpointIfDue(Ledger ledger, Governance gov, Batch batch, long checkpointed, long every,
                                        long[] spent) {
        if (ledger.size() - checkpointed < every) {
            return checkpointed;
        }
        long t = System.nanoTime();
        ledger.checkpoint(gov.image()).write(batch);
        spent[0]++;
        spent[1] += System.nanoTime() - t;
        return ledger.size();
    }

    public static Result run(Path dir, int members, int proposals, long attempts, Consumer<String> progress) {
        return run(dir, members, proposals, attempts, Checkpoint.EVERY, progress);
    }

    /** As above, checkpointing every {@code every} entries rather than the scheduler's default. */
    public static Result run(Path dir, int members, int proposals, long attempts, long every,
                             Consumer<String> progress) {
        List<Member> founders = new ArrayList<>();
        List<KeyPair> keys = new ArrayList<>();
        for (int i = 0; i < members; i++) {
            KeyPair kp = Keys.generate();
            keys.add(kp);
            founders.add(new Member("m" + i, List.of("lab-a", "lab-b"), EnumSet.allOf(Role.class),
                    Keys.encode(kp.getPublic()), Entry.sha256("t" + i), T0, 0));
        }
        long started = System.nanoTime();
        long bytes = 0;
        try (Store store = Store.open(dir)) {
            ClusterState.found(store, founders, List.of("lab-a", "lab-b"), T0);
            LedgerVerifier.Replayed base = LedgerVerifier.replay(store, false);
            Governance gov = base.governance();
            Ledger ledger = Ledger.resume(base.end().get());
            long checkpointed = 0;
            // Checkpoints written, and the nanoseconds the loop would spend making them.
            long[] spent = {0, 0};
            long now = T0;
            long perProposal = proposals == 0 ? attempts : attempts / (proposals + 1);
            long written = 0;
            for (int p = 0; p <= proposals; p++) {
                Batch batch = store.batch();
                long upTo = p == proposals ? attempts : Math.min(attempts, written + perProposal);
                for (; written < upTo; written++) {
                    now += 10;
                    SortedMap<String, Object> sub = new TreeMap<>();
                    sub.put("job", written + 1);
                    sub.put("account", written % 2 == 0 ? "lab-a" : "lab-b");
                    sub.put("member", "m" + (written % members));
                    sub.put("gpus", 8L);
                    sub.put("nodes", 1L);
                    sub.put("purpose", "");
                    sub.put("spec", Entry.sha256("job " + written));
                    bytes += ledger.append(now, Event.of(EventType.SUBMIT, sub), batch).bytes().length;
                    SortedMap<String, Object> b = new TreeMap<>();
                    b.put("job", written + 1);
                    b.put("attempt", 1L);
                    b.put("account", written % 2 == 0 ? "lab-a" : "lab-b");
                    b.put("member", "m" + (written % members));
                    b.put("gpus", 8L);
                    b.put("started_at", now - 3_600_000);
                    b.put("finished_at", now);
                    b.put("gpu_ms", 8L * 3_600_000);
                    b.put("outcome", "exit 0");
                    bytes += ledger.append(now, Event.of(EventType.ATTEMPT, b), batch).bytes().length;
                    // As the loop does at the end of each turn (here, each job's two entries).
                    checkpointed = checkpointIfDue(ledger, gov, batch, checkpointed, every, spent);
                    if (batch.size() >= 10_000) {
                        store.commit(batch);
                        batch = store.batch();
                    }
                }
                if (p < proposals) {
                    now += 1000;
                    long a = 1000 + (p * 37L) % 8000;
                    SortedMap<String, Object> s = Statements.propose("m0", now, ProposalKind.SHARES, "", 0,
                            Map.of("shares", Map.of("lab-a", a, "lab-b", 10_000 - a)));
                    for (Event e : gov.submit(s, Keys.sign(keys.get(0).getPrivate(), Canonical.encode(s)), now, true)) {
                        bytes += ledger.append(now, e, batch).bytes().length;
                    }
                    long id = gov.proposals(true).get(0).id();
                    for (int m = 0; m < members; m++) {
                        now += 10;
                        SortedMap<String, Object> v = Statements.ballot("m" + m, now, id, Choice.YES, Map.of());
                        for (Event e : gov.submit(v, Keys.sign(keys.get(m).getPrivate(), Canonical.encode(v)), now,
                                true)) {
                            bytes += ledger.append(now, e, batch).bytes().length;
                        }
                    }
                }
                checkpointed = checkpointIfDue(ledger, gov, batch, checkpointed, every, spent);
                store.commit(batch);
                if (proposals > 0 && (p + 1) % Math.max(1, proposals / 10) == 0) {
                    progress.accept("wrote " + ledger.size() + " entries");
                }
            }
            double writeS = (System.nanoTime() - started) / 1e9;
            progress.accept("verifying " + ledger.size() + " entries with signatures, streaming from the store");
            long t = System.nanoTime();
            LedgerVerifier.Report r = LedgerVerifier.verify(store);
            double verifyS = (System.nanoTime() - t) / 1e9;
            if (!r.ok()) {
                throw new IllegalStateException("the benchmark's own ledger does not verify: " + r.problem());
            }
            progress.accept("replaying the whole ledger, as a scheduler without a checkpoint would");
            t = System.nanoTime();
            LedgerVerifier.replay(store, false);
            double recoverS = (System.nanoTime() - t) / 1e9;
            progress.accept("starting from the checkpoint at entry " + checkpointed);
            t = System.nanoTime();
            coop.scheduler.engine.Recovery.Stored stored = coop.scheduler.engine.Recovery.read(store);
            new ClusterState(stored, InstantSource.fixed(java.time.Instant.ofEpochMilli(now)), Duration.ofSeconds(5),
                    null);
            double startS = (System.nanoTime() - t) / 1e9;
            byte[] cp = Checkpoint.stored(store);
            return new Result(r.entries(), members, proposals, attempts, writeS, verifyS, recoverS, startS,
                    (double) bytes / Math.max(1, r.entries() - 1), stored.checkpointed(), cp == null ? 0 : cp.length,
                    (int) spent[0], spent[0] == 0 ? 0 : spent[1] / 1e6 / spent[0]);
        }
    }
}
