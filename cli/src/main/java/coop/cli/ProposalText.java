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
        if (proposal.hasShares()) {
            return "shares " + ShareArgument.describe(proposal.getShares().getSharesList());
        }
        return "(unknown kind)";
    }

    /** {@code yes 3, no 1, abstain 0 of 5 eligible}. */
    static String tally(Tally tally) {
        return "yes " + tally.getYes() + ", no " + tally.getNo() + ", abstain " + tally.getAbstain()
                + " of " + tally.getEligible() + " eligible";
    }
}
