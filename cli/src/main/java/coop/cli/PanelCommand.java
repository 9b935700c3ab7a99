package coop.cli;

import coop.scheduler.audit.LedgerVerifier;
import coop.scheduler.governance.Beacon;
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
                    "Its reveal must hash to the scheduler's previous beacon reveal (or the beacon's anchor), its "
                            + "seed must be SHA-256 of the reveal and the ledger head it follows (before the beacon: "
                            + "that head alone), its pool must leave out the submitter and those it excludes, and the "
                            + "lottery over the pool with that seed must draw exactly that panel; then the whole "
                            + "ledger is verified, which re-derives the pool."})
    static final class Verify extends LedgerCommand.Source {
        @Parameters(paramLabel = "JOB", description = "The job.")
        long job;

        @Option(names = "--file", paramLabel = "FILE", description = "Read an exported ledger instead.")
        java.nio.file.Path file;

        @Override
        int run() {
            List<byte[]> raw = entries(file);
            // The beacon chain as far as read: each reveal must hash to the one before (the anchor first).
            String last = null;
            for (byte[] b : raw) {
                Entry e;
                try {
                    e = Entry.read(b);
                } catch (IllegalArgumentException bad) {
                    throw new CliException("the ledger holds an unreadable entry (" + bad.getMessage()
                            + "); run coop ledger verify");
                }
                if (e.is(EventType.BEACON)) {
                    last = (String) e.body().get("anchor");
                    continue;
                }
                if (!e.is(EventType.PANEL)) {
                    continue;
                }
                String reveal = (String) e.body().get("reveal");
                if (!Long.valueOf(job).equals(e.body().get("job"))) {
                    last = reveal == null ? last : reveal;
                    continue;
                }
                return check(e, reveal, last, raw);
            }
            throw new CliException("job " + job + " has no review panel in the ledger");
        }

        /** Prints and checks one panel entry: its seed, its reveal against the chain, its pool and its draw. */
        private int check(Entry e, String reveal, String previous, List<byte[]> raw) {
            String seed = (String) e.body().get("seed");
            List<String> eligible = strings(e.body().get("eligible"));
            List<String> excluded = e.body().containsKey("excluded") ? strings(e.body().get("excluded")) : List.of();
            List<String> drawn = strings(e.body().get("drawn"));
            String submitter = (String) e.body().get("member");
            long k = (Long) e.body().get("k");
            List<String> again = Lottery.draw(HexFormat.of().parseHex(seed), eligible, (int) k);
            boolean seedOk;
            out().println("job " + job + ": panel " + String.join(", ", drawn) + " drawn from "
                    + String.join(", ", eligible) + " (k=" + k + ") at ledger entry " + e.seq());
            if (reveal == null) {
                seedOk = seed.equals(e.prev());
                out().println("  seed " + abbrev(seed) + " is the ledger head at submission: " + (seedOk ? "yes" : "NO"));
            } else {
                boolean chained = previous != null && Beacon.follows(reveal, previous);
                boolean derived = seed.equals(Beacon.seed(reveal, e.prev()));
                seedOk = chained && derived;
                out().println("  reveal " + e.body().get("reveal_index") + " " + abbrev(reveal) + " hashes to the "
                        + "beacon's previous reveal " + (previous == null ? "(none: no beacon before it)"
                        : abbrev(previous)) + ": " + (chained ? "yes" : "NO"));
                out().println("  seed " + abbrev(seed) + " is SHA-256(reveal || head " + abbrev(e.prev()) + "): "
                        + (derived ? "yes" : "NO"));
            }
            boolean poolOk = !eligible.contains(submitter) && eligible.stream().noneMatch(excluded::contains);
            out().println("  pool leaves out the submitter " + submitter
                    + (excluded.isEmpty() ? "" : " and " + String.join(", ", excluded))
                    + (e.body().containsKey("account") ? " and the members of account " + e.body().get("account") : "")
                    + ": " + (poolOk ? "yes" : "NO"));
            out().println("  recomputed draw: " + String.join(", ", again) + (again.equals(drawn) ? " (matches)"
                    : " (DIFFERS)"));
            LedgerVerifier.Report r = LedgerVerifier.verify(raw);
            out().println("  whole ledger: " + (r.ok() ? "verified" : "FAILED: " + r.problem()));
            return seedOk && poolOk && again.equals(drawn) && r.ok() ? 0 : 1;
        }

        private static String abbrev(String hash) {
            return hash.substring(0, Math.min(16, hash.length())) + "…";
        }

        private static List<String> strings(Object o) {
            List<String> out = new ArrayList<>();
            ((List<?>) o).forEach(x -> out.add((String) x));
            return out;
        }
    }
}
