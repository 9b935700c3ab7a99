package coop.scheduler.ledger;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Map;
import java.util.SortedMap;
import java.util.TreeMap;

/**
 * One link of the hash-chained ledger: what happened ({@code type} and {@code body}), when,
 * and the SHA-256 of the previous entry. {@code hash} is the SHA-256 of the canonical
 * encoding of the other five fields, so changing any byte of an entry, or dropping,
 * reordering or inserting one, breaks the chain at that entry.
 */
public record Entry(long seq, long at, String type, SortedMap<String, Object> body, String prev, String hash) {
    /** The {@code prev} of the first entry. */
    public static final String ORIGIN = "0".repeat(64);

    public Entry {
        body = java.util.Collections.unmodifiableSortedMap(new TreeMap<>(body));
    }

    /** The entry that follows {@code prevHash} at {@code seq}, with its hash computed. */
    public static Entry make(long seq, long at, String type, Map<String, Object> body, String prevHash) {
        SortedMap<String, Object> sorted = new TreeMap<>(body);
        return new Entry(seq, at, type, sorted, prevHash, digest(seq, at, type, sorted, prevHash));
    }

    /** The entry that records {@code type} after {@code prevHash} at {@code seq}. */
    public static Entry make(long seq, long at, EventType type, Map<String, Object> body, String prevHash) {
        return make(seq, at, type.label(), body, prevHash);
    }

    /** Whether this entry records an event of {@code t}. */
    public boolean is(EventType t) {
        return t.label().equals(type);
    }

    /** The hash the entry should carry, computed from its other fields. */
    public String expectedHash() {
        return digest(seq, at, type, body, prev);
    }

    private static String digest(long seq, long at, String type, SortedMap<String, Object> body, String prev) {
        return sha256(Canonical.encode(Map.of("seq", seq, "at", at, "type", type, "body", body, "prev", prev)));
    }

    /** The canonical bytes the ledger stores and exports (one line of an export file). */
    public byte[] bytes() {
        return Canonical.encode(Map.of("seq", seq, "at", at, "type", type, "body", body, "prev", prev,
                "hash", hash));
    }

    /**
     * Reads stored or exported bytes. Checks the form only (canonical JSON with the six fields);
     * the hash and the link are checked by the verifier.
     *
     * @throws IllegalArgumentException naming what is wrong
     */
    @SuppressWarnings("unchecked")
    public static Entry read(byte[] bytes) {
        SortedMap<String, Object> m = Canonical.parseObject(bytes);
        if (!java.util.Arrays.equals(bytes, Canonical.encode(m))) {
            throw new IllegalArgumentException("not in canonical form");
        }
        if (!m.keySet().equals(java.util.Set.of("seq", "at", "type", "body", "prev", "hash"))) {
            throw new IllegalArgumentException("fields must be seq, at, type, body, prev and hash, got " + m.keySet());
        }
        if (!(m.get("seq") instanceof Long seq) || !(m.get("at") instanceof Long at)
                || !(m.get("type") instanceof String type) || !(m.get("body") instanceof SortedMap<?, ?> body)
                || !(m.get("prev") instanceof String prev) || !(m.get("hash") instanceof String hash)) {
            throw new IllegalArgumentException("a field has the wrong type");
        }
        return new Entry(seq, at, type, (SortedMap<String, Object>) body, prev, hash);
    }

    public static String sha256(byte[] bytes) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    public static String sha256(String text) {
        return sha256(text.getBytes(StandardCharsets.UTF_8));
    }
}
