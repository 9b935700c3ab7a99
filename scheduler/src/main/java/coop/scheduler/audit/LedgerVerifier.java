package coop.scheduler.audit;

import coop.scheduler.domain.CoopException;
import coop.scheduler.governance.Governance;
import coop.scheduler.ledger.Canonical;
import coop.scheduler.ledger.Checkpoint;
import coop.scheduler.ledger.Entry;
import coop.scheduler.ledger.Event;
import coop.scheduler.ledger.EventType;
import coop.scheduler.store.Store;
import java.util.ArrayDeque;
import java.util.List;
import java.util.Map;
import java.util.SortedMap;
import java.util.TreeMap;

/**
 * Re-checks a ledger from its bytes alone: that each entry is well formed and canonical,
 * that its hash is right and links to the entry before, that its time does not go back,
 * and, by running the governance rules afresh over the recorded inputs, that every
 * signature verifies and every close, tally, enactment, panel and verdict is exactly what
 * the rules yield. Attempt entries must add up (GPUs × time); what the scheduler recorded on its
 * own authority and members' witnesses are checked by {@link DecisionChecks}. One pass, an entry
 * at a time, so a long ledger is never held in memory; stops at the first bad entry.
 */
public final class LedgerVerifier {

    /** What a verification found: counts, the head, and the first bad entry if any. */
    public record Report(long entries, String head, int proposals, int ballots, int closes, int policies,
                         int panels, int reviews, long attempts, SortedMap<String, Long> gpuMillisByAccount,
                         long badSeq, String problem) {
        public boolean ok() {
            return problem == null;
        }
    }

    private LedgerVerifier() {
    }

    public static Report verify(List<byte[]> entries) {
        return new Run(true, null).run(entries);
    }

    /**
     * Verifies the ledger a store holds, reading it once, entry by entry; and the scheduler's
     * {@link Checkpoint} there, which must be the state the entries yield where it was taken.
     */
    public static Report verify(Store store) {
        return verify(store, Long.MAX_VALUE, () -> false);
    }

    /**
     * Verifies the first {@code size} entries a store holds, reading them one at a time, as a
     * reader beside the running scheduler does (the event loop may append meanwhile; what it
     * appends after {@code size} is left for the next check). Returns null when {@code stop}
     * says to give up before the end.
     */
    public static Report verify(Store store, long size, java.util.function.BooleanSupplier stop) {
        Run run = new Run(true, null);
        run.expect = storedCheckpoint(store);
        boolean[] stopped = {false};
        store.scanRaw(Store.Kind.LEDGER, 0, (seq, bytes) -> {
            if (seq >= size) {
                return false;
            }
            if (stop.getAsBoolean()) {
                stopped[0] = true;
                return false;
            }
            run.accept(bytes);
            return true;
        });
        return stopped[0] ? null : run.finish();
    }

    /**
     * A replay's report, the governance it rebuilt, the time of the last entry, the scheduler
     * key announced last, the hashes of the last entries, and (made when asked) the checkpoint
     * of where it ended.
     */
    public record Replayed(Report report, Governance governance, long lastAt, String schedulerKey,
                           java.util.function.LongFunction<String> recentHash,
                           java.util.function.Supplier<Checkpoint> end) {
    }

    /**
     * Rebuilds governance from a ledger with the same checks as {@link #verify}; signatures
     * are checked only when asked (a scheduler trusts the signatures it checked when it wrote them).
     */
    public static Replayed replay(Store store, boolean checkSignatures) {
        return replay(store, checkSignatures, null);
    }

    /**
     * As {@link #replay(Store, boolean)}, starting from {@code from} (a checkpoint that fits the
     * store's ledger, see {@link Checkpoint#mismatch}) and reading only the entries after it; the
     * report then counts proposals, ballots and attempts from there on. Null {@code from}
     * replays the whole ledger.
     */
    public static Replayed replay(Store store, boolean checkSignatures, Checkpoint from) {
        Run run = new Run(checkSignatures, from);
        store.scanRaw(Store.Kind.LEDGER, from == null ? 0 : from.seq(), (seq, bytes) -> {
            run.accept(bytes);
            return run.failed == null;
        });
        return run.replayed(run.finish());
    }

    /** Rebuilds governance from exported entries (JSON Lines, one entry a line), with the checks of {@link #verify}. */
    public static Replayed replay(List<byte[]> entries, boolean checkSignatures) {
        return replay(entries, checkSignatures, null);
    }

    /** As above, from a checkpoint of the first {@code from.seq()} entries: only those after it are read. */
    public static Replayed replay(List<byte[]> entries, boolean checkSignatures, Checkpoint from) {
        Run run = new Run(checkSignatures, from);
        return run.replayed(run.run(entries.subList((int) Math.min(entries.size(), from == null ? 0 : from.seq()),
                entries.size())));
    }

    /**
     * The checkpoint a replay of every entry in {@code entries} reaches (signatures unchecked),
     * as the scheduler would write it after them.
     *
     * @throws IllegalStateException when the entries do not verify
     */
    public static Checkpoint checkpoint(Store store) {
        Run run = new Run(false, null);
        store.scanRaw(Store.Kind.LEDGER, (key, bytes) -> run.accept(bytes));
        Report r = run.finish();
        if (!r.ok()) {
            throw new IllegalStateException("the ledger does not verify: " + r.problem());
        }
        return run.checkpoint();
    }

    /** The store's checkpoint if it has one that can be read, else null (a broken one is the scheduler's to report). */
    private static Checkpoint storedCheckpoint(Store store) {
        byte[] raw = Checkpoint.stored(store);
        if (raw == null) {
            return null;
        }
        try {
            return Checkpoint.read(raw);
        } catch (IllegalArgumentException | ClassCastException | NullPointerException e) {
            return null;
        }
    }

    private static final class Run {
        final boolean checkSignatures;
        Governance gov;
        String prevHash = Entry.ORIGIN;
        long prevAt = Long.MIN_VALUE;
        int proposals;
        int ballots;
        int closes;
        int policies;
        int panels;
        int reviews;
        long attempts;
        final SortedMap<String, Long> gpuMillis = new TreeMap<>();
        final DecisionChecks decisions = new DecisionChecks();
        /** A stored checkpoint the state must match when the replay reaches it, or null. */
        Checkpoint expect;

        Run(boolean checkSignatures, Checkpoint from) {
            this.checkSignatures = checkSignatures;
            if (from != null) {
                gov = Governance.restore(from.governance());
                prevHash = from.head();
                prevAt = from.lastAt();
                seen = from.seq();
                decisions.resume(from);
            }
        }

        Replayed replayed(Report report) {
            return new Replayed(report, gov, prevAt, decisions.schedulerKey(),
                    seq -> decisions.recentHash(seq, report.entries()), this::checkpoint);
        }

        /** The checkpoint of the state after the entries accepted so far. */
        Checkpoint checkpoint() {
            return decisions.checkpoint(seen, prevHash, prevAt, gov.image());
        }

        /** Events the rules yielded that later entries must match, with the time of the entry that caused them. */
        final ArrayDeque<Event> due = new ArrayDeque<>();
        long causeAt;
        long seen;
        Report failed;

        Report run(Iterable<byte[]> raw) {
            for (byte[] bytes : raw) {
                accept(bytes);
            }
            return finish();
        }

        /**
         * Checks the next entry, in one pass: its form, link and time, then either that it is
         * the event an earlier entry made due, or, when none is due, that the rules accept it
         * and yield it (and perhaps events the next entries must be).
         */
        void accept(byte[] bytes) {
            if (failed != null) {
                return;
            }
            long i = seen++;
            Entry e;
            try {
                e = Entry.read(bytes);
            } catch (IllegalArgumentException ex) {
                failed = bad(i, "cannot be read: " + ex.getMessage());
                return;
            }
            if (e.seq() != i) {
                failed = bad(i, "has sequence number " + e.seq() + " where " + i + " belongs");
            } else if (!e.prev().equals(prevHash)) {
                failed = bad(i, "does not link to the entry before it (prev " + abbrev(e.prev()) + ", expected "
                        + abbrev(prevHash) + ")");
            } else if (!e.hash().equals(e.expectedHash())) {
                failed = bad(i, "has been altered: its hash is " + abbrev(e.hash()) + " but its content hashes to "
                        + abbrev(e.expectedHash()));
            } else if (e.at() < prevAt) {
                failed = bad(i, "is dated before the entry it follows");
            }
            if (failed != null) {
                return;
            }
            if (due.isEmpty()) {
                List<Event> expected;
                try {
                    expected = replay(e);
                } catch (CoopException | IllegalArgumentException | ClassCastException | NullPointerException ex) {
                    failed = bad(i, "(" + e.type() + ") is refused by the rules: " + ex.getMessage());
                    return;
                }
                if (expected.isEmpty()) {
                    failed = bad(i, "(" + e.type() + ") is not what the rules yield at this point: nothing was due");
                    return;
                }
                due.addAll(expected);
                causeAt = e.at();
            } else if (e.at() != causeAt) {
                failed = bad(i, "is dated apart from the entry that caused it");
                return;
            }
            Event want = due.poll();
            // Equal maps are equal text; only maps that differ (perhaps just Integer against Long) are encoded.
            if (!e.is(want.type()) || !(e.body().equals(want.body())
                    || Canonical.text(e.body()).equals(Canonical.text(want.body())))) {
                failed = bad(i, "(" + e.type() + ") differs from what the rules yield: expected " + want.type() + " "
                        + Canonical.text(want.body()));
                return;
            }
            count(e);
            decisions.accepted(e);
            prevHash = e.hash();
            prevAt = e.at();
            if (expect != null && seen == expect.seq() && due.isEmpty()
                    && !checkpoint().sha256().equals(expect.sha256())) {
                failed = bad(seen, "is where the scheduler's checkpoint was taken, and the checkpoint is not the "
                        + "state the entries before yield: the checkpoint was altered, and the scheduler must not "
                        + "start from it (delete its META record " + Checkpoint.KEY + " to replay the whole ledger)");
            }
        }

        Report finish() {
            if (failed != null) {
                return failed;
            }
            if (!due.isEmpty()) {
                return bad(seen, "is missing: the rules yield a " + due.peek().type() + " here");
            }
            return new Report(seen, prevHash, proposals, ballots, closes, policies, panels, reviews, attempts,
                    gpuMillis, -1, null);
        }

        private List<Event> replay(Entry e) {
            if (e.seq() == 0) {
                if (!e.is(EventType.GENESIS)) {
                    throw new IllegalArgumentException("the first entry must be the genesis");
                }
                gov = Governance.found(e.body(), e.at());
                return List.of(Event.of(EventType.GENESIS, e.body()));
            }
            if (e.is(EventType.GENESIS)) {
                throw new IllegalArgumentException("a second genesis");
            }
            if (e.is(EventType.PANEL) && !prevSeedMatches(e)) {
                throw new IllegalArgumentException("the panel's seed is not the ledger head at submission");
            }
            if (e.is(EventType.ATTEMPT)) {
                checkAttempt(e.body());
            }
            decisions.check(e, gov);
            if (e.is(EventType.CYCLE)) {
                checkCycle(e.body());
            }
            return gov.replay(e, checkSignatures);
        }

        /** A panel without a reveal was seeded by the head it follows; one with a reveal, the rules re-derive. */
        private boolean prevSeedMatches(Entry e) {
            return e.body().containsKey("reveal") || e.prev().equals(e.body().get("seed"));
        }

        /** A recorded cycle says which policy it ran under: the one the rules have in force at that entry. */
        private void checkCycle(Map<String, Object> b) {
            if (!(b.get("policy_version") instanceof Long version) || version != gov.policy().version()) {
                throw new IllegalArgumentException("the cycle ran under policy " + b.get("policy_version")
                        + ", but policy " + gov.policy().version() + " was in force");
            }
            for (String hash : List.of("snapshot_sha256", "decisions_sha256")) {
                if (!(b.get(hash) instanceof String h) || !h.matches("[0-9a-f]{64}")) {
                    throw new IllegalArgumentException("the cycle's " + hash + " is not a SHA-256");
                }
            }
        }

        private void checkAttempt(Map<String, Object> b) {
            long gpus = (Long) b.get("gpus");
            long started = (Long) b.get("started_at");
            long finished = (Long) b.get("finished_at");
            long gpuMs = (Long) b.get("gpu_ms");
            String account = (String) b.get("account");
            if (gov.accounts().get(account) == null) {
                throw new IllegalArgumentException("attempt charged to unknown account '" + account + "'");
            }
            if (gpus < 1 || finished < started || gpuMs != gpus * (finished - started)) {
                throw new IllegalArgumentException("GPU time does not add up: " + gpus + " GPUs from " + started
                        + " to " + finished + " is not " + gpuMs + " GPU-ms");
            }
        }

        private void count(Entry e) {
            EventType type = EventType.of(e.type()).orElseThrow();
            switch (type) {
                case PROPOSE -> proposals++;
                case BALLOT -> ballots++;
                case CLOSE -> {
                    closes++;
                    if (e.body().containsKey("policy")) {
                        policies++;
                    }
                }
                case WITHDRAW -> closes++;
                case PANEL -> panels++;
                case REVIEW -> reviews++;
                case ATTEMPT -> {
                    attempts++;
                    gpuMillis.merge((String) e.body().get("account"), (Long) e.body().get("gpu_ms"), Long::sum);
                }
                default -> {
                }
            }
        }

        private Report bad(long seq, String problem) {
            return new Report(seq, prevHash, proposals, ballots, closes, policies, panels, reviews, attempts,
                    gpuMillis, seq, "entry " + seq + " " + problem);
        }
    }

    private static String abbrev(String hash) {
        return hash.length() > 12 ? hash.substring(0, 12) + "…" : hash;
    }
}
