package coop.cli;

import com.fasterxml.jackson.databind.node.ObjectNode;
import coop.scheduler.audit.AllocatorReplay;
import coop.scheduler.store.Store;
import java.nio.file.Path;
import java.util.Locale;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/** {@code coop audit replay}: re-derive the allocator's recorded decisions from their snapshots. */
@Command(name = "audit", mixinStandardHelpOptions = true,
        description = "Check the scheduler's own work against the code and the policy.",
        subcommands = {AuditCommand.Replay.class})
final class AuditCommand implements Runnable {

    @Spec
    CommandSpec spec;

    @Override
    public void run() {
        throw new ParameterException(spec.commandLine(), "Missing a subcommand: replay");
    }

    @Command(name = "replay", mixinStandardHelpOptions = true,
            description = {"Re-run the allocator over the cycles the scheduler recorded in the ledger: for each "
                    + "'cycle' entry, check the stored snapshot and decisions against the hashes the entry holds, "
                    + "run the allocator on the snapshot again and compare its decisions with those recorded.",
                    "Prints each cycle as OK or the first decision that differs (which job, which node); exits 1 "
                            + "when any cycle diverges. Check the chain itself with coop ledger verify."})
    static final class Replay extends ClientCommand {
        @Option(names = "--data", paramLabel = "DIR", required = true,
                description = "The scheduler's data directory, or a backup of it (works beside a running scheduler).")
        Path data;

        @Option(names = "--from", paramLabel = "SEQ", defaultValue = "0",
                description = "Start at ledger entry SEQ (default: ${DEFAULT-VALUE}, the first).")
        long from;

        @Option(names = "--json", description = "Print the report as JSON.")
        boolean json;

        @Override
        int run() {
            if (from < 0) {
                throw new ParameterException(spec.commandLine(), "--from: must be a ledger sequence number, 0 or more, "
                        + "got " + from);
            }
            long started = System.nanoTime();
            AllocatorReplay.Report r;
            try (Store store = Store.openReadOnly(data)) {
                r = AllocatorReplay.replay(store, from);
            } catch (IllegalStateException e) {
                throw new CliException("--data: " + e.getMessage());
            }
            long ms = (System.nanoTime() - started) / 1_000_000;
            if (json) {
                ObjectNode o = JsonOutput.object();
                o.put("ok", r.ok());
                o.put("from", r.from());
                o.put("entries_read", r.entriesRead());
                o.put("cycles", r.cycles().size());
                o.put("diverged", r.cycles().stream().filter(c -> !c.ok()).count());
                o.put("stored_bytes", r.storedBytes());
                o.put("elapsed_ms", ms);
                o.set("checked", JsonOutput.array(r.cycles(), c -> {
                    ObjectNode x = JsonOutput.object();
                    x.put("seq", c.seq());
                    x.put("at_ms", c.at());
                    x.put("policy_version", c.policyVersion());
                    x.put("nodes", c.nodes());
                    x.put("pending", c.pending());
                    x.put("running", c.running());
                    x.put("decisions", c.decisions());
                    x.put("ok", c.ok());
                    if (!c.ok()) {
                        x.put("problem", c.problem());
                    }
                    return x;
                }));
                JsonOutput.print(out(), o);
                return r.ok() ? 0 : 1;
            }
            for (AllocatorReplay.Cycle c : r.cycles()) {
                String what = String.format(Locale.ROOT, "cycle at entry %d (policy v%d, %d nodes, %d pending, "
                        + "%d running, %d decisions)", c.seq(), c.policyVersion(), c.nodes(), c.pending(), c.running(),
                        c.decisions());
                if (c.ok()) {
                    out().println(what + ": OK");
                } else {
                    err().println(what + ": DIVERGES: " + c.problem());
                }
            }
            long diverged = r.cycles().stream().filter(c -> !c.ok()).count();
            String summary = String.format(Locale.ROOT, "%d of %d recorded cycles from entry %d re-derived "
                    + "(%d ledger entries read, %d bytes of snapshots, %d ms)", r.cycles().size() - diverged,
                    r.cycles().size(), r.from(), r.entriesRead(), r.storedBytes(), ms);
            if (diverged > 0) {
                err().println("audit replay FAILED: " + diverged + " diverged; " + summary);
                return 1;
            }
            out().println(r.cycles().isEmpty() ? "no cycle recorded from entry " + r.from() + " on ("
                    + r.entriesRead() + " ledger entries read)" : "no divergence: " + summary);
            return 0;
        }
    }
}
