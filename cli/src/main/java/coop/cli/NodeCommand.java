package coop.cli;

import coop.v1.EnrollRequest;
import coop.v1.EnrollResponse;
import java.nio.file.Path;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/** {@code coop node ...}: what an operator does with its nodes. */
@Command(name = "node", mixinStandardHelpOptions = true,
        description = "Enroll nodes: an operator member gives each node an identity its agent proves itself with.",
        subcommands = {NodeCommand.Enroll.class})
final class NodeCommand implements Runnable {
    @Spec
    CommandSpec spec;

    @Override
    public void run() {
        throw new ParameterException(spec.commandLine(), "Missing a subcommand: enroll");
    }

    @Command(name = "enroll", mixinStandardHelpOptions = true,
            description = {"Enroll a node for your account (or renew its token) and write its identity file.",
                    "Copy the file to the node and start the agent with: coop agent --identity FILE --gpus auto",
                    "You need the operator role and membership of the account."})
    static final class Enroll extends ClientCommand {
        @Option(names = "--name", required = true, paramLabel = "NAME", description = "The node's name.")
        String name;

        @Option(names = "--site", required = true, paramLabel = "SITE", description = "Where the node is.")
        String site;

        @Option(names = "--account", required = true, paramLabel = "ACCOUNT",
                description = "Your account, which the node serves.")
        String account;

        @Option(names = "--out", paramLabel = "FILE", description = "Identity file to write (default: NAME.node.json).")
        Path outFile;

        @Override
        int run() throws Exception {
            EnrollResponse r;
            String target;
            try (Client c = client.connect()) {
                r = c.nodes().enroll(EnrollRequest.newBuilder().setName(name).setSite(site).setAccount(account)
                        .build());
                target = c.target();
            }
            Path file = outFile != null ? outFile : Path.of(name + ".node.json");
            new NodeIdentity(r.getName(), r.getSite(), r.getAccount(), r.getToken(), target).write(file);
            out().println("enrolled node " + r.getName() + " at " + r.getSite() + " for " + r.getAccount()
                    + "; identity written to " + file + " (keep it secret)");
            out().println("on the node: coop agent --identity " + file.getFileName() + " --gpus auto");
            return 0;
        }
    }
}
