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
        description = {"What an operator does with its nodes.",
                "Enroll one (an identity its agent proves itself with), drain it (no new work; what runs "
                        + "finishes) and undrain it, set its terms (GPUs reserved for your account, when it is "
                        + "offered), and see its status."},
        subcommands = {NodeCommand.Enroll.class, NodeCommand.Drain.class, NodeCommand.Undrain.class,
                NodeCommand.Set.class, NodeCommand.Remove.class, NodeCommand.Status.class})
final class NodeCommand implements Runnable {
    @Spec
    CommandSpec spec;

    @Override
    public void run() {
        throw new ParameterException(spec.commandLine(), "Missing a subcommand: enroll, drain, undrain, set, remove or status");
    }

    @Command(name = "enroll", mixinStandardHelpOptions = true,
            description = {"Enroll a node for your account (or renew its token) and write its identity file.",
                    "The file, NAME.node.json, is a secret: it goes beside your own identity file (not into the "
                            + "folder you run the command in, which may be a checkout), or where --out says.",
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

        @Option(names = "--out", paramLabel = "FILE",
                description = "Identity file to write (default: NAME.node.json beside your identity file).")
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
            Path file = outFile != null ? outFile : besideIdentity(client.identityFile().orElseThrow(), name);
            NodeIdentity.enrolled(r, target).write(file);
            out().println("enrolled node " + r.getName() + " at " + r.getSite() + " for " + r.getAccount()
                    + "; identity written to " + file + " (keep it secret)");
            out().println("on the node: coop agent --identity " + file.getFileName() + " --gpus auto");
            return 0;
        }
    }

    /**
     * Where a node's identity file goes unless {@code --out} says: beside the operator's own
     * identity file, a place already kept private, rather than the current folder, which for
     * someone trying coop out is the checkout, where a secret could be committed.
     */
    static Path besideIdentity(Path operatorIdentity, String node) {
        return operatorIdentity.resolveSibling(node + ".node.json");
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
                    + (n.getHealthDrain().isEmpty() ? "" : " (its health check fails too: " + n.getHealthDrain() + ")")
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

    @Command(name = "remove", mixinStandardHelpOptions = true,
            description = {"Remove a node from the cooperative: its certificate and token are refused at once, its "
                    + "agent is disconnected, and the jobs it ran are requeued elsewhere.",
                    "To bring it back, enroll it again (a new identity file)."})
    static final class Remove extends ClientCommand {
        @Parameters(paramLabel = "NODE", description = "The node.")
        String name;

        @Option(names = "--json", description = "Print the node as it was, as JSON.")
        boolean json;

        @Override
        int run() {
            NodeInfo n;
            try (Client c = client.connect()) {
                n = c.nodes().remove(coop.v1.RemoveNodeRequest.newBuilder().setName(name).build());
            }
            if (json) {
                JsonOutput.print(out(), JsonOutput.node(n));
                return 0;
            }
            out().println("removed node " + n.getName() + ": its identity is refused from now on"
                    + (n.getRunningJobIdsCount() == 0 ? "" : "; job(s) " + n.getRunningJobIdsList()
                    + " requeued"));
            return 0;
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
            String why = NodesCommand.drainText(n);
            out.println("  state:    " + n.getState() + (n.getDraining() ? ", draining"
                    + (why.isEmpty() ? "" : " (" + why + ")") : ""));
            out.println("  gpus:     " + n.getGpusCount() + ", busy " + n.getBusyGpuIndicesCount()
                    + (n.getGpusCount() == 0 ? "" : " (" + n.getGpus(0).getModel() + ")"));
            out.println("  jobs:     " + (n.getRunningJobIdsCount() == 0 ? "none" : n.getRunningJobIdsList().toString()));
            out.println("  reserved: " + n.getReservedGpus() + " GPU(s) for " + n.getAccount());
            out.println("  offered:  " + offering(n));
            if (!n.getIsolation().isEmpty()) {
                out.println("  isolation: " + n.getIsolation());
            }
            NodesCommand.usageLines(n).forEach(line -> out.println("  " + line));
            if (n.getLastHeartbeatMs() > 0) {
                out.println("  last heartbeat: " + Times.iso(n.getLastHeartbeatMs())
                        + (n.getState().equals("online") ? " (lag " + n.getHeartbeatLagMs() + " ms)" : ""));
            }
            return 0;
        }
    }

    /** {@code always}, or the windows and whether the node is inside one now, and until when. */
    static String offering(NodeInfo n) {
        if (n.getWindowsCount() == 0) {
            return "always";
        }
        String when = n.getWindowChangeMs() == 0 ? ""
                : (n.getOffered() ? ", closes " : ", opens ") + Times.iso(n.getWindowChangeMs()) + " ("
                        + Times.local(n.getWindowChangeMs(), n.getTimeZone()) + ")";
        return String.join("; ", n.getWindowsList()) + " (" + n.getTimeZone() + "), now "
                + (n.getOffered() ? "open" : "closed") + when;
    }

    @Command(name = "set", mixinStandardHelpOptions = true,
            description = {"Set your terms for a node: GPUs reserved for your account, when it is offered.",
                "Your account has first claim on the reserved GPUs; the node is offered to the cooperative only "
                        + "inside its weekly windows. Options not given stay as they are. Work already running is "
                        + "left alone; new work goes on the node only if its walltime ends before the window closes.",
                "Example:",
                "  coop node set gpu-07 --reserve 2 --window \"Mon-Fri 20:00-08:00\" --window Sat",
                "  (2 GPUs held for your account; offered weekday nights and Saturdays)",
                "  coop node set gpu-07 --refuse-purpose dual-use",
                "  (jobs declaring that purpose never run there)"})
    static final class Set extends ClientCommand {
        @Parameters(paramLabel = "NODE", description = "The node.")
        String name;

        @Option(names = "--reserve", paramLabel = "GPUS",
                description = "GPUs of the node your account has first claim on (at most the policy's "
                        + "reserve_cap_bp of its GPUs; 0 for none). Others may borrow them while you do not use them.")
        Integer reserve;

        @Option(names = "--window", paramLabel = "WINDOW",
                description = "When the node is offered, weekly: DAYS [HH:MM-HH:MM], DAYS as daily, Mon, Mon-Fri or "
                        + "Sat,Sun; an end not after the start is the next day. Repeat for several windows.")
        java.util.List<String> windows;

        @Option(names = "--always", description = "Offer the node at all times (drop its windows).")
        boolean always;

        @Option(names = "--tz", paramLabel = "ZONE",
                description = "Time zone the windows are read in, such as Europe/Berlin (default with --window: "
                        + "this machine's zone, ${sys:user.timezone}; otherwise the node's current zone).")
        String zone;

        @Option(names = "--refuse-purpose", paramLabel = "PURPOSE",
                description = "A declared purpose (coop submit --purpose) you will not run on this node: the "
                        + "scheduler never places such a job there. Repeat for several; replaces those refused before.")
        java.util.List<String> refused;

        @Option(names = "--refuse-no-purpose", description = "Refuse no purpose any more (drop --refuse-purpose).")
        boolean refuseNone;

        @Option(names = "--json", description = "Print the node as JSON.")
        boolean json;

        @Override
        int run() {
            if (always && windows != null) {
                throw new CliException("--always and --window contradict each other: give one");
            }
            if (refuseNone && refused != null) {
                throw new CliException("--refuse-no-purpose and --refuse-purpose contradict each other: give one");
            }
            if (reserve == null && windows == null && !always && zone == null && refused == null && !refuseNone) {
                throw new CliException("nothing to set: give --reserve, --window, --always, --tz, --refuse-purpose "
                        + "or --refuse-no-purpose");
            }
            coop.v1.SetTermsRequest.Builder req = coop.v1.SetTermsRequest.newBuilder().setName(name);
            if (reserve != null) {
                req.setReservedGpus(reserve);
            }
            if (windows != null || always) {
                req.setSetWindows(true).addAllWindows(always ? java.util.List.of() : windows);
            }
            if (refused != null || refuseNone) {
                req.setSetRefusedPurposes(true).addAllRefusedPurposes(refuseNone ? java.util.List.of() : refused);
            }
            if (zone != null) {
                req.setTimeZone(zone);
            } else if (windows != null) {
                req.setTimeZone(java.time.ZoneId.systemDefault().getId());
            }
            NodeInfo n;
            try (Client c = client.connect()) {
                n = c.nodes().setTerms(req.build());
            }
            if (json) {
                JsonOutput.print(out(), JsonOutput.node(n));
                return 0;
            }
            out().println("node " + n.getName() + ": " + n.getReservedGpus() + " GPU(s) reserved for "
                    + n.getAccount() + "; offered " + offering(n)
                    + (n.getRefusedPurposesCount() == 0 ? "" : "; refuses purposes "
                    + String.join(", ", n.getRefusedPurposesList())));
            return 0;
        }
    }
}
