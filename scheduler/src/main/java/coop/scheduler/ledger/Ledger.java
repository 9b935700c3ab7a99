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
    /** The scheduler key the ledger announced last, or null. */
    private String schedulerKey;
    /** The hashes of the last {@link SignedHead#WITNESS_WINDOW} entries, by sequence modulo the window. */
    private final String[] recent = new String[SignedHead.WITNESS_WINDOW];

    /** The live end of a ledger whose entries were read and checked. */
    public static Ledger resume(long size, String head, long lastAt) {
        return resume(size, head, lastAt, null);
    }

    /**
     * As above, with the scheduler key its last {@code scheduler-key} entry announced (null if none)
     * and the hashes of its last entries ({@code recentHash} of a sequence number, null where unknown),
     * which witnesses may name.
     */
    public static Ledger resume(long size, String head, long lastAt, String schedulerKey,
                                java.util.function.LongFunction<String> recentHash) {
        Ledger l = resume(size, head, lastAt, schedulerKey);
        for (long seq = Math.max(0, size - SignedHead.WITNESS_WINDOW); seq < size; seq++) {
            l.recent[(int) (seq % SignedHead.WITNESS_WINDOW)] = recentHash.apply(seq);
        }
        return l;
    }

    /** As above, without recent hashes: witnesses may name only entries appended from now on. */
    public static Ledger resume(long size, String head, long lastAt, String schedulerKey) {
        Ledger l = new Ledger();
        l.size = size;
        l.head = size == 0 ? Entry.ORIGIN : head;
        l.lastAt = lastAt;
        l.schedulerKey = schedulerKey;
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
        recent[(int) (e.seq() % SignedHead.WITNESS_WINDOW)] = e.hash();
        size++;
        head = e.hash();
        lastAt = Math.max(lastAt, at);
        if (event.type() == EventType.SCHEDULER_KEY) {
            schedulerKey = (String) event.body().get("public_key");
        }
        return e;
    }

    /**
     * The hash of entry {@code seq} if it is among the last {@link SignedHead#WITNESS_WINDOW}
     * entries and known here, else null.
     */
    public String recentHash(long seq) {
        if (seq < 0 || seq >= size || seq < size - SignedHead.WITNESS_WINDOW) {
            return null;
        }
        return recent[(int) (seq % SignedHead.WITNESS_WINDOW)];
    }

    /** The scheduler key the ledger announced last, or null when it announced none. */
    public String schedulerKey() {
        return schedulerKey;
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
