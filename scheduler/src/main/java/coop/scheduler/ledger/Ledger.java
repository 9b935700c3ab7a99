package coop.scheduler.ledger;

import coop.scheduler.governance.Event;
import coop.scheduler.store.Batch;
import coop.scheduler.store.Store;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;

/**
 * The live end of the ledger: appends entries, each linked to the one before by its hash,
 * into the turn's WriteBatch, so an entry is durable exactly when the change it records is.
 * Entries are never changed or removed.
 */
public final class Ledger {
    private long size;
    private String head = Entry.ORIGIN;

    /** Reads the stored ledger in order, handing each entry over; the chain itself is checked by {@code coop ledger verify}. */
    public static Ledger recover(Store store, Consumer<Entry> each) {
        Ledger l = new Ledger();
        store.scanRaw(Store.Kind.LEDGER, (k, v) -> {
            Entry e = Entry.read(v);
            l.size = e.seq() + 1;
            l.head = e.hash();
            each.accept(e);
        });
        return l;
    }

    /** Every stored entry in order. */
    public static List<byte[]> rawEntries(Store store) {
        List<byte[]> out = new ArrayList<>();
        store.scanRaw(Store.Kind.LEDGER, (k, v) -> out.add(v));
        return out;
    }

    public Entry append(long at, Event event, Batch batch) {
        Entry e = Entry.make(size, at, event.type(), event.body(), head);
        batch.putRaw(Store.Kind.LEDGER, e.seq(), e.bytes());
        size++;
        head = e.hash();
        return e;
    }

    /** Hash of the last entry ({@link Entry#ORIGIN} while empty). */
    public String head() {
        return head;
    }

    public long size() {
        return size;
    }
}
