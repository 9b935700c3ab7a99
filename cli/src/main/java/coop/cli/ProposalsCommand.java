package coop.cli;

import coop.v1.ListProposalsRequest;
import coop.v1.Proposal;
import coop.v1.ProposalState;
import coop.v1.Tally;
import java.time.Instant;
import java.util.List;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code coop proposals}: proposals, newest first, with their tallies and outcomes. */
@Command(name = "proposals", mixinStandardHelpOptions = true,
        description = "List proposals, newest first: what they propose, the tally so far, when they close, how they ended.")
final class ProposalsCommand extends ClientCommand {

    @Option(names = "--open", description = "Only proposals still open for voting.")
    boolean openOnly;

    @Option(names = "--json", description = "Print a JSON array of proposals.")
    boolean json;

    @Override
    int run() {
        List<Proposal> proposals;
        try (Client c = client.connectOptionalIdentity()) {
            proposals = c.governance()
                    .listProposals(ListProposalsRequest.newBuilder().setOpenOnly(openOnly).build())
                    .getProposalsList();
        }
        if (json) {
            JsonOutput.print(out(), JsonOutput.array(proposals, JsonOutput::proposal));
            return 0;
        }
        Instant now = clock.instant();
        Table table = new Table("ID", "STATE", "TITLE/SUMMARY", "TALLY(Y/N/A OF ELIGIBLE)", "CLOSES/CLOSED", "OUTCOME");
        for (Proposal p : proposals) {
            Tally t = p.getTally();
            boolean open = p.getState() == ProposalState.OPEN;
            String outcome = p.getOutcome();
            if (outcome.isEmpty() && p.getEnactedPolicyVersion() != 0) {
                outcome = "enacted as policy v" + p.getEnactedPolicyVersion();
            }
            table.row(p.getId(), ProposalText.state(p.getState()),
                    p.getTitle().isEmpty() ? ProposalText.summary(p) : p.getTitle(),
                    t.getYes() + "/" + t.getNo() + "/" + t.getAbstain() + " of " + t.getEligible(),
                    Times.brief(open || p.getClosedAtMs() == 0 ? p.getClosesAtMs() : p.getClosedAtMs(), now),
                    outcome);
        }
        table.print(out());
        return 0;
    }
}
