package coop.scheduler.sim;

import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * Voted shares in basis points (10000 = 100 %), summing to 100 %. Accounts with no share get
 * nothing guaranteed: {@link #of} is 0 for them.
 */
public record Shares(Map<String, Integer> basisPoints) {
    public static final int WHOLE = 10_000;

    public Shares {
        basisPoints = Map.copyOf(basisPoints);
        int sum = 0;
        for (var e : basisPoints.entrySet()) {
            if (e.getValue() < 0) {
                throw new IllegalArgumentException("share of " + e.getKey() + " is negative");
            }
            sum += e.getValue();
        }
        if (sum != WHOLE) {
            throw new IllegalArgumentException("shares sum to " + sum / 100.0 + " %, not 100 %");
        }
    }

    /** Equal shares; the basis points left by the division go one each to the first accounts by name. */
    public static Shares equal(Collection<String> accounts) {
        List<String> names = new ArrayList<>(new TreeSet<>(accounts));
        if (names.isEmpty()) {
            throw new IllegalArgumentException("no accounts to share between");
        }
        Map<String, Integer> bp = new TreeMap<>();
        int base = WHOLE / names.size();
        int left = WHOLE % names.size();
        for (int i = 0; i < names.size(); i++) {
            bp.put(names.get(i), base + (i < left ? 1 : 0));
        }
        return new Shares(bp);
    }

    public int of(String account) {
        return basisPoints.getOrDefault(account, 0);
    }

    public double percent(String account) {
        return of(account) / 100.0;
    }

    /** Accounts by share, largest first, then by name. */
    public List<String> accounts() {
        List<String> names = new ArrayList<>(basisPoints.keySet());
        names.sort(Comparator.comparingInt((String a) -> -basisPoints.get(a)).thenComparing(a -> a));
        return names;
    }
}
