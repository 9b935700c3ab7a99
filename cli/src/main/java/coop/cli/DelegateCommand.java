package coop.cli;

import coop.v1.DelegateRequest;
import coop.v1.DelegateResponse;
import coop.v1.Delegation;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code coop delegate TOPIC MEMBER} or {@code coop delegate TOPIC --revoke}: liquid delegation per topic. */
@Command(name = "delegate", mixinStandardHelpOptions = true,
        description = {"Let another member's ballot count for you on a topic (shares, params or membership) "
                + "whenever you do not vote yourself.",
                "Your own ballot always overrides it; revoke at any time.",
                "Delegation is transitive; a delegation that would make a cycle is refused.",
                "What each topic covers:",
                "  shares       shares, share-budget and account proposals",
                "  params       param proposals (and amend, where the constitution lets amend be delegated)",
                "  membership   admit proposals (and remove, where the constitution lets remove be delegated)",
                "At founding, amend and remove are non-delegable: only a member's own ballot counts on them. "
                        + "A delegate carries at most the constitution's max_delegated_weight (10 %% of the eligible "
                        + "members at founding, rounded up) for others; the tally shows what the cap left out.",
                "Example: coop delegate shares bob"})
final class DelegateCommand extends ClientCommand {

    @Parameters(index = "0", paramLabel = "TOPIC", description = "shares, params or membership.")
    String topic;

    @Parameters(index = "1", arity = "0..1", paramLabel = "MEMBER", description = "Whom to delegate to.")
    String to;

    @Option(names = "--revoke", description = "Take the delegation on this topic back.")
    boolean revoke;

    @Option(names = "--json", description = "Print your delegations after the change as a JSON object (topic → member).")
    boolean json;

    @Override
    int run() {
        if (revoke == (to != null)) {
            throw new CliException("name a member to delegate " + topic + " to, or pass --revoke");
        }
        DelegateResponse r;
        try (Client c = client.connect()) {
            r = c.delegate(DelegateRequest.newBuilder().setTopic(topic).setTo(revoke ? "" : to));
        }
        if (json) {
            com.fasterxml.jackson.databind.node.ObjectNode o = JsonOutput.object();
            r.getDelegationsList().forEach(d -> o.put(d.getTopic(), d.getTo()));
            JsonOutput.print(out(), o);
            return 0;
        }
        out().println(revoke ? "revoked your delegation on " + topic : "delegated " + topic + " to " + to);
        for (Delegation d : r.getDelegationsList()) {
            out().println("  " + d.getTopic() + " → " + d.getTo());
        }
        return 0;
    }
}
