package coop.cli;

import coop.v1.Proposal;
import coop.v1.ProposalState;
import coop.v1.ProposeRequest;
import java.time.Duration;
import picocli.CommandLine.Option;

/**
 * What every {@code coop propose KIND} shares: the voting period, the title, JSON output,
 * and signing and sending the proposal. Each kind fills in its change.
 */
abstract class ProposeKindCommand extends ClientCommand {

    @Option(names = "--closes-in", paramLabel = "DURATION", converter = Durations.Converter.class,
            description = "How long the vote stays open (default: the policy's). "
                    + Durations.FORMS_HELP)
    Duration closesIn;

    @Option(names = "--title", paramLabel = "TITLE", description = "A short description shown with the proposal.")
    String title = "";

    @Option(names = "--json", description = "Print the proposal as JSON.")
    boolean json;

    /** Sets this kind's change on the request. */
    abstract void change(ProposeRequest.Builder request);

    @Override
    final int run() {
        ProposeRequest.Builder request = ProposeRequest.newBuilder()
                .setTitle(title)
                .setClosesInSeconds(closesIn == null ? 0 : closesIn.toSeconds());
        change(request);
        Proposal proposal;
        try (Client c = client.connect()) {
            proposal = c.propose(request);
        }
        if (json) {
            JsonOutput.print(out(), JsonOutput.proposal(proposal));
            return 0;
        }
        String state = proposal.getState() == ProposalState.OPEN
                ? "open until " + Times.brief(proposal.getClosesAtMs(), clock.instant()) + " UTC"
                : ProposalText.state(proposal.getState());
        out().println("proposal " + proposal.getId() + " " + state + ": " + proposal.getTitle());
        out().println("vote with: coop vote " + proposal.getId() + (proposal.getKind().equals("share-budget")
                ? " --split ACCOUNT=PERCENT,..." : " yes|no|abstain") + "   (rule: " + proposal.getRule() + ")");
        return 0;
    }
}
