package coop.scheduler.governance;

import coop.scheduler.domain.CoopException;
import java.math.BigInteger;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * Aggregates the members' share-budget proposals into one split of the cooperative's GPU time,
 * with the independent-markets moving-phantom mechanism of Freeman, Pennock, Peters and Wortman
 * Vaughan ("Truthful Aggregation of Budget Proposals", EC 2019 / JET 2021). An average of the
 * splits would reward exaggeration: a member who wants more for one account gains by putting
 * everything there. Under this mechanism no member can bring the outcome closer (in L1 distance) to
 * the split they really want by reporting another one, so members can simply vote what they mean.
 *
 * <p>With n voters there are n + 1 phantoms f_k(t) = min(t·(n−k), 1), k = 0..n. For a t in [0, 1]
 * each account gets the median of the n + 1 phantoms and the n votes for it; t* is a t at which
 * these medians sum to 1 (the sum is 0 at t = 0, is the sum of the largest votes, at least 1, at
 * t = 1, and is continuous and non-decreasing in between; where it is flat at 1 every median is
 * flat too, so the outcome does not depend on which such t is taken). The computation is exact:
 * every median is piecewise linear in t with at most 2n breakpoints of the form vote/(m·10000),
 * m = 1..n, so a binary search over the sorted breakpoints finds the two that enclose t*, and the linear
 * piece between them is solved in rational arithmetic (O(K·n) breakpoints, O(K·n) work to evaluate
 * one, for K accounts). The exact outcome is then rounded to basis points by largest remainder, so
 * it sums to exactly 100 %. An account never gets more than its largest vote, but it can get less
 * than its smallest: two voters who both give it 90 %, each putting the other 10 % on a different
 * account, leave it 80 % and those two accounts 10 % each. That follows from the definition;
 * clamping it away would make a different mechanism, without the paper's truthfulness theorem.
 */
public final class MovingPhantom {
    private static final String FIELD = "split";

    private MovingPhantom() {
    }

    /**
     * The aggregate of the splits over the given accounts, in basis points, summing to exactly
     * {@link Rules#WHOLE}.
     *
     * @param accounts every account; the result has exactly these keys, sorted by name
     * @param splits one distribution per voter in basis points; an account missing from a split
     *     counts as 0; each split must sum to exactly 10000 with no negative or unknown entries
     * @throws CoopException INVALID_ARGUMENT on field {@code split} when there is no split or one
     *     is not a distribution over the accounts
     */
    public static SortedMap<String, Integer> aggregate(Collection<String> accounts,
                                                       List<? extends Map<String, Integer>> splits) {
        return exact(accounts, splits).rounded();
    }

    /**
     * The exact outcome: account → numerator over one common denominator, in basis points.
     * Package-private so tests can check truthfulness without rounding noise.
     */
    static Exact exact(Collection<String> accounts, List<? extends Map<String, Integer>> splits) {
        List<String> names = new ArrayList<>(new TreeSet<>(accounts));
        int[][] votes = votesByAccount(names, splits);
        int n = splits.size();

        // In units s = t·10000 (basis points per unit of phantom slope), the median for an account
        // whose votes in descending order are v_1 ≥ … ≥ v_n is max over m = 1..n of min(s·m, v_m):
        // the median is at least y exactly when n + 1 of the 2n + 1 values are, i.e. when for some m
        // the m largest votes and the n + 1 − m phantoms f_0..f_{n−m} are; phantom f_{n−m} is
        // min(s·m, 10000), and its cap never binds because votes are at most 10000 (the phantom
        // f_n = 0 only matters when m = 0, giving 0). Each such median changes slope only where s·m
        // meets a vote, at s = v_m/m or s = v_{m+1}/m, so the sum is linear between consecutive
        // points of that set.
        List<Point> points = new ArrayList<>();
        points.add(new Point(0, 1));
        points.add(new Point(Rules.WHOLE, 1));
        for (int[] desc : votes) {
            for (int m = 1; m <= n; m++) {
                points.add(new Point(desc[m - 1], m));
                if (m < n) {
                    points.add(new Point(desc[m], m));
                }
            }
        }
        points.sort(Point.ORDER);

        // The sum is 0 at s = 0 and at least 10000 at s = 10000 (the largest votes of a split that
        // sums to 10000 already do); find the first point where it reaches 10000.
        int lo = 0;
        int hi = points.size() - 1;
        while (hi - lo > 1) {
            int mid = (lo + hi) >>> 1;
            if (reachesWhole(scaledMedians(votes, points.get(mid)), points.get(mid))) {
                hi = mid;
            } else {
                lo = mid;
            }
        }
        Point b = points.get(hi);
        long[] atB = scaledMedians(votes, b);
        long sumB = sum(atB);
        SortedMap<String, BigInteger> numerators = new TreeMap<>();
        if (sumB == (long) Rules.WHOLE * b.q()) {
            for (int j = 0; j < names.size(); j++) {
                numerators.put(names.get(j), BigInteger.valueOf(atB[j]));
            }
            return new Exact(numerators, BigInteger.valueOf(b.q()));
        }
        // Between a and b every median is linear in s, so at the s* where the sum is 10000 each is
        // o_a + λ·(o_b − o_a) with λ = (10000 − F_a) / (F_b − F_a). With o_a = A_j/qa, o_b = B_j/qb,
        // F_a = SA/qa, F_b = SB/qb this is
        // (A_j·D + (10000·qa − SA)·(B_j·qa − A_j·qb)) / (D·qa), D = SB·qa − SA·qb > 0.
        Point a = points.get(lo);
        long[] atA = scaledMedians(votes, a);
        BigInteger qa = BigInteger.valueOf(a.q());
        BigInteger qb = BigInteger.valueOf(b.q());
        BigInteger sa = BigInteger.valueOf(sum(atA));
        BigInteger sb = BigInteger.valueOf(sumB);
        BigInteger d = sb.multiply(qa).subtract(sa.multiply(qb));
        BigInteger gap = BigInteger.valueOf(Rules.WHOLE).multiply(qa).subtract(sa);
        for (int j = 0; j < names.size(); j++) {
            BigInteger oa = BigInteger.valueOf(atA[j]);
            BigInteger ob = BigInteger.valueOf(atB[j]);
            numerators.put(names.get(j), oa.multiply(d).add(gap.multiply(ob.multiply(qa).subtract(oa.multiply(qb)))));
        }
        return new Exact(numerators, d.multiply(qa));
    }

    /**
     * An exact outcome in basis points: numerator per account over one common positive
     * denominator; the numerators sum to {@link Rules#WHOLE} times the denominator.
     */
    record Exact(SortedMap<String, BigInteger> numerators, BigInteger denominator) {
        Exact {
            BigInteger total = numerators.values().stream().reduce(BigInteger.ZERO, BigInteger::add);
            if (!total.equals(denominator.multiply(BigInteger.valueOf(Rules.WHOLE)))) {
                throw new IllegalStateException("moving phantom outcome sums to " + total + "/" + denominator);
            }
        }

        /**
         * Largest remainder: every share rounded down, the basis points left over go one each to the
         * largest remainders, ties to the account first by name, so the result sums to exactly 100 %.
         * Every share moves by less than one basis point.
         */
        SortedMap<String, Integer> rounded() {
            SortedMap<String, Integer> result = new TreeMap<>();
            List<Map.Entry<String, BigInteger>> remainders = new ArrayList<>();
            long given = 0;
            for (var e : numerators.entrySet()) {
                BigInteger[] qr = e.getValue().divideAndRemainder(denominator);
                result.put(e.getKey(), qr[0].intValueExact());
                remainders.add(Map.entry(e.getKey(), qr[1]));
                given += qr[0].longValueExact();
            }
            remainders.sort(Map.Entry.<String, BigInteger>comparingByValue().reversed()
                    .thenComparing(Map.Entry.comparingByKey()));
            for (int i = 0; i < Rules.WHOLE - given; i++) {
                result.merge(remainders.get(i).getKey(), 1, Integer::sum);
            }
            return result;
        }
    }

    /** A breakpoint s = p/q, q a voter count, so everything at it is an integer once scaled by q. */
    private record Point(long p, long q) {
        static final Comparator<Point> ORDER = (x, y) -> Long.compare(x.p * y.q, y.p * x.q);
    }

    /** Every account's median at s = p/q, times q: max over m of min(p·m, v_m·q). */
    private static long[] scaledMedians(int[][] votes, Point s) {
        long[] medians = new long[votes.length];
        for (int j = 0; j < votes.length; j++) {
            long best = 0;
            int[] desc = votes[j];
            for (int m = 1; m <= desc.length; m++) {
                best = Math.max(best, Math.min(s.p() * m, desc[m - 1] * s.q()));
            }
            medians[j] = best;
        }
        return medians;
    }

    private static boolean reachesWhole(long[] scaled, Point s) {
        return sum(scaled) >= (long) Rules.WHOLE * s.q();
    }

    private static long sum(long[] values) {
        long total = 0;
        for (long v : values) {
            total += v;
        }
        return total;
    }

    /** Checks every split and returns, per account in name order, the votes in descending order. */
    private static int[][] votesByAccount(List<String> names, List<? extends Map<String, Integer>> splits) {
        if (splits.isEmpty()) {
            throw CoopException.invalid(FIELD, "at least one split is required");
        }
        Map<String, Integer> index = new TreeMap<>();
        for (int j = 0; j < names.size(); j++) {
            index.put(names.get(j), j);
        }
        int[][] votes = new int[names.size()][splits.size()];
        for (int i = 0; i < splits.size(); i++) {
            long total = 0;
            for (var e : splits.get(i).entrySet()) {
                Integer j = index.get(e.getKey());
                if (j == null) {
                    throw CoopException.invalid(FIELD, "split " + (i + 1) + " names unknown account '" + e.getKey()
                            + "' (accounts: " + String.join(", ", names) + ")");
                }
                Integer v = e.getValue();
                if (v == null) {
                    throw CoopException.invalid(FIELD, "split " + (i + 1) + " gives account '" + e.getKey()
                            + "' no value");
                }
                if (v < 0) {
                    throw CoopException.invalid(FIELD, "split " + (i + 1) + " gives account '" + e.getKey()
                            + "' " + v + " basis points; must not be negative");
                }
                votes[j][i] = v;
                total += v;
            }
            if (total != Rules.WHOLE) {
                throw CoopException.invalid(FIELD, "split " + (i + 1) + " must sum to 10000 basis points (100%), got "
                        + total + " (" + Rules.percent(total) + ")");
            }
        }
        for (int[] column : votes) {
            Arrays.sort(column);
            for (int lo = 0, hi = column.length - 1; lo < hi; lo++, hi--) {
                int swap = column[lo];
                column[lo] = column[hi];
                column[hi] = swap;
            }
        }
        return votes;
    }
}
