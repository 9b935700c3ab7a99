package coop.scheduler.ledger;

import coop.scheduler.store.Batch;
import coop.scheduler.store.Store;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SortedMap;
import java.util.TreeMap;

/**
 * What replaying the first {@code seq} entries of the ledger yields, kept so that a restarting
 * scheduler replays only the entries after them: the governance's whole state
 * ({@code Governance.image()}), and what the checks of later entries need of the chain (its
 * head and last time, the scheduler key announced last, the hashes witnesses may still name,
 * and the job ids submit entries introduced so far).
 *
 * <p>It is linked to the chain by {@code head}, the hash of entry {@code seq - 1}, and sealed by
 * the SHA-256 of its canonical bytes: on load, a checkpoint whose seal is broken or whose head is
 * not that entry's hash is not used, and the whole ledger is replayed instead. The ledger stays
 * the record: {@code coop ledger verify} replays it all and checks the checkpoint against the
 * state it reaches at {@code seq}.
 */
public record Checkpoint(long seq, String head, long lastAt, String schedulerKey, List<String> recent,
                         long firstSubmitted, long lastSubmitted, SortedMap<String, Object> governance) {
    /** The META key the latest checkpoint is kept under (only the latest is kept). */
    public static final String KEY = "ledger_checkpoint";
    /** How many entries the scheduler appends between checkpoints: at most this many are replayed at start-up. */
    public static final long EVERY = 10_000;

    public Checkpoint {
        recent = java.util.Collections.unmodifiableList(new ArrayList<>(recent));
        if (recent.size() != Math.min(seq, SignedHead.WITNESS_WINDOW)) {
            throw new IllegalArgumentException("a checkpoint at entry " + seq + " keeps the hashes of the last "
                    + Math.min(seq, SignedHead.WITNESS_WINDOW) + " entries, not " + recent.size());
        }
    }

    /** The canonical map of the checkpoint, without its seal. */
    public SortedMap<String, Object> toMap() {
        SortedMap<String, Object> o = new TreeMap<>();
        o.put("seq", seq);
        o.put("head", head);
        o.put("at", lastAt);
        o.put("scheduler_key", schedulerKey);
        o.put("recent", recent);
        o.put("first_submitted", firstSubmitted);
        o.put("last_submitted", lastSubmitted);
        o.put("governance", governance);
        return o;
    }

    /** The stored form: the checkpoint and the SHA-256 of its canonical bytes. */
    public byte[] bytes() {
        byte[] state = Canonical.encode(toMap());
        // {"checkpoint":STATE,"sha256":"…"}: the canonical form of the sealed map, with the state encoded once.
        byte[] head = "{\"checkpoint\":".getBytes(java.nio.charset.StandardCharsets.UTF_8);
        byte[] tail = (",\"sha256\":\"" + Entry.sha256(state) + "\"}").getBytes(java.nio.charset.StandardCharsets.UTF_8);
        byte[] out = new byte[head.length + state.length + tail.length];
        System.arraycopy(head, 0, out, 0, head.length);
        System.arraycopy(state, 0, out, head.length, state.length);
        System.arraycopy(tail, 0, out, head.length + state.length, tail.length);
        return out;
    }

    /** The SHA-256 of the checkpoint's canonical bytes: two checkpoints of the same state have the same. */
    public String sha256() {
        return Entry.sha256(Canonical.encode(toMap()));
    }

    /** Puts the checkpoint in {@code batch}, in place of the one before. */
    public void write(Batch batch) {
        batch.putRaw(Store.Kind.META, KEY, bytes());
    }

    /**
     * Reads stored bytes back.
     *
     * @throws IllegalArgumentException when they are not a checkpoint or its seal is broken
     */
    @SuppressWarnings("unchecked")
    public static Checkpoint read(byte[] bytes) {
        SortedMap<String, Object> sealed = Canonical.parseObject(bytes);
        if (!(sealed.get("checkpoint") instanceof Map<?, ?> m)) {
            throw new IllegalArgumentException("no checkpoint in the record");
        }
        Map<String, Object> o = (Map<String, Object>) m;
        if (!Entry.sha256(Canonical.encode(o)).equals(sealed.get("sha256"))) {
            throw new IllegalArgumentException("the checkpoint's content does not hash to its seal");
        }
        List<String> recent = new ArrayList<>();
        ((List<Object>) o.get("recent")).forEach(h -> recent.add((String) h));
        return new Checkpoint((Long) o.get("seq"), (String) o.get("head"), (Long) o.get("at"),
                (String) o.get("scheduler_key"), recent, (Long) o.get("first_submitted"),
                (Long) o.get("last_submitted"), new TreeMap<>((Map<String, Object>) o.get("governance")));
    }

    /** The stored checkpoint, or null when there is none. */
    public static byte[] stored(Store store) {
        return store.getRaw(Store.Kind.META, Store.key(KEY));
    }

    /**
     * Why this checkpoint does not fit the ledger {@code store} holds, or null when it does: the
     * entry before {@code seq} must be stored, intact, and hash to {@code head}.
     */
    public String mismatch(Store store) {
        if (seq < 1) {
            return "it covers no entry";
        }
        byte[] raw = store.getRaw(Store.Kind.LEDGER, Store.key(seq - 1));
        if (raw == null) {
            return "the ledger has no entry " + (seq - 1);
        }
        Entry e;
        try {
            e = Entry.read(raw);
        } catch (IllegalArgumentException ex) {
            return "entry " + (seq - 1) + " cannot be read: " + ex.getMessage();
        }
        if (!e.hash().equals(e.expectedHash())) {
            return "entry " + (seq - 1) + " has been altered";
        }
        if (!e.hash().equals(head)) {
            return "it follows head " + head + ", but entry " + (seq - 1) + "'s hash is " + e.hash();
        }
        if (!recent.isEmpty() && !recent.get(recent.size() - 1).equals(head)) {
            return "its last recent hash is not its head";
        }
        return null;
    }
}
