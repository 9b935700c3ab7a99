package coop.scheduler.ledger;

import java.security.PrivateKey;
import java.util.Map;
import java.util.SortedMap;
import java.util.TreeMap;

/**
 * The scheduler's signed word that its ledger had {@code head} as the hash of entry {@code seq}:
 * a receipt. Whoever keeps one can later show that the scheduler's ledger said so; a history
 * rewritten since (an entry dropped and the rest re-chained, by someone holding the data folder
 * and even the scheduler's key) no longer has that hash at that sequence, and the receipt's
 * signature, made before the rewrite, shows the scheduler said it did. The signed message is
 * the canonical encoding of {@code {"type":"head","seq":…,"head":…}}, Ed25519 with the key the
 * scheduler announced in a {@code scheduler-key} entry.
 */
public record SignedHead(long seq, String head, String signature) {
    /** How many entries back a witness may name a head (the verifier keeps that many hashes). */
    public static final int WITNESS_WINDOW = 10_000;

    /** The bytes the scheduler signs. */
    public static byte[] message(long seq, String head) {
        return Canonical.encode(Map.of("type", "head", "seq", seq, "head", head));
    }

    public static SignedHead sign(PrivateKey key, long seq, String head) {
        return new HeadSigner(key).sign(seq, head);
    }

    /** Whether the signature is {@code publicKey}'s (base64 X.509 Ed25519). */
    public boolean verifies(String publicKey) {
        return Keys.verify(publicKey, message(seq, head), signature);
    }

    /** The receipt as a canonical JSON object, as the CLI keeps it in a file. */
    public SortedMap<String, Object> toMap() {
        return new TreeMap<>(Map.of("seq", seq, "head", head, "signature", signature));
    }

    /** Reads {@link #toMap()}'s form back. @throws IllegalArgumentException when a field is missing */
    public static SignedHead of(Map<String, Object> m) {
        if (!(m.get("seq") instanceof Long seq) || !(m.get("head") instanceof String head)
                || !(m.get("signature") instanceof String signature)) {
            throw new IllegalArgumentException("a receipt holds seq, head and signature");
        }
        return new SignedHead(seq, head, signature);
    }

    /**
     * A member's signed statement that it saw {@code head} at entry {@code seq}: what
     * {@code coop ledger witness} records in the ledger and keeps beside the member's receipts.
     */
    public record Witness(String member, long seq, String head, long signedAt) {
        public static final String TYPE = "witness";

        /** The statement to sign. */
        public SortedMap<String, Object> statement() {
            return new TreeMap<>(Map.of("type", TYPE, "member", member, "seq", seq, "head", head,
                    "signed_at", signedAt));
        }

        /** @throws IllegalArgumentException when the statement is not a witness */
        public static Witness of(Map<String, Object> s) {
            if (!TYPE.equals(s.get("type")) || !(s.get("member") instanceof String member)
                    || !(s.get("seq") instanceof Long seq) || !(s.get("head") instanceof String head)
                    || !(s.get("signed_at") instanceof Long signedAt) || s.size() != 5) {
                throw new IllegalArgumentException("a witness statement holds type witness, member, seq, head and "
                        + "signed_at");
            }
            return new Witness(member, seq, head, signedAt);
        }
    }
}
