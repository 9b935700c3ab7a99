package coop.cli;

import coop.v1.Choice;
import coop.v1.Proposal;
import coop.v1.VoteRequest;
import java.util.List;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code coop vote ID yes|no|abstain} or {@code coop vote ID --split a=40,b=60}: casts, or replaces, a signed ballot. */
@Command(name = "vote", mixinStandardHelpOptions = true,
        description = {"Vote on an open proposal. Voting again replaces your ballot until the proposal closes.",
                "Abstaining counts toward participation (quorum), not toward support.",
                "On a share-budget proposal, vote with --split: your whole distribution over the accounts.",
                "Your ballot is signed with the key in your identity file."})
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

    @Parameters(index = "1", arity = "0..1", paramLabel = "yes|no|abstain", description = "Your ballot.")
    VoteChoice choice;

    @Option(names = "--split", paramLabel = "ACCOUNT=PERCENT", split = ",", converter = ShareArgument.Converter.class,
            description = "On a share-budget: your distribution, summing to 100 (lab-a=40,lab-b=40,uni-c=20).")
    List<ShareArgument> split;

    @Option(names = "--json", description = "Print the proposal as JSON.")
    boolean json;

    @Override
    int run() {
        boolean splitting = split != null && !split.isEmpty();
        if (splitting == (choice != null)) {
            throw new CliException("give a ballot: yes, no or abstain, or --split ACCOUNT=PERCENT,... on a share budget");
        }
        VoteRequest.Builder request = VoteRequest.newBuilder().setProposalId(proposalId);
        if (splitting) {
            split.forEach(s -> request.addSplit(s.toProto()));
        } else {
            request.setChoice(choice.proto);
        }
        Proposal proposal;
        try (Client c = client.connect()) {
            proposal = c.vote(request);
        }
        if (json) {
            JsonOutput.print(out(), JsonOutput.proposal(proposal));
            return 0;
        }
        String what = splitting ? "split " + ShareArgument.describe(request.getSplitList()) : choice.toString();
        out().println("voted " + what + " on proposal " + proposalId + " ("
                + ProposalText.tally(proposal.getTally()) + "; " + ProposalText.state(proposal.getState()) + ")");
        return 0;
    }
}
