package coop.cli;

import coop.v1.Proposal;
import coop.v1.ProposalState;
import coop.v1.Tally;

/** How proposals read in human output. */
final class ProposalText {

    private ProposalText() {
    }

    /** {@code open}, {@code passed}, {@code rejected}. */
    static String state(ProposalState state) {
        return state == ProposalState.UNRECOGNIZED ? "unknown" : state.name().toLowerCase();
    }

    /** What is proposed, e.g. {@code shares lab-a=50% lab-b=50%}. */
    static String summary(Proposal proposal) {
        if (proposal.getKind().equals("shares") || proposal.getKind().isEmpty() && proposal.hasShares()) {
            return "shares " + ShareArgument.describe(proposal.getShares().getSharesList());
        }
        if (proposal.getKind().equals("share-budget")) {
            return proposal.getResultCount() > 0 ? "share budget → " + ShareArgument.describe(proposal.getResultList())
                    : "share budget (members vote with splits)";
        }
        String change = proposal.getChangeJson();
        return proposal.getKind() + (change.isEmpty() || change.equals("{}") ? "" : " " + change);
    }

    /** {@code yes 3, no 1, abstain 0 of 5 eligible}. */
    static String tally(Tally tally) {
        return "yes " + tally.getYes() + ", no " + tally.getNo() + ", abstain " + tally.getAbstain()
                + " of " + tally.getEligible() + " eligible"
                + (tally.getDelegated() > 0 ? " (" + tally.getDelegated() + " by delegation)" : "")
                + (tally.getCapped() > 0 ? " (" + tally.getCapped() + " delegated over the cap not counted)" : "");
    }
}
