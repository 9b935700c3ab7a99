package coop.scheduler.domain;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.SortedMap;
import java.util.TreeMap;

/**
 * The rules about the rules, changed only by an {@code amend} proposal at the constitutional
 * threshold: how much support each kind of proposal needs, the quorum, each account's floor
 * share, and whether every member must hold a vote.
 *
 * @param ordinary         support a shares or account proposal must exceed
 * @param special          support a param, admit or remove proposal must reach
 * @param constitutional   support an amend proposal must reach
 * @param quorum           participation (yes, no and abstain over the members eligible at opening) needed
 * @param floors           per account, the least share any shares decision may give it (basis points)
 * @param everyMemberVotes whether every admitted member must hold the member role (a vote)
 */
public record Constitution(Fraction ordinary, Fraction special, Fraction constitutional, Fraction quorum,
                           SortedMap<String, Integer> floors, boolean everyMemberVotes) {

    public static final Constitution DEFAULTS = new Constitution(new Fraction(1, 2), new Fraction(2, 3),
            new Fraction(3, 4), new Fraction(1, 2), new TreeMap<>(), true);

    public Constitution {
        floors = java.util.Collections.unmodifiableSortedMap(new TreeMap<>(floors));
    }

    public int floor(String account) {
        return floors.getOrDefault(account, 0);
    }

    public Map<String, Object> toMap() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("ordinary", ordinary.toString());
        m.put("special", special.toString());
        m.put("constitutional", constitutional.toString());
        m.put("quorum", quorum.toString());
        m.put("floors", new TreeMap<>(floors));
        m.put("every_member_votes", everyMemberVotes);
        return m;
    }

    /** Reads a whole constitution (the founding policy). */
    public static Constitution fromMap(Map<String, Object> m) {
        return m == null || m.isEmpty() ? DEFAULTS : DEFAULTS.with(m, null);
    }

    /**
     * This constitution amended by {@code changes}; floors name open accounts (when
     * {@code accounts} is given) and sum to at most 100 %.
     *
     * @throws CoopException naming the field that is unknown or out of range
     */
    public Constitution with(Map<String, Object> changes, java.util.Set<String> accounts) {
        if (changes == null || changes.isEmpty()) {
            throw CoopException.invalid("amend", "change at least one of ordinary, special, constitutional, "
                    + "quorum, floors, every_member_votes");
        }
        Fraction o = ordinary;
        Fraction s = special;
        Fraction c = constitutional;
        Fraction q = quorum;
        SortedMap<String, Integer> f = new TreeMap<>(floors);
        boolean every = everyMemberVotes;
        for (Map.Entry<String, Object> e : new TreeMap<>(changes).entrySet()) {
            String field = "amend." + e.getKey();
            Object v = e.getValue();
            switch (e.getKey()) {
                case "ordinary" -> o = fraction(field, v);
                case "special" -> s = fraction(field, v);
                case "constitutional" -> c = fraction(field, v);
                case "quorum" -> q = fraction(field, v);
                case "every_member_votes" -> {
                    if (!(v instanceof Boolean b)) {
                        throw CoopException.invalid(field, "must be true or false");
                    }
                    every = b;
                }
                case "floors" -> {
                    if (!(v instanceof Map<?, ?> m)) {
                        throw CoopException.invalid(field, "must map accounts to basis points");
                    }
                    for (Map.Entry<?, ?> fe : m.entrySet()) {
                        String account = String.valueOf(fe.getKey());
                        if (accounts != null && !accounts.contains(account)) {
                            throw CoopException.invalid(field + "." + account, "no open account of that name");
                        }
                        if (!(fe.getValue() instanceof Number n) || n.longValue() < 0 || n.longValue() > 10_000) {
                            throw CoopException.invalid(field + "." + account, "must be between 0 and 10000 basis "
                                    + "points, got " + fe.getValue());
                        }
                        if (n.longValue() == 0) {
                            f.remove(account);
                        } else {
                            f.put(account, n.intValue());
                        }
                    }
                }
                default -> throw CoopException.invalid(field, "unknown rule (rules: ordinary, special, "
                        + "constitutional, quorum, floors, every_member_votes)");
            }
        }
        long sum = f.values().stream().mapToLong(Integer::longValue).sum();
        if (sum > 10_000) {
            throw CoopException.invalid("amend.floors", "floors must sum to at most 100%, got " + BasisPoints.percent(sum));
        }
        // A majority rule must mean a majority, and the stronger thresholds must be at least as strong.
        if (o.num() * 2 < o.den()) {
            throw CoopException.invalid("amend.ordinary", "must be at least 1/2, got " + o);
        }
        if (!s.atLeast(o)) {
            throw CoopException.invalid("amend.special", "must be at least the ordinary threshold " + o + ", got " + s);
        }
        if (!c.atLeast(s)) {
            throw CoopException.invalid("amend.constitutional", "must be at least the special threshold " + s
                    + ", got " + c);
        }
        if (q.num() == 0) {
            throw CoopException.invalid("amend.quorum", "must be more than 0");
        }
        return new Constitution(o, s, c, q, f, every);
    }

    private static Fraction fraction(String field, Object v) {
        if (!(v instanceof String text)) {
            throw CoopException.invalid(field, "must be written as a fraction such as \"2/3\"");
        }
        return Fraction.parse(field, text);
    }

    public Constitution withoutFloor(String account) {
        SortedMap<String, Integer> f = new TreeMap<>(floors);
        f.remove(account);
        return new Constitution(ordinary, special, constitutional, quorum, f, everyMemberVotes);
    }
}
