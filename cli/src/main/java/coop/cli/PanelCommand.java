package coop.cli;

import coop.scheduler.audit.LedgerVerifier;
import coop.scheduler.governance.Lottery;
import coop.scheduler.ledger.Entry;
import coop.scheduler.ledger.EventType;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code coop panel verify JOB}: recomputes a review panel's draw by lot from the ledger. */
@Command(name = "panel", mixinStandardHelpOptions = true,
        description = "Check the review panel of a high-risk job.",
        subcommands = {PanelCommand.Verify.class})
final class PanelCommand implements Runnable {

    @Spec
    CommandSpec spec;

    @Override
    public void run() {
        throw new ParameterException(spec.commandLine(), "Missing a subcommand: verify");
    }

    @Command(name = "verify", mixinStandardHelpOptions = true,
            description = {"Recompute the job's panel and check it is the one drawn.",
                    "Its seed must be the ledger head when the job was submitted, and the lottery over the eligible "
                            + "members with that seed must draw exactly that panel."})
    static final class Verify extends LedgerCommand.Source {
        @Parameters(paramLabel = "JOB", description = "The job.")
        long job;

        @Option(names = "--file", paramLabel = "FILE", description = "Read an exported ledger instead.")
        java.nio.file.Path file;

        @Override
        int run() {
            List<byte[]> raw = entries(file);
            for (byte[] b : raw) {
                Entry e;
                try {
                    e = Entry.read(b);
                } catch (IllegalArgumentException bad) {
                    throw new CliException("the ledger holds an unreadable entry (" + bad.getMessage()
                            + "); run coop ledger verify");
                }
                if (!e.is(EventType.PANEL) || !Long.valueOf(job).equals(e.body().get("job"))) {
                    continue;
                }
                String seed = (String) e.body().get("seed");
                List<String> eligible = strings(e.body().get("eligible"));
                List<String> drawn = strings(e.body().get("drawn"));
                long k = (Long) e.body().get("k");
                List<String> again = Lottery.draw(HexFormat.of().parseHex(seed), eligible, (int) k);
                boolean seedOk = seed.equals(e.prev());
                LedgerVerifier.Report r = LedgerVerifier.verify(raw);
                out().println("job " + job + ": panel " + String.join(", ", drawn) + " drawn from "
                        + String.join(", ", eligible) + " (k=" + k + ") at ledger entry " + e.seq());
                out().println("  seed " + seed.substring(0, 16) + "… is the ledger head at submission: "
                        + (seedOk ? "yes" : "NO"));
                out().println("  recomputed draw: " + String.join(", ", again) + (again.equals(drawn) ? " (matches)"
                        : " (DIFFERS)"));
                out().println("  whole ledger: " + (r.ok() ? "verified" : "FAILED: " + r.problem()));
                return seedOk && again.equals(drawn) && r.ok() ? 0 : 1;
            }
            throw new CliException("job " + job + " has no review panel in the ledger");
        }

        private static List<String> strings(Object o) {
            List<String> out = new ArrayList<>();
            ((List<?>) o).forEach(x -> out.add((String) x));
            return out;
        }
    }
}
