package coop.scheduler.governance;

import coop.scheduler.domain.Choice;
import coop.scheduler.domain.CoopException;
import coop.scheduler.domain.Proposal;
import coop.scheduler.domain.ProposalState;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;

/**
 * Governance rules v0, pure: what a valid shares proposal is, and when a proposal closes and
 * whether it passed. A proposal closes at its deadline or as soon as every eligible member has
 * voted; it passes with participation (yes + no + abstain) over half of the members eligible
 * when it opened and more yes than no.
 */
public final class Rules {
    /** 100 % in basis points. */
    public static final int WHOLE = 10_000;

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

    /** The result of closing a proposal: passed or rejected, with the reason in one line. */
    public record Outcome(ProposalState state, String reason) {
    }

    /**
     * Decides a proposal if it is due: at or after its deadline, or once every eligible member
     * has voted. Empty while it stays open.
     */
    public static Optional<Outcome> decideIfDue(Proposal p, long now) {
        if (p.state() != ProposalState.OPEN) {
            return Optional.empty();
        }
        boolean everyoneVoted = p.ballots().keySet().containsAll(p.eligible());
        if (now < p.closesAt() && !everyoneVoted) {
            return Optional.empty();
        }
        return Optional.of(decide(p));
    }

    public static Outcome decide(Proposal p) {
        long yes = p.count(Choice.YES);
        long no = p.count(Choice.NO);
        long abstain = p.count(Choice.ABSTAIN);
        long participated = yes + no + abstain;
        int eligible = p.eligible().size();
        String counts = "yes " + yes + ", no " + no + ", abstain " + abstain + " of " + eligible + " eligible";
        if (participated * 2 <= eligible) {
            return new Outcome(ProposalState.REJECTED, "no quorum: " + participated + " of " + eligible
                    + " voted, more than half needed (" + counts + ")");
        }
        if (yes <= no) {
            return new Outcome(ProposalState.REJECTED, "not enough support (" + counts + ")");
        }
        return new Outcome(ProposalState.PASSED, "passed (" + counts + ")");
    }

    public static String percent(long basisPoints) {
        return basisPoints % 100 == 0 ? (basisPoints / 100) + "%"
                : String.format(java.util.Locale.ROOT, "%.2f%%", basisPoints / 100.0);
    }
}
