package coop.cli;

import coop.v1.Ballot;
import coop.v1.GetProposalRequest;
import coop.v1.Proposal;
import coop.v1.ProposalState;
import coop.v1.Tally;
import java.io.PrintWriter;
import java.time.Duration;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code coop proposal ID}: one proposal in full: what it changes, the tally, quorum, time left, your ballot. */
@Command(name = "proposal", mixinStandardHelpOptions = true,
        description = "Show one proposal: what it would change, the rule it needs, the tally and quorum so far, "
                + "time left, every ballot, and yours.")
final class ProposalCommand extends ClientCommand {

    @Parameters(paramLabel = "ID", description = "The proposal.")
    long id;

    @Option(names = "--json", description = "Print the proposal as JSON.")
    boolean json;

    @Override
    int run() {
        Proposal p;
        String me;
        try (Client c = client.connectOptionalIdentity()) {
            p = c.governance().getProposal(GetProposalRequest.newBuilder().setProposalId(id).build());
            me = client.identity().map(Identity::member).orElse(null);
        }
        if (json) {
            JsonOutput.print(out(), JsonOutput.proposal(p));
            return 0;
        }
        PrintWriter out = out();
        out.println("proposal " + p.getId() + " (" + p.getKind() + ") by " + p.getProposer() + ": " + p.getTitle());
        out.println("  change:   " + ProposalText.summary(p));
        out.println("  rule:     " + p.getRule());
        out.println("  opened:   " + Times.iso(p.getOpenedAtMs()) + (p.getState() == ProposalState.OPEN
                ? ", may close " + Times.iso(p.getClosesAtMs()) : ""));
        Tally t = p.getTally();
        int took = t.getYes() + t.getNo() + t.getAbstain();
        out.println("  tally:    " + ProposalText.tally(t) + "; " + took + " of " + t.getEligible() + " took part");
        if (p.getState() == ProposalState.OPEN) {
            long left = Math.max(0, p.getClosesAtMs() - clock.millis());
            out.println("  state:    open, closes in " + Durations.format(Duration.ofMillis(left)) + " ("
                    + Times.iso(p.getClosesAtMs()) + ")");
        } else {
            out.println("  state:    " + ProposalText.state(p.getState()) + " at " + Times.iso(p.getClosedAtMs()) + ": "
                    + p.getOutcome());
            if (p.getEnactedPolicyVersion() != 0) {
                out.println("  enacted:  policy v" + p.getEnactedPolicyVersion());
            }
        }
        if (!p.getResponse().isEmpty()) {
            out.println("  response: from the member it names, signed, " + Times.iso(p.getRespondedAtMs()) + ":");
            p.getResponse().lines().forEach(l -> out.println("    | " + l));
        }
        String mine = "none";
        for (Ballot b : p.getBallotsList()) {
            String what = b.getSplitCount() > 0 ? "split " + ShareArgument.describe(b.getSplitList())
                    : b.getChoice().name().toLowerCase();
            out.println("  ballot:   " + b.getMember() + " " + what + " (" + Times.iso(b.getCastAtMs()) + ")");
            if (b.getMember().equals(me)) {
                mine = what;
            }
        }
        if (me != null) {
            out.println("  yours:    " + mine + (p.getEligibleList().contains(me) ? "" : " (not eligible: joined later)"));
        }
        return 0;
    }
}
