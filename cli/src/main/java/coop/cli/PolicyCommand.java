package coop.cli;

import coop.v1.AccountShare;
import coop.v1.GetPolicyRequest;
import coop.v1.ListPoliciesRequest;
import coop.v1.Policy;
import java.io.PrintWriter;
import java.util.List;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code coop policy}: the live allocation policy, a past version, or every version. */
// No mixinStandardHelpOptions here: its --version would clash with this command's --version V.
@Command(name = "policy",
        description = {"Show the live allocation policy: each account's voted share of GPU time, its parameters "
                + "and its constitution.",
                "Every passed proposal that changes them makes a new version."})
final class PolicyCommand extends ClientCommand {

    @Option(names = {"-h", "--help"}, usageHelp = true, description = "Show this help message and exit.")
    boolean help;

    @ArgGroup(exclusive = true)
    Which which;

    static final class Which {
        @Option(names = "--version", paramLabel = "V", description = "Show policy version V instead of the live one.")
        long version;

        @Option(names = "--history", description = "List every version, oldest first.")
        boolean history;
    }

    @Option(names = "--json", description = "Print JSON (an array with --history).")
    boolean json;

    @Override
    int run() {
        boolean history = which != null && which.history;
        long version = which == null ? 0 : which.version;
        try (Client c = client.connectOptionalIdentity()) {
            if (history) {
                List<Policy> policies = c.governance().listPolicies(ListPoliciesRequest.getDefaultInstance())
                        .getPoliciesList();
                printHistory(policies);
            } else {
                Policy policy = c.governance().getPolicy(GetPolicyRequest.newBuilder().setVersion(version).build());
                printOne(policy);
            }
        }
        return 0;
    }

    private void printHistory(List<Policy> policies) {
        if (json) {
            JsonOutput.print(out(), JsonOutput.array(policies, JsonOutput::policy));
            return;
        }
        Table table = new Table("VERSION", "ENACTED", "FROM", "SHARES");
        for (Policy p : policies) {
            table.row("v" + p.getVersion(), Times.iso(p.getEnactedAtMs()), origin(p),
                    ShareArgument.describe(p.getSharesList()));
        }
        table.print(out());
    }

    private void printOne(Policy policy) {
        if (json) {
            JsonOutput.print(out(), JsonOutput.policy(policy));
            return;
        }
        PrintWriter out = out();
        out.println("policy v" + policy.getVersion() + ", enacted " + Times.iso(policy.getEnactedAtMs())
                + ", " + origin(policy));
        Table table = new Table("ACCOUNT", "SHARE");
        for (AccountShare share : policy.getSharesList()) {
            table.row(share.getAccount(), ShareArgument.percent(share.getBasisPoints()) + "%");
        }
        table.print(out);
        if (!policy.getParamsJson().isEmpty()) {
            out.println("parameters:");
            JsonOutput.parsed(policy.getParamsJson()).fields().forEachRemaining(e ->
                    out.println("  " + e.getKey() + " = " + e.getValue()));
        }
        if (!policy.getConstitutionJson().isEmpty()) {
            out.println("constitution:");
            JsonOutput.parsed(policy.getConstitutionJson()).fields().forEachRemaining(e ->
                    out.println("  " + e.getKey() + " = " + e.getValue()));
        }
    }

    private static String origin(Policy policy) {
        return policy.getProposalId() == 0 ? "founding policy" : "from proposal " + policy.getProposalId();
    }
}
