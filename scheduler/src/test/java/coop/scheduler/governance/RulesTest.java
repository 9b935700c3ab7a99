package coop.scheduler.governance;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import coop.scheduler.domain.Constitution;
import coop.scheduler.domain.CoopException;
import coop.scheduler.domain.Fraction;
import coop.scheduler.domain.ProposalKind;
import coop.scheduler.domain.ProposalState;
import coop.scheduler.domain.Tally;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;

class RulesTest {
    private static final Set<String> ACCOUNTS = Set.of("lab-a", "lab-b", "uni-c");
    private static final Constitution C = Constitution.DEFAULTS;

    private static ProposalState decide(ProposalKind kind, int yes, int no, int abstain, int eligible) {
        return Rules.decide(kind, new Tally(yes, no, abstain, eligible, yes + no + abstain, 0), C).state();
    }

    @Test
    void acceptsSharesOverEveryAccountSummingToOneHundred() {
        Rules.validateShares(Map.of("lab-a", 5000, "lab-b", 3000, "uni-c", 2000), ACCOUNTS);
    }

    @Test
    void refusesSharesThatDoNotSumToOneHundred() {
        assertThatThrownBy(() -> Rules.validateShares(Map.of("lab-a", 5000, "lab-b", 3000, "uni-c", 1000), ACCOUNTS))
                .isInstanceOfSatisfying(CoopException.class,
                        e -> assertThat(e.kind()).isEqualTo(CoopException.Kind.INVALID_ARGUMENT))
                .hasMessage("shares: must sum to 100%, got 90%");
    }

    @Test
    void refusesUnknownMissingAndNegativeAccounts() {
        assertThatThrownBy(() -> Rules.validateShares(Map.of("lab-a", 5000, "lab-x", 3000, "uni-c", 2000), ACCOUNTS))
                .hasMessageContaining("unknown account 'lab-x'");
        assertThatThrownBy(() -> Rules.validateShares(Map.of("lab-a", 12000, "lab-b", -2000, "uni-c", 0), ACCOUNTS))
                .hasMessageContaining("shares[lab-b]: must not be negative");
        assertThatThrownBy(() -> Rules.validateShares(Map.of("lab-a", 5000, "lab-b", 5000), ACCOUNTS))
                .hasMessageContaining("missing account uni-c");
    }

    @Test
    void aShareBelowItsFloorIsRefusedNamingTheAccount() {
        Constitution floors = C.with(Map.of("floors", Map.of("uni-c", 1500L)), ACCOUNTS);
        assertThatThrownBy(() -> Rules.checkFloors("shares", new TreeMap<>(Map.of("lab-a", 5000, "lab-b", 4000,
                "uni-c", 1000)), floors))
                .hasMessage("shares[uni-c]: below the account's constitutional floor of 15%, got 10%");
        Rules.checkFloors("shares", Map.of("lab-a", 5000, "lab-b", 3500, "uni-c", 1500), floors);
    }

    @Test
    void anOrdinaryProposalNeedsMoreThanHalfOfYesAndNo() {
        assertThat(decide(ProposalKind.SHARES, 2, 1, 0, 5)).isEqualTo(ProposalState.PASSED);
        assertThat(decide(ProposalKind.SHARES, 2, 2, 0, 5)).isEqualTo(ProposalState.REJECTED);
        assertThat(decide(ProposalKind.SHARES, 0, 0, 3, 5)).isEqualTo(ProposalState.REJECTED);
    }

    @Test
    void aSpecialProposalNeedsTwoThirdsExactly() {
        assertThat(decide(ProposalKind.ADMIT, 2, 1, 0, 3)).isEqualTo(ProposalState.PASSED);
        assertThat(decide(ProposalKind.PARAM, 3, 2, 0, 5)).isEqualTo(ProposalState.REJECTED);
        assertThat(decide(ProposalKind.REMOVE, 4, 2, 0, 6)).isEqualTo(ProposalState.PASSED);
    }

    @Test
    void anAmendmentNeedsThreeQuarters() {
        assertThat(decide(ProposalKind.AMEND, 3, 1, 0, 4)).isEqualTo(ProposalState.PASSED);
        assertThat(decide(ProposalKind.AMEND, 5, 2, 0, 7)).isEqualTo(ProposalState.REJECTED);
    }

    @Test
    void quorumIsParticipationOverTheEligibleAndAbstentionsCount() {
        var o = Rules.decide(ProposalKind.SHARES, new Tally(2, 0, 0, 5, 2, 0), C);
        assertThat(o.state()).isEqualTo(ProposalState.REJECTED);
        assertThat(o.reason()).startsWith("no quorum: 2 of 5 took part, 1/2 needed");
        assertThat(decide(ProposalKind.SHARES, 1, 0, 2, 5)).isEqualTo(ProposalState.PASSED);
        assertThat(decide(ProposalKind.SHARES, 1, 0, 1, 4)).isEqualTo(ProposalState.PASSED);
        Constitution high = C.with(Map.of("quorum", "3/4"), ACCOUNTS);
        assertThat(Rules.decide(ProposalKind.SHARES, new Tally(1, 0, 1, 4, 2, 0), high).state())
                .isEqualTo(ProposalState.REJECTED);
    }

    @Test
    void aShareBudgetNeedsOnlyTheQuorum() {
        assertThat(decide(ProposalKind.SHARE_BUDGET, 3, 0, 0, 5)).isEqualTo(ProposalState.PASSED);
        assertThat(decide(ProposalKind.SHARE_BUDGET, 2, 0, 0, 5)).isEqualTo(ProposalState.REJECTED);
    }

    @Test
    void fractionsReadPercentagesAndRefuseNonsense() {
        assertThat(Fraction.parse("q", "40%")).isEqualTo(new Fraction(2, 5));
        assertThat(Fraction.parse("q", "2/3")).isEqualTo(new Fraction(2, 3));
        assertThatThrownBy(() -> Fraction.parse("amend.quorum", "3/2")).hasMessageStartingWith("amend.quorum:");
        assertThatThrownBy(() -> Fraction.parse("amend.quorum", "lots")).hasMessageStartingWith("amend.quorum:");
    }
}
