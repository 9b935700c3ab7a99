package coop.scheduler.domain;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * The rules about the rules, changed only by an {@code amend} proposal at the constitutional
 * threshold: how much support each kind of proposal needs, the quorum, each account's floor
 * share, and whether every member must hold a vote.
 *
 * <p>The ledger's genesis entry names the version of these rules it was founded under
 * ({@code rules}; absent means 1), and every later vote is decided by that version, so a
 * ledger written under the first rules still verifies as it was decided. Version 2 adds what a
 * quick majority must not be able to capture:
 * <ul>
 *   <li>a notice period per kind ({@code min_notice}): no vote closes sooner;</li>
 *   <li>support for {@code amend} and {@code remove} measured against every member eligible at
 *       opening, not only those who voted, and a quorum never below {@link #QUORUM_FLOOR};</li>
 *   <li>kinds that cannot be decided by delegated votes ({@code non_delegable}), and a cap on
 *       the weight any one delegate carries ({@code max_delegated_weight} of the eligible);</li>
 *   <li>entrenched rules (every member has a vote, the non-delegable kinds, the notice periods,
 *       the account floors) that change only by {@link #ENTRENCHED} of the eligible in two votes
 *       closing at least {@link #ENTRENCHED_GAP} apart.</li>
 * </ul>
 *
 * @param rules              the version of the rules (1 or 2)
 * @param ordinary           support a shares or account proposal must exceed
 * @param special            support a param, admit or remove proposal must reach
 * @param constitutional     support an amend proposal must reach
 * @param quorum             participation (yes, no and abstain over the members eligible at opening) needed
 * @param floors             per account, the least share any shares decision may give it (basis points)
 * @param everyMemberVotes   whether every admitted member must hold the member role (a vote)
 * @param minNotice          per proposal kind (its label), the shortest voting period in seconds (rules 2)
 * @param nonDelegable       kinds (labels) on which only a member's own ballot counts (rules 2)
 * @param maxDelegatedWeight most weight one delegate may carry for others, as a fraction of the
 *                           eligible, rounded up (rules 2; null: no cap)
 */
public record Constitution(int rules, Fraction ordinary, Fraction special, Fraction constitutional, Fraction quorum,
                           SortedMap<String, Integer> floors, boolean everyMemberVotes,
                           SortedMap<String, Long> minNotice, List<String> nonDelegable,
                           Fraction maxDelegatedWeight) {

    /** Support of the eligible an entrenched amendment needs, in each of its two votes. */
    public static final Fraction ENTRENCHED = new Fraction(9, 10);
    /** Least time between the closes of an entrenched amendment's two votes. */
    public static final Duration ENTRENCHED_GAP = Duration.ofDays(14);
    /** The least quorum rules 2 accept: no amendment can let a third of the members decide for the rest. */
    public static final Fraction QUORUM_FLOOR = new Fraction(1, 3);
    /** Longest notice period a kind may require. */
    public static final Duration LONGEST_NOTICE = Duration.ofDays(60);
    /** Rules that only an entrenched amendment changes. */
    public static final List<String> ENTRENCHED_RULES = List.of("every_member_votes", "floors", "min_notice",
            "non_delegable");

    /** The first rules: what ledgers founded before rules 2 were decided by. */
    public static final Constitution DEFAULTS = new Constitution(1, new Fraction(1, 2), new Fraction(2, 3),
            new Fraction(3, 4), new Fraction(1, 2), new TreeMap<>(), true, new TreeMap<>(), List.of(), null);

    /** The founding constitution of a new cooperative: rules 2 with their founding defaults. */
    public static final Constitution FOUNDING = new Constitution(2, new Fraction(1, 2), new Fraction(2, 3),
            new Fraction(3, 4), new Fraction(1, 2), new TreeMap<>(), true, foundingNotice(), List.of("amend", "remove"),
            new Fraction(1, 10));

    public Constitution {
        floors = Collections.unmodifiableSortedMap(new TreeMap<>(floors));
        minNotice = Collections.unmodifiableSortedMap(new TreeMap<>(minNotice));
        nonDelegable = List.copyOf(new TreeSet<>(nonDelegable));
    }

    private static SortedMap<String, Long> foundingNotice() {
        Map<ProposalKind, Duration> d = new EnumMap<>(ProposalKind.class);
        d.put(ProposalKind.SHARES, Duration.ofHours(48));
        d.put(ProposalKind.SHARE_BUDGET, Duration.ofHours(48));
        d.put(ProposalKind.ACCOUNT, Duration.ofHours(48));
        d.put(ProposalKind.PARAM, Duration.ofHours(72));
        d.put(ProposalKind.ADMIT, Duration.ofDays(7));
        d.put(ProposalKind.REMOVE, Duration.ofDays(7));
        d.put(ProposalKind.AMEND, Duration.ofDays(14));
        SortedMap<String, Long> out = new TreeMap<>();
        d.forEach((k, v) -> out.put(k.label(), v.toSeconds()));
        return out;
    }

    /** Whether the second rules (notice, turnout, delegation limits, entrenchment) apply. */
    public boolean protective() {
        return rules >= 2;
    }

    public int floor(String account) {
        return floors.getOrDefault(account, 0);
    }

    /** The shortest voting period of a kind, in seconds (0 under the first rules). */
    public long minNotice(ProposalKind kind) {
        return minNotice.getOrDefault(kind.label(), 0L);
    }

    /** Whether delegated weight counts on a kind. */
    public boolean delegable(ProposalKind kind) {
        return !nonDelegable.contains(kind.label());
    }

    /** Most weight one delegate may carry for others on a vote with {@code eligible} members. */
    public int delegateCap(int eligible) {
        if (maxDelegatedWeight == null) {
            return Integer.MAX_VALUE;
        }
        return (int) ((eligible * maxDelegatedWeight.num() + maxDelegatedWeight.den() - 1) / maxDelegatedWeight.den());
    }

    /** Whether support on a kind is measured against every member eligible, not only those who voted. */
    public boolean againstEligible(ProposalKind kind) {
        return protective() && (kind == ProposalKind.AMEND || kind == ProposalKind.REMOVE);
    }

    /** The entrenched rules an amendment touches (none under the first rules). */
    public List<String> entrenchedIn(Map<String, Object> change) {
        if (!protective()) {
            return List.of();
        }
        return ENTRENCHED_RULES.stream().filter(change::containsKey).toList();
    }

    public Map<String, Object> toMap() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("ordinary", ordinary.toString());
        m.put("special", special.toString());
        m.put("constitutional", constitutional.toString());
        m.put("quorum", quorum.toString());
        m.put("floors", new TreeMap<>(floors));
        m.put("every_member_votes", everyMemberVotes);
        // The first rules' map stays as their ledgers recorded it.
        if (protective()) {
            m.put("rules", (long) rules);
            m.put("min_notice", new TreeMap<>(minNotice));
            m.put("non_delegable", nonDelegable);
            m.put("max_delegated_weight", maxDelegatedWeight == null ? "" : maxDelegatedWeight.toString());
        }
        return m;
    }

    /** Reads a whole constitution (the founding policy): rules 1 unless it says {@code rules: 2}. */
    public static Constitution fromMap(Map<String, Object> m) {
        if (m == null || m.isEmpty()) {
            return DEFAULTS;
        }
        Object rules = m.get("rules");
        if (rules == null) {
            return DEFAULTS.with(m, null);
        }
        if (!(rules instanceof Number n) || n.longValue() != 2) {
            throw CoopException.invalid("constitution.rules", "must be 1 (absent) or 2, got " + rules);
        }
        Map<String, Object> rest = new TreeMap<>(m);
        rest.remove("rules");
        return rest.isEmpty() ? FOUNDING : FOUNDING.with(rest, null);
    }

    /**
     * This constitution amended by {@code changes}; floors name open accounts (when
     * {@code accounts} is given) and sum to at most 100 %. Under the first rules an amendment
     * {@code rules: 2} moves the cooperative to the second, with their founding defaults for
     * the rules it did not have.
     *
     * @throws CoopException naming the field that is unknown or out of range
     */
    public Constitution with(Map<String, Object> changes, Set<String> accounts) {
        if (changes == null || changes.isEmpty()) {
            throw CoopException.invalid("amend", "change at least one of " + String.join(", ", ruleNames()));
        }
        int r = rules;
        Fraction o = ordinary;
        Fraction s = special;
        Fraction c = constitutional;
        Fraction q = quorum;
        SortedMap<String, Integer> f = new TreeMap<>(floors);
        boolean every = everyMemberVotes;
        SortedMap<String, Long> notice = new TreeMap<>(minNotice);
        List<String> nd = nonDelegable;
        Fraction cap = maxDelegatedWeight;
        if (changes.containsKey("rules")) {
            Object v = changes.get("rules");
            if (!(v instanceof Number n) || n.longValue() != 2 || protective()) {
                throw CoopException.invalid("amend.rules", protective() ? "the cooperative already has rules 2"
                        : "the only other rules are 2, got " + v);
            }
            r = 2;
            notice = new TreeMap<>(FOUNDING.minNotice);
            nd = FOUNDING.nonDelegable;
            cap = FOUNDING.maxDelegatedWeight;
        }
        boolean v2 = r >= 2;
        for (Map.Entry<String, Object> e : new TreeMap<>(changes).entrySet()) {
            String field = "amend." + e.getKey();
            Object v = e.getValue();
            switch (e.getKey()) {
                case "rules" -> {
                    // read above
                }
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
                case "floors" -> floors(field, v, accounts, f);
                case "min_notice" -> {
                    requireV2(v2, field);
                    notice(field, v, notice);
                }
                case "non_delegable" -> {
                    requireV2(v2, field);
                    nd = kinds(field, v);
                }
                case "max_delegated_weight" -> {
                    requireV2(v2, field);
                    cap = fraction(field, v);
                }
                default -> throw CoopException.invalid(field, "unknown rule (rules: " + String.join(", ",
                        ruleNames()) + ")");
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
        if (v2 && !q.atLeast(QUORUM_FLOOR)) {
            throw CoopException.invalid("amend.quorum", "must be at least the constitutional minimum "
                    + QUORUM_FLOOR + ", got " + q);
        }
        return new Constitution(r, o, s, c, q, f, every, notice, nd, cap);
    }

    private List<String> ruleNames() {
        List<String> out = new ArrayList<>(List.of("ordinary", "special", "constitutional", "quorum", "floors",
                "every_member_votes"));
        out.addAll(protective() ? List.of("min_notice", "non_delegable", "max_delegated_weight") : List.of("rules"));
        return out;
    }

    private static void requireV2(boolean v2, String field) {
        if (!v2) {
            throw CoopException.invalid(field, "is a rule of rules 2; amend rules to 2 first");
        }
    }

    private static void floors(String field, Object v, Set<String> accounts, SortedMap<String, Integer> f) {
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

    private static void notice(String field, Object v, SortedMap<String, Long> notice) {
        if (!(v instanceof Map<?, ?> m) || m.isEmpty()) {
            throw CoopException.invalid(field, "must map proposal kinds to seconds");
        }
        for (Map.Entry<?, ?> ne : m.entrySet()) {
            String kind = ProposalKind.parse(field, String.valueOf(ne.getKey())).label();
            if (!(ne.getValue() instanceof Number n) || n.longValue() < 0
                    || n.longValue() > LONGEST_NOTICE.toSeconds()) {
                throw CoopException.invalid(field + "." + kind, "must be a whole number of seconds between 0 and "
                        + LONGEST_NOTICE.toSeconds() + ", got " + ne.getValue());
            }
            notice.put(kind, n.longValue());
        }
    }

    private static List<String> kinds(String field, Object v) {
        if (!(v instanceof List<?> l)) {
            throw CoopException.invalid(field, "must be a list of proposal kinds");
        }
        List<String> out = new ArrayList<>();
        for (Object k : l) {
            out.add(ProposalKind.parse(field, String.valueOf(k)).label());
        }
        return out;
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
        return new Constitution(rules, ordinary, special, constitutional, quorum, f, everyMemberVotes, minNotice,
                nonDelegable, maxDelegatedWeight);
    }
}
