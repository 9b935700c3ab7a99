package coop.scheduler.governance;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import coop.scheduler.domain.Ballot;
import coop.scheduler.domain.Choice;
import coop.scheduler.domain.CoopException;
import coop.scheduler.domain.Proposal;
import coop.scheduler.domain.ProposalState;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;

class RulesTest {
    private static final Set<String> ACCOUNTS = Set.of("lab-a", "lab-b", "uni-c");
    private static final List<String> FIVE = List.of("alice", "bob", "carol", "dave", "erin");

    private static Proposal open(long closesAt) {
        return new Proposal(1, "t", "alice", new TreeMap<>(Map.of("lab-a", 5000, "lab-b", 3000, "uni-c", 2000)),
                0, closesAt, FIVE, Map.of(), ProposalState.OPEN, 0, "", 0);
    }

    private static Proposal with(Proposal p, Choice... choices) {
        for (int i = 0; i < choices.length; i++) {
            p = p.withBallot(new Ballot(FIVE.get(i), choices[i], 1));
        }
        return p;
    }

    @Test
    void acceptsSharesOverEveryAccountSummingToOneHundred() {
        Rules.validateShares(Map.of("lab-a", 5000, "lab-b", 3000, "uni-c", 2000), ACCOUNTS);
    }

    @Test
    void refusesSharesThatDoNotSumToOneHundred() {
        assertThatThrownBy(() -> Rules.validateShares(Map.of("lab-a", 5000, "lab-b", 3000, "uni-c", 1000), ACCOUNTS))
                .isInstanceOfSatisfying(CoopException.class, e -> {
                    assertThat(e.kind()).isEqualTo(CoopException.Kind.INVALID_ARGUMENT);
                    assertThat(e.getMessage()).isEqualTo("shares: must sum to 100%, got 90%");
                });
    }

    @Test
    void refusesUnknownAccountsNegativeSharesAndMissingAccounts() {
        assertThatThrownBy(() -> Rules.validateShares(Map.of("lab-a", 5000, "lab-x", 3000, "uni-c", 2000), ACCOUNTS))
                .hasMessageContaining("unknown account 'lab-x'");
        assertThatThrownBy(() -> Rules.validateShares(Map.of("lab-a", 12000, "lab-b", -2000, "uni-c", 0), ACCOUNTS))
                .hasMessageStartingWith("shares[lab-b]: must not be negative");
        assertThatThrownBy(() -> Rules.validateShares(Map.of("lab-a", 5000, "lab-b", 5000), ACCOUNTS))
                .hasMessageContaining("missing account uni-c");
    }

    @Test
    void staysOpenBeforeTheDeadlineUntilEveryoneVoted() {
        assertThat(Rules.decideIfDue(with(open(100), Choice.YES, Choice.YES, Choice.YES, Choice.NO), 50)).isEmpty();
        assertThat(Rules.decideIfDue(with(open(100), Choice.YES, Choice.YES, Choice.YES, Choice.NO, Choice.NO), 50))
                .hasValueSatisfying(o -> assertThat(o.state()).isEqualTo(ProposalState.PASSED));
    }

    @Test
    void passesWithQuorumAndMoreYesThanNo() {
        var o = Rules.decide(with(open(0), Choice.YES, Choice.YES, Choice.NO));
        assertThat(o.state()).isEqualTo(ProposalState.PASSED);
        assertThat(o.reason()).contains("yes 2, no 1, abstain 0 of 5 eligible");
    }

    @Test
    void failsWithoutQuorumEvenIfUnanimous() {
        var o = Rules.decide(with(open(0), Choice.YES, Choice.YES));
        assertThat(o.state()).isEqualTo(ProposalState.REJECTED);
        assertThat(o.reason()).startsWith("no quorum: 2 of 5 voted");
    }

    @Test
    void abstentionsCountTowardQuorumButNotSupport() {
        assertThat(Rules.decide(with(open(0), Choice.YES, Choice.ABSTAIN, Choice.ABSTAIN)).state())
                .isEqualTo(ProposalState.PASSED);
        assertThat(Rules.decide(with(open(0), Choice.YES, Choice.NO, Choice.ABSTAIN)).state())
                .isEqualTo(ProposalState.REJECTED);
    }

    @Test
    void aSecondBallotReplacesTheFirst() {
        Proposal p = with(open(0), Choice.NO, Choice.NO, Choice.YES);
        p = p.withBallot(new Ballot("alice", Choice.YES, 2)).withBallot(new Ballot("bob", Choice.YES, 2));
        assertThat(p.count(Choice.YES)).isEqualTo(3);
        assertThat(p.count(Choice.NO)).isZero();
        assertThat(Rules.decide(p).state()).isEqualTo(ProposalState.PASSED);
    }
}
