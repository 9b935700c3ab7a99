package coop.scheduler.governance;

import coop.scheduler.domain.CoopException;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/**
 * The scheduler's beacon: the randomness of review panels, committed before it is used so that
 * neither a submitter nor the scheduler can pick a panel. The scheduler keeps a random 32-byte
 * secret {@code s} to itself and records in the ledger only {@code anchor = SHA-256^n(s)} and the
 * chain's length {@code n} (a {@code beacon} entry). The i-th panel drawn after it reveals
 * {@code r_i = SHA-256^(n-i)(s)}, so {@code SHA-256(r_i) == r_(i-1)} with {@code r_0 = anchor}:
 * anyone can check a reveal against the one before, nobody but the scheduler knows the next, and
 * the scheduler cannot change it once the anchor is in the ledger. A panel's seed is
 * {@code SHA-256(r_i || head)}, where {@code head} is the 32-byte ledger head the panel entry
 * follows (as raw bytes, not hex), so the same reveal could not serve two panels alike.
 *
 * <p>The record is the chain as the ledger has it so far: its anchor and length, how many
 * reveals were used, and the last reveal (the anchor before the first).
 */
public record Beacon(String anchor, long length, long used, String last) {
    /** The longest chain a beacon entry may commit to: each reveal costs up to this many hashes. */
    public static final long MAX_LENGTH = 1_000_000;

    /** Whether every reveal of the chain was used, so a new beacon is due. */
    public boolean spent() {
        return used >= length;
    }

    /** The chain after one more reveal. */
    Beacon revealed(String reveal) {
        return new Beacon(anchor, length, used + 1, reveal);
    }

    /** {@code SHA-256^n(secret)}, hex: the anchor a beacon entry commits to. */
    public static String anchor(byte[] secret, long n) {
        return HexFormat.of().formatHex(iterate(secret, n));
    }

    /** The i-th reveal of the chain of {@code secret} and length {@code n}: {@code SHA-256^(n-i)(secret)}, hex. */
    public static String reveal(byte[] secret, long n, long i) {
        if (i < 1 || i > n) {
            throw new IllegalArgumentException("reveal " + i + " of a chain of " + n);
        }
        return HexFormat.of().formatHex(iterate(secret, n - i));
    }

    /** Whether {@code reveal} is the preimage of {@code previous}: SHA-256(reveal) == previous. */
    public static boolean follows(String reveal, String previous) {
        return HexFormat.of().formatHex(sha256(hex32("reveal", reveal))).equals(previous);
    }

    /** The seed of a panel: SHA-256(reveal || head), both 32 bytes given as hex. */
    public static String seed(String reveal, String head) {
        return HexFormat.of().formatHex(sha256(hex32("reveal", reveal), hex32("head", head)));
    }

    /** 32 bytes written as 64 lower-case hex digits, or INVALID_ARGUMENT naming {@code field}. */
    static byte[] hex32(String field, String hex) {
        if (hex == null || !hex.matches("[0-9a-f]{64}")) {
            throw CoopException.invalid(field, "must be 64 lower-case hex digits (32 bytes)");
        }
        return HexFormat.of().parseHex(hex);
    }

    private static byte[] iterate(byte[] secret, long n) {
        byte[] x = secret.clone();
        for (long i = 0; i < n; i++) {
            x = sha256(x);
        }
        return x;
    }

    private static byte[] sha256(byte[]... parts) {
        try {
            MessageDigest d = MessageDigest.getInstance("SHA-256");
            for (byte[] p : parts) {
                d.update(p);
            }
            return d.digest();
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every Java platform must provide SHA-256", e);
        }
    }
}
