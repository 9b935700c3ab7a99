package coop.scheduler.governance;

import coop.scheduler.domain.CoopException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.List;
import java.util.Objects;
import java.util.TreeSet;

/**
 * The lottery that draws a review panel for a high-risk job. A panel must be fair (every eligible
 * member equally likely, every panel of the same size equally likely) and checkable: nobody, the
 * scheduler included, can pick the panel, and anyone holding the ledger can recompute it. So the
 * only randomness is a 32-byte seed the ledger records (from the scheduler's {@link Beacon} reveal
 * and the ledger head; in ledgers from before the beacon, the head alone), and the draw is a fixed
 * public function of (seed, the set of eligible names, k), specified here exactly enough to
 * re-implement.
 *
 * <p>The draw, step by step:
 * <ol>
 *   <li><b>Pool.</b> The eligible names are deduplicated and sorted by {@link String#compareTo}
 *       (lexicographic by UTF-16 code unit), giving {@code a[0..n-1]}. The caller's order never
 *       matters; the names themselves are not hashed, only their order is used.</li>
 *   <li><b>Stream.</b> Block {@code j} (for {@code j = 0, 1, 2, …}) is
 *       {@code SHA-256(seed || "coop-panel" || j)}, where {@code seed} is the 32 seed bytes,
 *       {@code "coop-panel"} is its 10 ASCII bytes, and {@code j} is 8 bytes, big-endian. Each
 *       32-byte block is cut into four 8-byte big-endian unsigned integers, used in order; the
 *       stream of 64-bit words is block 0's four words, then block 1's, and so on. Every word is
 *       used at most once.</li>
 *   <li><b>Uniform index below m.</b> Let {@code r = 2^64 mod m}. Take the next word {@code w};
 *       if {@code w >= 2^64 - r}, discard it and take the next one (rejection sampling, so no
 *       modulo bias); otherwise the index is {@code w mod m}. For {@code m = 1}, {@code r = 0},
 *       so one word is consumed and the index is 0.</li>
 *   <li><b>Partial Fisher–Yates.</b> With {@code c = min(k, n)}, for {@code i = 0 .. c-1}: draw
 *       {@code t = i + index below (n - i)}, swap {@code a[i]} and {@code a[t]}. The panel is
 *       {@code a[0..c-1]}, in that (draw) order.</li>
 * </ol>
 */
public final class Lottery {
    /** Domain separation: the same seed may feed other draws, which must not repeat this one. */
    private static final byte[] LABEL = "coop-panel".getBytes(StandardCharsets.US_ASCII);
    private static final int SEED_BYTES = 32;

    private Lottery() {
    }

    /**
     * Draws min(k, eligible.size()) distinct members. Deterministic in (seed, the SET of eligible
     * names, k): eligible names are first sorted (String natural order, duplicates removed), so the
     * caller's order does not matter. Result in draw order; the algorithm is in the class comment.
     *
     * @param seed the panel's seed as its ledger entry records it, exactly 32 bytes
     * @param eligible the members who may sit on the panel; no null names
     * @param k the panel size wanted, at least 0
     */
    public static List<String> draw(byte[] seed, Collection<String> eligible, int k) {
        if (seed == null || seed.length != SEED_BYTES) {
            throw CoopException.invalid("seed", "must be 32 bytes, got "
                    + (seed == null ? "none" : seed.length + " bytes"));
        }
        if (k < 0) {
            throw CoopException.invalid("k", "panel size must not be negative, got " + k);
        }
        // Not eligible.contains(null): List.of, Set.of and TreeSet answer that with an exception.
        if (eligible == null || eligible.stream().anyMatch(Objects::isNull)) {
            throw CoopException.invalid("eligible", "must be a collection of member names without null");
        }
        List<String> pool = new ArrayList<>(new TreeSet<>(eligible));
        int n = pool.size();
        int c = Math.min(k, n);
        Words words = new Words(seed);
        for (int i = 0; i < c; i++) {
            Collections.swap(pool, i, i + words.below(n - i));
        }
        return List.copyOf(pool.subList(0, c));
    }

    /** The stream of 64-bit words from the seed, as the class comment defines it. */
    private static final class Words {
        private final byte[] seed;
        private final MessageDigest sha256;
        private final ByteBuffer block = ByteBuffer.allocate(32);
        private long counter;

        Words(byte[] seed) {
            this.seed = seed.clone();
            try {
                this.sha256 = MessageDigest.getInstance("SHA-256");
            } catch (NoSuchAlgorithmException e) {
                throw new IllegalStateException("every Java platform must provide SHA-256", e);
            }
            block.position(block.limit());
        }

        long next() {
            if (!block.hasRemaining()) {
                sha256.update(seed);
                sha256.update(LABEL);
                sha256.update(ByteBuffer.allocate(Long.BYTES).putLong(counter++).array());
                block.clear();
                block.put(sha256.digest()).flip();
            }
            return block.getLong();
        }

        /** Uniform in [0, m) for m ≥ 1: words w ≥ 2^64 - (2^64 mod m) are rejected, the rest give w mod m. */
        int below(int m) {
            long r = Long.remainderUnsigned(-(long) m, m); // (2^64 - m) mod m == 2^64 mod m
            while (true) {
                long w = next();
                if (r == 0 || Long.compareUnsigned(w, -r) < 0) {
                    return (int) Long.remainderUnsigned(w, m);
                }
            }
        }
    }
}
