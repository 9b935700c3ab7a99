package coop.scheduler.domain;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SortedMap;
import java.util.TreeMap;

/**
 * A shares proposal: the account shares it would enact (basis points), the members eligible
 * when it opened, their ballots, and once closed, the outcome and the policy it became.
 */
public record Proposal(long id, String title, String proposer, SortedMap<String, Integer> shares,
                       long openedAt, long closesAt, List<String> eligible, Map<String, Ballot> ballots,
                       ProposalState state, long closedAt, String outcome, long enactedVersion) {

    public Proposal {
        shares = java.util.Collections.unmodifiableSortedMap(new TreeMap<>(shares));
        eligible = List.copyOf(eligible);
        ballots = java.util.Collections.unmodifiableMap(new LinkedHashMap<>(ballots));
    }

    public Proposal withBallot(Ballot ballot) {
        Map<String, Ballot> next = new LinkedHashMap<>(ballots);
        next.put(ballot.member(), ballot);
        return new Proposal(id, title, proposer, shares, openedAt, closesAt, eligible, next, state, closedAt,
                outcome, enactedVersion);
    }

    public Proposal closed(ProposalState result, long now, String why, long version) {
        return new Proposal(id, title, proposer, shares, openedAt, closesAt, eligible, ballots, result, now, why,
                version);
    }

    public long count(Choice choice) {
        return ballots.values().stream().filter(b -> b.choice() == choice).count();
    }
}
