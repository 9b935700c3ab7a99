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
 * votes by every member, and one entry per finished attempt) is verified in full, with every
 * signature, as {@code coop ledger verify} does, and recovered as a restarting scheduler does
 * (the same checks without signatures). Synthetic and deterministic apart from the keys.
 */
public final class LedgerBench {
    /** Sizes and timings; rates are entries per second. */
    public record Result(long entries, int members, int proposals, long attempts, double writeS, double verifyS,
                         double recoverS, double startS, double bytesPerEntry) {
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

    public static Result run(Path dir, int members, int proposals, long attempts, Consumer<String> progress) {
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
            Ledger ledger = Ledger.resume(base.report().entries(), base.report().head(), T0);
            long now = T0;
            long perProposal = proposals == 0 ? attempts : attempts / (proposals + 1);
            long written = 0;
            for (int p = 0; p <= proposals; p++) {
                Batch batch = store.batch();
                long upTo = p == proposals ? attempts : Math.min(attempts, written + perProposal);
                for (; written < upTo; written++) {
                    now += 10;
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
                store.commit(batch);
                if (proposals > 0 && (p + 1) % Math.max(1, proposals / 10) == 0) {
                    progress.accept("wrote " + ledger.size() + " entries");
                }
            }
            double writeS = (System.nanoTime() - started) / 1e9;
            progress.accept("verifying " + ledger.size() + " entries with signatures");
            List<byte[]> raw = Ledger.rawEntries(store);
            long t = System.nanoTime();
            LedgerVerifier.Report r = LedgerVerifier.verify(raw);
            double verifyS = (System.nanoTime() - t) / 1e9;
            if (!r.ok()) {
                throw new IllegalStateException("the benchmark's own ledger does not verify: " + r.problem());
            }
            progress.accept("replaying as a restarting scheduler does");
            t = System.nanoTime();
            LedgerVerifier.replay(store, false);
            double recoverS = (System.nanoTime() - t) / 1e9;
            t = System.nanoTime();
            ClusterState.recover(store, InstantSource.fixed(java.time.Instant.ofEpochMilli(now)), Duration.ofSeconds(5),
                    null);
            double startS = (System.nanoTime() - t) / 1e9;
            return new Result(raw.size(), members, proposals, attempts, writeS, verifyS, recoverS, startS,
                    (double) bytes / Math.max(1, raw.size() - 1));
        }
    }
}
