package coop.scheduler.governance;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.offset;

import coop.scheduler.domain.CoopException;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.Deque;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.TreeSet;
import java.util.stream.IntStream;
import java.util.stream.LongStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The panel lottery must be recomputable by anyone from (seed, eligible names, k) and fair. The
 * known-answer vector pins the algorithm; a second, deliberately plain implementation of the
 * class comment's rules (BigInteger arithmetic, no shared code) checks that the pin and the
 * specification agree, on the vector and on many random cases.
 */
class LotteryTest {
    private static final List<String> EIGHT =
            List.of("alice", "bob", "carol", "dave", "erin", "frank", "grace", "hank");

    static LongStream seeds() {
        return LongStream.range(0, 200);
    }

    static IntStream seedBits() {
        return IntStream.range(0, 256);
    }

    // --- known answer ------------------------------------------------------------------------

    @Test
    void knownAnswerVectorIsPinned() {
        byte[] seed = sha256("coop".getBytes(StandardCharsets.UTF_8));

        List<String> panel = Lottery.draw(seed, EIGHT, 3);

        assertThat(panel).containsExactly(PINNED);
    }

    @Test
    void knownAnswerVectorMatchesTheSpecificationRecomputedIndependently() {
        byte[] seed = sha256("coop".getBytes(StandardCharsets.UTF_8));

        assertThat(reference(seed, EIGHT, 3)).containsExactly(PINNED);
    }

    /** Computed once by {@link Lottery#draw}; confirmed by {@link #reference}. */
    private static final String[] PINNED = {"dave", "carol", "grace"};

    @ParameterizedTest
    @MethodSource("seeds")
    void drawFollowsTheSpecificationOnRandomCases(long caseSeed) {
        SplittableRandom r = new SplittableRandom(caseSeed);
        byte[] seed = new byte[32];
        r.nextBytes(seed);
        List<String> names = new ArrayList<>();
        int n = r.nextInt(40);
        for (int i = 0; i < n; i++) {
            names.add("m" + r.nextInt(60));
        }
        int k = r.nextInt(n + 5);

        assertThat(Lottery.draw(seed, names, k)).isEqualTo(reference(seed, names, k));
    }

    // --- determinism -------------------------------------------------------------------------

    @Test
    void sameInputsGiveTheSamePanel() {
        byte[] seed = sha256("job 42".getBytes(StandardCharsets.UTF_8));

        assertThat(Lottery.draw(seed, EIGHT, 4)).isEqualTo(Lottery.draw(seed.clone(), List.copyOf(EIGHT), 4));
    }

    @ParameterizedTest
    @MethodSource("seeds")
    void orderAndDuplicatesOfEligibleDoNotMatter(long caseSeed) {
        SplittableRandom r = new SplittableRandom(caseSeed);
        byte[] seed = new byte[32];
        r.nextBytes(seed);
        List<String> names = pool(5 + r.nextInt(30));
        List<String> shuffled = new ArrayList<>(names);
        shuffled.addAll(names.subList(0, r.nextInt(names.size())));
        Collections.shuffle(shuffled, new Random(caseSeed));
        int k = 1 + r.nextInt(names.size());

        List<String> panel = Lottery.draw(seed, names, k);

        assertThat(Lottery.draw(seed, shuffled, k)).isEqualTo(panel);
        assertThat(Lottery.draw(seed, new LinkedHashSet<>(shuffled), k)).isEqualTo(panel);
        assertThat(Lottery.draw(seed, new TreeSet<>(shuffled).descendingSet(), k)).isEqualTo(panel);
    }

    @Test
    void flippingOneSeedBitChangesTheFixedPanel() {
        byte[] seed = sha256("coop".getBytes(StandardCharsets.UTF_8));
        byte[] flipped = seed.clone();
        flipped[0] ^= 1;

        assertThat(Lottery.draw(flipped, pool(100), 5)).isNotEqualTo(Lottery.draw(seed, pool(100), 5));
    }

    /** Every one of the 256 seed bits matters: with 100 members, k = 5, a collision is ~1e-10 per bit. */
    @ParameterizedTest
    @MethodSource("seedBits")
    void flippingAnySeedBitChangesTheDraw(int bit) {
        byte[] seed = sha256("coop".getBytes(StandardCharsets.UTF_8));
        byte[] flipped = seed.clone();
        flipped[bit / 8] ^= (byte) (1 << (bit % 8));

        assertThat(Lottery.draw(flipped, pool(100), 5)).isNotEqualTo(Lottery.draw(seed, pool(100), 5));
    }

    // --- shape of the result -----------------------------------------------------------------

    @ParameterizedTest
    @MethodSource("seeds")
    void panelIsDistinctMembersOfEligibleOfSizeMinKN(long caseSeed) {
        SplittableRandom r = new SplittableRandom(caseSeed);
        byte[] seed = new byte[32];
        r.nextBytes(seed);
        List<String> names = pool(r.nextInt(25));
        int k = r.nextInt(30);

        List<String> panel = Lottery.draw(seed, names, k);

        assertThat(panel).hasSize(Math.min(k, names.size()));
        assertThat(panel).doesNotHaveDuplicates();
        assertThat(names).containsAll(panel);
    }

    @Test
    void emptyPanelForKZeroOrNoEligibleMembers() {
        byte[] seed = sha256("coop".getBytes(StandardCharsets.UTF_8));

        assertThat(Lottery.draw(seed, EIGHT, 0)).isEmpty();
        assertThat(Lottery.draw(seed, List.of(), 3)).isEmpty();
    }

    @Test
    void kAboveThePoolDrawsEveryoneOnce() {
        byte[] seed = sha256("coop".getBytes(StandardCharsets.UTF_8));

        assertThat(Lottery.draw(seed, EIGHT, 50)).containsExactlyInAnyOrderElementsOf(EIGHT);
    }

    // --- fairness ----------------------------------------------------------------------------

    /**
     * 20,000 draws of 3 from 7, seeds SHA-256 of the counter as 8 bytes big-endian. Each member's
     * frequency has standard deviation ≈ 0.0035 around 3/7, so ±2.5 % absolute is ~7 sigma. The 35
     * unordered panels are tested by chi-squared (34 dof: 80 is p ≈ 1e-5), and the 210 ordered panels
     * too (209 dof: 300 is p ≈ 3e-5), since the first drawn may be asked to chair.
     */
    @Test
    void membersAndPanelsAreEquallyLikely() {
        int draws = 20_000;
        List<String> seven = EIGHT.subList(0, 7);
        Map<String, Integer> byMember = new HashMap<>();
        Map<Set<String>, Integer> byPanel = new HashMap<>();
        Map<List<String>, Integer> byOrderedPanel = new HashMap<>();
        for (long i = 0; i < draws; i++) {
            List<String> panel = Lottery.draw(sha256(bigEndian(i)), seven, 3);
            panel.forEach(m -> byMember.merge(m, 1, Integer::sum));
            byPanel.merge(Set.copyOf(panel), 1, Integer::sum);
            byOrderedPanel.merge(panel, 1, Integer::sum);
        }

        for (String m : seven) {
            assertThat((double) byMember.getOrDefault(m, 0) / draws).as("frequency of %s", m)
                    .isCloseTo(3.0 / 7, offset(0.025));
        }
        assertThat(byPanel).hasSize(35);
        assertThat(chiSquared(byPanel.values(), draws / 35.0)).isLessThan(80);
        assertThat(byOrderedPanel).hasSize(210);
        assertThat(chiSquared(byOrderedPanel.values(), draws / 210.0)).isLessThan(300);
    }

    // --- bad input ---------------------------------------------------------------------------

    @Test
    void negativeKIsRefusedNamingK() {
        byte[] seed = sha256("coop".getBytes(StandardCharsets.UTF_8));

        assertThatThrownBy(() -> Lottery.draw(seed, EIGHT, -1))
                .isInstanceOfSatisfying(CoopException.class,
                        e -> assertThat(e.kind()).isEqualTo(CoopException.Kind.INVALID_ARGUMENT))
                .hasMessageStartingWith("k: ");
    }

    @Test
    void seedOtherThan32BytesIsRefusedNamingSeed() {
        for (byte[] seed : new byte[][] {null, new byte[0], new byte[31], new byte[33]}) {
            assertThatThrownBy(() -> Lottery.draw(seed, EIGHT, 3))
                    .isInstanceOfSatisfying(CoopException.class,
                            e -> assertThat(e.kind()).isEqualTo(CoopException.Kind.INVALID_ARGUMENT))
                    .hasMessageStartingWith("seed: ");
        }
    }

    @Test
    void nullNameIsRefusedNamingEligible() {
        byte[] seed = sha256("coop".getBytes(StandardCharsets.UTF_8));

        assertThatThrownBy(() -> Lottery.draw(seed, Arrays.asList("alice", null), 1))
                .isInstanceOf(CoopException.class)
                .hasMessageStartingWith("eligible: ");
    }

    // --- the specification, re-implemented plainly -------------------------------------------

    /** The class comment's four steps, with BigInteger words so nothing leans on unsigned long tricks. */
    private static List<String> reference(byte[] seed, List<String> eligible, int k) {
        List<String> a = new ArrayList<>(new TreeSet<>(eligible));
        BigInteger twoTo64 = BigInteger.ONE.shiftLeft(64);
        Deque<BigInteger> words = new ArrayDeque<>();
        long block = 0;
        int c = Math.min(k, a.size());
        for (int i = 0; i < c; i++) {
            BigInteger m = BigInteger.valueOf(a.size() - i);
            BigInteger accept = twoTo64.subtract(twoTo64.mod(m));
            BigInteger w;
            do {
                if (words.isEmpty()) {
                    byte[] h = sha256(concat(seed, "coop-panel".getBytes(StandardCharsets.US_ASCII),
                            bigEndian(block++)));
                    for (int q = 0; q < 4; q++) {
                        words.add(new BigInteger(1, Arrays.copyOfRange(h, 8 * q, 8 * q + 8)));
                    }
                }
                w = words.removeFirst();
            } while (w.compareTo(accept) >= 0);
            Collections.swap(a, i, i + w.mod(m).intValueExact());
        }
        return a.subList(0, c);
    }

    private static double chiSquared(Iterable<Integer> observed, double expected) {
        double x2 = 0;
        for (int o : observed) {
            x2 += (o - expected) * (o - expected) / expected;
        }
        return x2;
    }

    private static List<String> pool(int n) {
        List<String> names = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            names.add(String.format("m%03d", i));
        }
        return names;
    }

    private static byte[] bigEndian(long v) {
        byte[] b = new byte[8];
        for (int i = 0; i < 8; i++) {
            b[i] = (byte) (v >>> (56 - 8 * i));
        }
        return b;
    }

    private static byte[] concat(byte[]... parts) {
        int length = 0;
        for (byte[] p : parts) {
            length += p.length;
        }
        byte[] out = new byte[length];
        int at = 0;
        for (byte[] p : parts) {
            System.arraycopy(p, 0, out, at, p.length);
            at += p.length;
        }
        return out;
    }

    private static byte[] sha256(byte[] input) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(input);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
