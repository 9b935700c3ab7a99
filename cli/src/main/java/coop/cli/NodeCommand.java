package coop.cli;

import coop.v1.EnrollRequest;
import coop.v1.DrainRequest;
import coop.v1.EnrollResponse;
import coop.v1.ListNodesRequest;
import coop.v1.NodeInfo;
import java.nio.file.Path;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code coop node ...}: what an operator does with its nodes. */
@Command(name = "node", mixinStandardHelpOptions = true,
        description = {"What an operator does with its nodes: enroll one (an identity its agent proves itself with),",
                "drain it (no new work; what runs finishes) and undrain it, and see its status."},
        subcommands = {NodeCommand.Enroll.class, NodeCommand.Drain.class, NodeCommand.Undrain.class,
                NodeCommand.Status.class})
final class NodeCommand implements Runnable {
    @Spec
    CommandSpec spec;

    @Override
    public void run() {
        throw new ParameterException(spec.commandLine(), "Missing a subcommand: enroll, drain, undrain or status");
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

    /** Drain and undrain share everything but the direction. */
    abstract static class DrainCommand extends ClientCommand {
        @Parameters(paramLabel = "NODE", description = "The node.")
        String name;

        @Option(names = "--json", description = "Print the node as JSON.")
        boolean json;

        abstract boolean drain();

        String reason() {
            return "";
        }

        @Override
        int run() {
            NodeInfo n;
            try (Client c = client.connect()) {
                n = c.nodes().drain(DrainRequest.newBuilder().setName(name).setDrain(drain()).setReason(reason())
                        .build());
            }
            if (json) {
                JsonOutput.print(out(), JsonOutput.node(n));
                return 0;
            }
            out().println("node " + n.getName() + (n.getDraining() ? " is draining: no new work is placed there; "
                    + n.getRunningJobIdsCount() + " job(s) running there finish as usual"
                    : " takes work again"));
            return 0;
        }
    }

    @Command(name = "drain", mixinStandardHelpOptions = true,
            description = "Stop placing new work on a node; what runs there finishes. Undo with coop node undrain.")
    static final class Drain extends DrainCommand {
        @Option(names = "--reason", paramLabel = "TEXT", description = "Why, shown with the node.")
        String reason = "";

        @Override
        boolean drain() {
            return true;
        }

        @Override
        String reason() {
            return reason;
        }
    }

    @Command(name = "undrain", mixinStandardHelpOptions = true, description = "Let a drained node take work again.")
    static final class Undrain extends DrainCommand {
        @Override
        boolean drain() {
            return false;
        }
    }

    @Command(name = "status", mixinStandardHelpOptions = true,
            description = "One node in full: account, state, draining, GPUs busy, jobs running there.")
    static final class Status extends ClientCommand {
        @Parameters(paramLabel = "NODE", description = "The node.")
        String name;

        @Option(names = "--json", description = "Print the node as JSON.")
        boolean json;

        @Override
        int run() {
            NodeInfo n;
            try (Client c = client.connectOptionalIdentity()) {
                n = c.nodes().listNodes(ListNodesRequest.getDefaultInstance()).getNodesList().stream()
                        .filter(x -> x.getName().equals(name)).findFirst()
                        .orElseThrow(() -> new CliException("no node named " + name + " (see coop nodes)"));
            }
            if (json) {
                JsonOutput.print(out(), JsonOutput.node(n));
                return 0;
            }
            var out = out();
            out.println("node " + n.getName() + " at " + n.getSite() + (n.getAccount().isEmpty() ? ""
                    : ", enrolled for " + n.getAccount()));
            out.println("  state:    " + n.getState() + (n.getDraining() ? ", draining"
                    + (n.getDrainReason().isEmpty() ? "" : " (" + n.getDrainReason() + ")") : ""));
            out.println("  gpus:     " + n.getGpusCount() + ", busy " + n.getBusyGpuIndicesCount()
                    + (n.getGpusCount() == 0 ? "" : " (" + n.getGpus(0).getModel() + ")"));
            out.println("  jobs:     " + (n.getRunningJobIdsCount() == 0 ? "none" : n.getRunningJobIdsList().toString()));
            NodesCommand.usageLines(n).forEach(line -> out.println("  " + line));
            if (n.getLastHeartbeatMs() > 0) {
                out.println("  last heartbeat: " + Times.iso(n.getLastHeartbeatMs())
                        + (n.getState().equals("online") ? " (lag " + n.getHeartbeatLagMs() + " ms)" : ""));
            }
            return 0;
        }
    }
}
