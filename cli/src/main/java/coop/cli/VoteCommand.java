package coop.cli;

import coop.v1.Choice;
import coop.v1.Proposal;
import coop.v1.VoteRequest;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code coop vote ID yes|no|abstain}: casts, or replaces, the caller's ballot. */
@Command(name = "vote", mixinStandardHelpOptions = true,
        description = {"Vote on an open proposal. Voting again replaces your ballot until the proposal closes.",
                "Abstaining counts toward participation (quorum), not toward support."})
final class VoteCommand extends ClientCommand {

    /** The ballot as typed. */
    enum VoteChoice {
        yes(Choice.YES), no(Choice.NO), abstain(Choice.ABSTAIN);

        final Choice proto;

        VoteChoice(Choice proto) {
            this.proto = proto;
        }
    }

    @Parameters(index = "0", paramLabel = "ID", description = "The proposal.")
    long proposalId;

    @Parameters(index = "1", paramLabel = "yes|no|abstain", description = "Your ballot.")
    VoteChoice choice;

    @Option(names = "--json", description = "Print the proposal as JSON.")
    boolean json;

    @Override
    int run() {
        Proposal proposal;
        try (Client c = client.connect()) {
            proposal = c.governance().vote(
                    VoteRequest.newBuilder().setProposalId(proposalId).setChoice(choice.proto).build());
        }
        if (json) {
            JsonOutput.print(out(), JsonOutput.proposal(proposal));
            return 0;
        }
        out().println("voted " + choice + " on proposal " + proposalId + " ("
                + ProposalText.tally(proposal.getTally()) + "; " + ProposalText.state(proposal.getState()) + ")");
        return 0;
    }
}
