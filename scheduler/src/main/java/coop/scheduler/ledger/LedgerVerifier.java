package coop.scheduler.ledger;

import coop.scheduler.domain.CoopException;
import coop.scheduler.governance.Event;
import coop.scheduler.governance.Governance;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SortedMap;
import java.util.TreeMap;

/**
 * Re-checks a ledger from its bytes alone: that each entry is well formed and canonical,
 * that its hash is right and links to the entry before, that its time does not go back,
 * and, by running the governance rules afresh over the recorded inputs, that every
 * signature verifies and every close, tally, enactment, panel and verdict is exactly what
 * the rules yield. Attempt entries must add up (GPUs × time). Stops at the first bad entry.
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
        return new Run(true).run(entries);
    }

    /** A replay's report, the governance it rebuilt, and the time of the last entry. */
    public record Replayed(Report report, Governance governance, long lastAt) {
    }

    /**
     * Rebuilds governance from a ledger with the same checks as {@link #verify}; signatures
     * are checked only when asked (a scheduler trusts the signatures it checked when it wrote them).
     */
    public static Replayed replay(List<byte[]> entries, boolean checkSignatures) {
        Run run = new Run(checkSignatures);
        Report r = run.run(entries);
        return new Replayed(r, run.gov, run.prevAt);
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

        Run(boolean checkSignatures) {
            this.checkSignatures = checkSignatures;
        }

        Report run(List<byte[]> raw) {
            List<Entry> read = new ArrayList<>();
            for (int i = 0; i < raw.size(); i++) {
                Entry e;
                try {
                    e = Entry.read(raw.get(i));
                } catch (IllegalArgumentException ex) {
                    return bad(i, "cannot be read: " + ex.getMessage());
                }
                if (e.seq() != i) {
                    return bad(i, "has sequence number " + e.seq() + " where " + i + " belongs");
                }
                if (!e.prev().equals(prevHash)) {
                    return bad(i, "does not link to the entry before it (prev " + abbrev(e.prev()) + ", expected "
                            + abbrev(prevHash) + ")");
                }
                if (!e.hash().equals(e.expectedHash())) {
                    return bad(i, "has been altered: its hash is " + abbrev(e.hash()) + " but its content hashes to "
                            + abbrev(e.expectedHash()));
                }
                if (e.at() < prevAt) {
                    return bad(i, "is dated before the entry it follows");
                }
                prevHash = e.hash();
                prevAt = e.at();
                read.add(e);
            }
            int i = 0;
            while (i < read.size()) {
                Entry e = read.get(i);
                List<Event> expected;
                try {
                    expected = replay(e);
                } catch (CoopException | IllegalArgumentException | ClassCastException | NullPointerException ex) {
                    return bad(i, "(" + e.type() + ") is refused by the rules: " + ex.getMessage());
                }
                if (expected.isEmpty()) {
                    return bad(i, "(" + e.type() + ") is not what the rules yield at this point: nothing was due");
                }
                for (int k = 0; k < expected.size(); k++) {
                    if (i + k >= read.size()) {
                        return bad(i + k, "is missing: the rules yield a " + expected.get(k).type() + " here");
                    }
                    Entry got = read.get(i + k);
                    Event want = expected.get(k);
                    // Equal maps are equal text; only maps that differ (perhaps just Integer against Long) are encoded.
                    if (!got.type().equals(want.type()) || !(got.body().equals(want.body())
                            || Canonical.text(got.body()).equals(Canonical.text(want.body())))) {
                        return bad(i + k, "(" + got.type() + ") differs from what the rules yield: expected "
                                + want.type() + " " + Canonical.text(want.body()));
                    }
                    if (k > 0 && got.at() != e.at()) {
                        return bad(i + k, "is dated apart from the entry that caused it");
                    }
                    count(got);
                }
                i += expected.size();
            }
            return new Report(read.size(), prevHash, proposals, ballots, closes, policies, panels, reviews, attempts,
                    gpuMillis, -1, null);
        }

        private List<Event> replay(Entry e) {
            if (e.seq() == 0) {
                if (!e.type().equals("genesis")) {
                    throw new IllegalArgumentException("the first entry must be the genesis");
                }
                gov = Governance.found(e.body(), e.at());
                return List.of(Event.of("genesis", e.body()));
            }
            if (e.type().equals("genesis")) {
                throw new IllegalArgumentException("a second genesis");
            }
            if (e.type().equals("panel") && !prevSeedMatches(e)) {
                throw new IllegalArgumentException("the panel's seed is not the ledger head at submission");
            }
            if (e.type().equals("attempt")) {
                checkAttempt(e.body());
            }
            return gov.replay(e, checkSignatures);
        }

        private boolean prevSeedMatches(Entry e) {
            return e.prev().equals(e.body().get("seed"));
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
            switch (e.type()) {
                case "propose" -> proposals++;
                case "ballot" -> ballots++;
                case "close" -> {
                    closes++;
                    if (e.body().containsKey("policy")) {
                        policies++;
                    }
                }
                case "panel" -> panels++;
                case "review" -> reviews++;
                case "attempt" -> {
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
