package coop.scheduler.replica;

import coop.scheduler.ledger.Entry;
import coop.scheduler.store.Store.Kind;
import coop.scheduler.store.Store.Record;
import coop.scheduler.store.Store;
import java.nio.ByteBuffer;
import java.util.List;

/**
 * What a replica checks before it applies a committed batch: that every ledger entry in it
 * extends the chain the replica already holds (the next sequence number, linked to its head,
 * hashing to what it says), and that no entry already held is overwritten or deleted. A batch
 * that fails is refused whole: a rewritten history is never applied, whoever proposed it.
 */
final class ChainGuard {
    private long size;
    private String head = Entry.ORIGIN;

    /** The chain as {@code store} holds it: its length and the hash of its last entry. */
    ChainGuard(Store store) {
        byte[] last = store.lastKey(Kind.LEDGER);
        if (last != null) {
            Entry e = Entry.read(store.getRaw(Kind.LEDGER, last));
            size = e.seq() + 1;
            head = e.hash();
        }
    }

    long size() {
        return size;
    }

    String head() {
        return head;
    }

    /**
     * Checks the batch's ledger records against the chain and, when they extend it, moves the
     * chain on past them.
     *
     * @throws IllegalArgumentException naming the first record that does not extend the chain
     */
    void admit(List<Record> batch) {
        long n = size;
        String h = head;
        for (Record r : batch) {
            if (r.kind() != Kind.LEDGER) {
                continue;
            }
            long seq = r.key().length == Long.BYTES ? ByteBuffer.wrap(r.key()).getLong() : -1;
            if (r.value() == null) {
                throw new IllegalArgumentException("the batch deletes ledger entry " + seq + ": entries are never removed");
            }
            if (seq != n) {
                throw new IllegalArgumentException("the batch writes ledger entry " + seq + " where entry " + n
                        + " comes next" + (seq >= 0 && seq < n ? ": it would overwrite an entry this replica holds" : ""));
            }
            Entry e;
            try {
                e = Entry.read(r.value());
            } catch (IllegalArgumentException ex) {
                throw new IllegalArgumentException("ledger entry " + seq + " cannot be read: " + ex.getMessage());
            }
            if (e.seq() != seq) {
                throw new IllegalArgumentException("ledger entry " + seq + " says it is entry " + e.seq());
            }
            if (!e.prev().equals(h)) {
                throw new IllegalArgumentException("ledger entry " + seq + " does not extend this replica's chain: it "
                        + "follows " + e.prev() + ", the head here is " + h);
            }
            if (!e.hash().equals(e.expectedHash())) {
                throw new IllegalArgumentException("ledger entry " + seq + " does not hash to what it says");
            }
            n++;
            h = e.hash();
        }
        size = n;
        head = h;
    }
}
