package coop.scheduler.domain;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SortedMap;
import java.util.TreeMap;

/**
 * A proposal: its kind and the change it would make (as the proposer signed it), the members
 * eligible when it opened (less any removed since), their ballots, and once closed, the tally,
 * the outcome, for a share-budget the aggregated shares, and the policy version it became; on a
 * removal, the signed answer of the member it names (empty when none).
 */
public record Proposal(long id, ProposalKind kind, String title, String proposer, SortedMap<String, Object> change,
                       long openedAt, long closesAt, List<String> eligible, Map<String, Ballot> ballots,
                       ProposalState state, long closedAt, String outcome, long enactedVersion, Tally tally,
                       SortedMap<String, Integer> result, String response, long respondedAt) {

    public Proposal {
        change = java.util.Collections.unmodifiableSortedMap(new TreeMap<>(change));
        eligible = List.copyOf(eligible);
        ballots = java.util.Collections.unmodifiableMap(new LinkedHashMap<>(ballots));
        result = java.util.Collections.unmodifiableSortedMap(new TreeMap<>(result));
    }

    public Proposal withBallot(Ballot ballot) {
        Map<String, Ballot> next = new LinkedHashMap<>(ballots);
        next.remove(ballot.member());
        next.put(ballot.member(), ballot);
        return new Proposal(id, kind, title, proposer, change, openedAt, closesAt, eligible, next, state, closedAt,
                outcome, enactedVersion, tally, result, response, respondedAt);
    }

    /**
     * The proposal without a member who was removed while it was open: its ballot and its place
     * among the eligible go, so it counts neither in participation nor in the quorum's denominator.
     */
    public Proposal without(String member) {
        List<String> left = eligible.stream().filter(e -> !e.equals(member)).toList();
        Map<String, Ballot> kept = new LinkedHashMap<>(ballots);
        kept.remove(member);
        return new Proposal(id, kind, title, proposer, change, openedAt, closesAt, left, kept, state, closedAt,
                outcome, enactedVersion, tally, result, response, respondedAt);
    }

    public Proposal closed(ProposalState to, long now, String why, long version, Tally counted,
                           SortedMap<String, Integer> aggregate) {
        return new Proposal(id, kind, title, proposer, change, openedAt, closesAt, eligible, ballots, to, now, why,
                version, counted, aggregate, response, respondedAt);
    }

    /** The proposal with the named member's answer, given at {@code at}. */
    public Proposal withResponse(String text, long at) {
        return new Proposal(id, kind, title, proposer, change, openedAt, closesAt, eligible, ballots, state, closedAt,
                outcome, enactedVersion, tally, result, text, at);
    }

    /** The shares a shares proposal would set (empty for other kinds). */
    @SuppressWarnings("unchecked")
    public SortedMap<String, Integer> shares() {
        SortedMap<String, Integer> out = new TreeMap<>();
        if (kind == ProposalKind.SHARES && change.get("shares") instanceof Map<?, ?> m) {
            ((Map<String, Object>) m).forEach((a, bp) -> out.put(a, ((Number) bp).intValue()));
        }
        return out;
    }

    public boolean open() {
        return state == ProposalState.OPEN;
    }
}
