package coop.cli;

import coop.v1.Proposal;
import coop.v1.ProposalState;
import coop.v1.ProposeRequest;
import coop.v1.SharesChange;
import java.time.Duration;
import java.util.List;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code coop propose shares lab-a=50 lab-b=30 uni-c=20}: proposes every account's
 * share at once. Percentages travel as basis points; the scheduler checks that they
 * cover every open account and sum to 100.
 */
@Command(name = "shares", mixinStandardHelpOptions = true,
        description = {"Propose every account's share of GPU time at once.",
                "Percentages may have two decimals (33.33) and must sum to 100.",
                "Example: coop propose shares lab-a=50 lab-b=30 uni-c=20 --closes-in 2m"})
final class ProposeSharesCommand extends ClientCommand {

    @Parameters(arity = "1..*", paramLabel = "ACCOUNT=PERCENT", converter = ShareArgument.Converter.class,
            description = "An account and its share in percent.")
    List<ShareArgument> shares;

    @Option(names = "--closes-in", paramLabel = "DURATION", converter = Durations.Converter.class,
            description = "How long the vote stays open: 90s, 2m, 1h, 2d or seconds (default: the policy's).")
    Duration closesIn;

    @Option(names = "--title", paramLabel = "TITLE", description = "A short description shown with the proposal.")
    String title = "";

    @Option(names = "--json", description = "Print the proposal as JSON.")
    boolean json;

    @Override
    int run() {
        SharesChange.Builder change = SharesChange.newBuilder();
        shares.forEach(s -> change.addShares(s.toProto()));
        ProposeRequest request = ProposeRequest.newBuilder()
                .setTitle(title)
                .setClosesInSeconds(closesIn == null ? 0 : closesIn.toSeconds())
                .setShares(change)
                .build();
        Proposal proposal;
        try (Client c = client.connect()) {
            proposal = c.governance().propose(request);
        }
        if (json) {
            JsonOutput.print(out(), JsonOutput.proposal(proposal));
            return 0;
        }
        String state = proposal.getState() == ProposalState.OPEN
                ? "open until " + Times.brief(proposal.getClosesAtMs(), clock.instant()) + " UTC"
                : ProposalText.state(proposal.getState());
        out().println("proposal " + proposal.getId() + " " + state + ": " + ProposalText.summary(proposal));
        return 0;
    }
}
