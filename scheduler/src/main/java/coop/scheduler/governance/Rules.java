package coop.scheduler.governance;

import coop.scheduler.domain.BasisPoints;
import coop.scheduler.domain.Constitution;
import coop.scheduler.domain.CoopException;
import coop.scheduler.domain.Fraction;
import coop.scheduler.domain.ProposalKind;
import coop.scheduler.domain.ProposalState;
import coop.scheduler.domain.Tally;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * The pure rules of a vote: what valid shares are, and whether a closed vote passed. A
 * proposal passes when participation (yes + no + abstain, each member counted once, directly
 * or by delegation) reaches the quorum, and yes over yes and no reaches the support its kind
 * needs under the constitution.
 */
public final class Rules {
    /** 100 % in basis points. */
    public static final int WHOLE = BasisPoints.WHOLE;

    private Rules() {
    }

    /** A shares proposal sets every open account, each share ≥ 0, summing to exactly 100 %. */
    public static void validateShares(Map<String, Integer> shares, Set<String> accounts) {
        if (shares.isEmpty()) {
            throw CoopException.invalid("shares", "at least one account share is required");
        }
        for (var e : shares.entrySet()) {
            if (!accounts.contains(e.getKey())) {
                throw CoopException.invalid("shares", "unknown account '" + e.getKey() + "' (accounts: "
                        + String.join(", ", new TreeSet<>(accounts)) + ")");
            }
            if (e.getValue() < 0) {
                throw CoopException.invalid("shares[" + e.getKey() + "]", "must not be negative, got "
                        + percent(e.getValue()));
            }
        }
        Set<String> missing = new TreeSet<>(accounts);
        missing.removeAll(shares.keySet());
        if (!missing.isEmpty()) {
            throw CoopException.invalid("shares", "missing account " + String.join(", ", missing)
                    + " (a shares proposal sets every account)");
        }
        long sum = shares.values().stream().mapToLong(Integer::longValue).sum();
        if (sum != WHOLE) {
            throw CoopException.invalid("shares", "must sum to 100%, got " + percent(sum));
        }
    }

    /** Each account keeps at least its constitutional floor. */
    public static void checkFloors(String field, Map<String, Integer> shares, Constitution constitution) {
        for (var f : constitution.floors().entrySet()) {
            int got = shares.getOrDefault(f.getKey(), 0);
            if (got < f.getValue()) {
                throw CoopException.invalid(field + "[" + f.getKey() + "]", "below the account's constitutional floor of "
                        + percent(f.getValue()) + ", got " + percent(got));
            }
        }
    }

    /** The result of closing a proposal: passed or rejected, with the reason in one line. */
    public record Outcome(ProposalState state, String reason) {
    }

    /**
     * Decides a closed vote from its tally: first the quorum (participation over the members
     * eligible at opening, less any removed since), then the support its kind needs (yes over
     * yes and no; under rules 2, for amend and remove, yes over every eligible member).
     */
    public static Outcome decide(ProposalKind kind, Tally t, Constitution c) {
        return decide(kind, t, c, false);
    }

    /**
     * As {@link #decide(ProposalKind, Tally, Constitution)}; an entrenched amendment needs
     * {@link Constitution#ENTRENCHED} of every eligible member.
     */
    public static Outcome decide(ProposalKind kind, Tally t, Constitution c, boolean entrenched) {
        String counts = kind.threshold() == ProposalKind.Threshold.QUORUM_ONLY
                ? t.yes() + " splits, " + t.abstain() + " abstaining of " + t.eligible() + " eligible"
                        + (t.delegated() > 0 ? " (" + t.delegated() + " by delegation)" : "")
                : t.describe();
        if (!c.quorum().reachedBy(t.participated(), t.eligible())) {
            return new Outcome(ProposalState.REJECTED, "no quorum: " + t.participated() + " of " + t.eligible()
                    + " took part, " + c.quorum() + " needed (" + counts + ")");
        }
        long cast = (long) t.yes() + t.no();
        long whole = c.againstEligible(kind) || entrenched ? t.eligible() : cast;
        String over = c.againstEligible(kind) || entrenched ? " of all eligible members voting yes"
                : " of yes over yes and no";
        Fraction need = switch (kind.threshold()) {
            case ORDINARY -> c.ordinary();
            case SPECIAL -> c.special();
            case CONSTITUTIONAL -> c.constitutional();
            case QUORUM_ONLY -> null;
        };
        if (entrenched) {
            need = Constitution.ENTRENCHED;
        }
        boolean passed = need == null
                || whole > 0 && (kind.threshold() == ProposalKind.Threshold.ORDINARY && !entrenched
                        ? need.exceededBy(t.yes(), whole) : need.reachedBy(t.yes(), whole));
        if (!passed) {
            String what = entrenched ? "an entrenched amendment" : "a " + kind.label() + " proposal";
            String more = kind.threshold() == ProposalKind.Threshold.ORDINARY && !entrenched ? "more than " : "at least ";
            return new Outcome(ProposalState.REJECTED, "not enough support: " + what + " needs " + more + need
                    + over + " (" + counts + ")");
        }
        return new Outcome(ProposalState.PASSED, "passed (" + counts + ")");
    }

    /** A period of whole seconds in words: "14d", "48h", "90m", "30s", or a mix such as "1d 2h". */
    public static String seconds(long s) {
        if (s == 0) {
            return "0s";
        }
        StringBuilder out = new StringBuilder();
        long[] units = {86_400, 3_600, 60, 1};
        String[] names = {"d", "h", "m", "s"};
        long left = s;
        for (int i = 0; i < units.length; i++) {
            if (left >= units[i]) {
                out.append(out.length() > 0 ? " " : "").append(left / units[i]).append(names[i]);
                left %= units[i];
            }
        }
        return out.toString();
    }

    public static String percent(long basisPoints) {
        return BasisPoints.percent(basisPoints);
    }
}
