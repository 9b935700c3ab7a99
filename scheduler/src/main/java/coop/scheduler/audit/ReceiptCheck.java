package coop.scheduler.audit;

import coop.scheduler.ledger.Canonical;
import coop.scheduler.ledger.Entry;
import coop.scheduler.ledger.EventType;
import coop.scheduler.ledger.Keys;
import coop.scheduler.ledger.SignedHead;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SortedMap;

/**
 * Checks the receipts and witnesses a member kept against a ledger: each receipt's signature
 * must verify with the scheduler key the ledger had announced by its sequence number, and each
 * receipt's or witness's head must be the hash of the ledger's entry at that sequence number.
 * A history rewritten by whoever holds the data folder (a ballot dropped and the entries after
 * it re-chained) verifies on its own, but no longer has the heads the scheduler signed or the
 * members witnessed before the rewrite: the first such sequence number is where to look.
 */
public final class ReceiptCheck {
    private ReceiptCheck() {
    }

    /** A receipt kept in {@code source} (a file name). */
    public record Receipt(String source, SignedHead head) {
    }

    /** A witness kept in {@code source}: the member's signed statement and the key it checks with. */
    public record Witness(String source, SortedMap<String, Object> statement, String signature, String publicKey) {
    }

    /** What is wrong with one kept receipt or witness. */
    public record Finding(String source, long seq, String problem) {
        @Override
        public String toString() {
            return source + ": " + problem;
        }
    }

    /** The findings, in ledger order (empty when every receipt and witness holds). One pass over the entries. */
    public static List<Finding> check(Iterable<byte[]> entries, List<Receipt> receipts, List<Witness> witnesses) {
        Map<Long, List<Receipt>> receiptsAt = new HashMap<>();
        receipts.forEach(r -> receiptsAt.computeIfAbsent(r.head().seq(), s -> new ArrayList<>()).add(r));
        Map<Long, List<Witness>> witnessesAt = new HashMap<>();
        List<Finding> out = new ArrayList<>();
        for (Witness w : witnesses) {
            SignedHead.Witness said;
            try {
                said = SignedHead.Witness.of(w.statement());
            } catch (IllegalArgumentException e) {
                out.add(new Finding(w.source(), -1, "is no witness: " + e.getMessage()));
                continue;
            }
            if (!Keys.verify(w.publicKey(), Canonical.encode(w.statement()), w.signature())) {
                out.add(new Finding(w.source(), said.seq(), "its signature is not " + said.member() + "'s"));
                continue;
            }
            witnessesAt.computeIfAbsent(said.seq(), s -> new ArrayList<>()).add(w);
        }
        String key = null;
        long seen = 0;
        for (byte[] bytes : entries) {
            Entry e = Entry.read(bytes);
            seen = e.seq() + 1;
            if (e.is(EventType.SCHEDULER_KEY)) {
                key = (String) e.body().get("public_key");
            }
            for (Receipt r : receiptsAt.getOrDefault(e.seq(), List.of())) {
                if (key == null || !r.head().verifies(key)) {
                    out.add(new Finding(r.source(), e.seq(), "its signature does not verify with the scheduler key "
                            + "the ledger announced by entry " + e.seq() + (key == null ? " (none)" : "")));
                } else if (!r.head().head().equals(e.hash())) {
                    out.add(rewritten(r.source(), e, r.head().head(), "the scheduler signed"));
                }
            }
            for (Witness w : witnessesAt.getOrDefault(e.seq(), List.of())) {
                String head = (String) w.statement().get("head");
                if (!head.equals(e.hash())) {
                    out.add(rewritten(w.source(), e, head, w.statement().get("member") + " witnessed"));
                }
            }
        }
        long size = seen;
        receiptsAt.forEach((seq, rs) -> {
            if (seq >= size) {
                rs.forEach(r -> out.add(new Finding(r.source(), seq, "the scheduler signed entry " + seq
                        + ", but this ledger has only " + size + " entries: it was cut short")));
            }
        });
        witnessesAt.forEach((seq, ws) -> {
            if (seq >= size) {
                ws.forEach(w -> out.add(new Finding(w.source(), seq, "witnessed entry " + seq
                        + ", but this ledger has only " + size + " entries: it was cut short")));
            }
        });
        out.sort(java.util.Comparator.comparingLong(Finding::seq));
        return out;
    }

    private static Finding rewritten(String source, Entry e, String held, String who) {
        return new Finding(source, e.seq(), "entry " + e.seq() + " has hash " + e.hash() + " in this ledger, but "
                + who + " head " + held + " there: the history was rewritten at or before entry " + e.seq());
    }
}
