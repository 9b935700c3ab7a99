package coop.scheduler.ledger;

import coop.scheduler.store.Batch;
import coop.scheduler.store.Store;
import java.util.ArrayList;
import java.util.List;

/**
 * The live end of the ledger: appends entries, each linked to the one before by its hash,
 * into the turn's WriteBatch, so an entry is durable exactly when the change it records is.
 * Entries are never changed or removed.
 */
public final class Ledger {
    private long size;
    private String head = Entry.ORIGIN;
    private long lastAt = Long.MIN_VALUE;

    /** The live end of a ledger whose entries were read and checked. */
    public static Ledger resume(long size, String head, long lastAt) {
        Ledger l = new Ledger();
        l.size = size;
        l.head = size == 0 ? Entry.ORIGIN : head;
        l.lastAt = lastAt;
        return l;
    }

    /** Every stored entry in order. */
    public static List<byte[]> rawEntries(Store store) {
        List<byte[]> out = new ArrayList<>();
        store.scanRaw(Store.Kind.LEDGER, (k, v) -> out.add(v));
        return out;
    }

    /** Appends an entry dated {@code at}, or the last entry's time if the clock has gone back since. */
    public Entry append(long at, Event event, Batch batch) {
        Entry e = Entry.make(size, Math.max(at, lastAt), event.type().label(), event.body(), head);
        batch.putRaw(Store.Kind.LEDGER, e.seq(), e.bytes());
        size++;
        head = e.hash();
        lastAt = Math.max(lastAt, at);
        return e;
    }

    /** Hash of the last entry ({@link Entry#ORIGIN} while empty). */
    public String head() {
        return head;
    }

    /** Time of the last entry. */
    public long lastAt() {
        return lastAt;
    }

    public long size() {
        return size;
    }
}
