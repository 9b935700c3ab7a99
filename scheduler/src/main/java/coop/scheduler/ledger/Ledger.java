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
    /** The first and last job ids that submit entries introduced, 0 before the first. */
    private long firstSubmitted;
    private long lastSubmitted;

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

    /** The live end of a ledger as a {@link Checkpoint} left it, once the entries after it were read and checked. */
    public static Ledger resume(Checkpoint c) {
        Ledger l = resume(c.seq(), c.head(), c.lastAt(), c.schedulerKey());
        for (int i = 0; i < c.recent().size(); i++) {
            long seq = c.seq() - c.recent().size() + i;
            l.recent[(int) (seq % SignedHead.WITNESS_WINDOW)] = c.recent().get(i);
        }
        l.firstSubmitted = c.firstSubmitted();
        l.lastSubmitted = c.lastSubmitted();
        return l;
    }

    /**
     * A checkpoint of the ledger's end and {@code governance}, the image of the state its
     * entries so far yield.
     */
    public Checkpoint checkpoint(java.util.SortedMap<String, Object> governance) {
        List<String> hashes = new ArrayList<>();
        for (long seq = Math.max(0, size - SignedHead.WITNESS_WINDOW); seq < size; seq++) {
            hashes.add(recent[(int) (seq % SignedHead.WITNESS_WINDOW)]);
        }
        return new Checkpoint(size, head, lastAt, schedulerKey, hashes, firstSubmitted, lastSubmitted, governance);
    }

    /** The last job id a submit entry's body introduces: its job, or an array's last task. */
    public static long lastJob(java.util.Map<String, Object> submit) {
        long job = ((Number) submit.get("job")).longValue();
        return submit.get("tasks") instanceof Number tasks ? job + tasks.longValue() - 1 : job;
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
        } else if (event.type() == EventType.SUBMIT) {
            if (firstSubmitted == 0) {
                firstSubmitted = ((Number) event.body().get("job")).longValue();
            }
            lastSubmitted = lastJob(event.body());
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
