package coop.cli;

import coop.scheduler.audit.LedgerVerifier;
import coop.scheduler.ledger.Ledger;
import coop.scheduler.store.Store;
import coop.v1.LedgerEntriesRequest;
import coop.v1.LedgerEntry;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/** {@code coop ledger verify|export}: the hash-chained ledger any member can check. */
@Command(name = "ledger", mixinStandardHelpOptions = true,
        description = "Verify or export the cooperative's hash-chained ledger of votes, policies and GPU-hours.",
        subcommands = {LedgerCommand.Verify.class, LedgerCommand.Export.class})
final class LedgerCommand implements Runnable {

    @Spec
    CommandSpec spec;

    @Override
    public void run() {
        throw new ParameterException(spec.commandLine(), "Missing a subcommand: verify or export");
    }

    /** Where to read a ledger from: a running scheduler (default), a data directory, or an exported file. */
    abstract static class Source extends ClientCommand {
        @Option(names = "--data", paramLabel = "DIR",
                description = "Read the ledger from a data directory (works beside a running scheduler).")
        Path data;

        List<byte[]> entries(Path file) {
            if (file != null) {
                try {
                    List<byte[]> out = new ArrayList<>();
                    for (String line : Files.readAllLines(file, StandardCharsets.UTF_8)) {
                        if (!line.isEmpty()) {
                            out.add(line.getBytes(StandardCharsets.UTF_8));
                        }
                    }
                    return out;
                } catch (NoSuchFileException e) {
                    throw new CliException("--file: " + file + " does not exist");
                } catch (IOException e) {
                    throw new CliException("--file: cannot read " + file + ": " + e.getMessage());
                }
            }
            if (data != null) {
                try (Store store = Store.openReadOnly(data)) {
                    return Ledger.rawEntries(store);
                } catch (IllegalStateException e) {
                    throw new CliException("--data: " + e.getMessage());
                }
            }
            List<byte[]> out = new ArrayList<>();
            try (Client c = client.connectOptionalIdentity()) {
                Iterator<LedgerEntry> it = c.ledger().entries(LedgerEntriesRequest.getDefaultInstance());
                it.forEachRemaining(e -> out.add(e.getCanonical().toByteArray()));
            }
            return out;
        }
    }

    @Command(name = "verify", mixinStandardHelpOptions = true,
            description = {"Re-check the whole ledger from its bytes alone: every hash link, every signature, and "
                    + "every tally, enactment, panel draw and verdict, by running the governance rules again.",
                    "Prints the head it verified; reports the first bad entry and exits 1 if there is one.",
                    "A truncated or consistently re-chained copy verifies too, with another head: compare it",
                    "with a head you hold, or give it with --expect-head."})
    static final class Verify extends Source {
        private static final java.util.regex.Pattern HASH = java.util.regex.Pattern.compile("[0-9a-fA-F]{64}");

        @Option(names = "--file", paramLabel = "FILE", description = "Verify an exported ledger (JSON Lines).")
        Path file;

        @Option(names = "--expect-head", paramLabel = "HASH",
                description = "Fail unless the verified head is HASH (64 hex digits, as verify prints it): the head "
                        + "a member holds, so that a truncated or re-chained copy is caught.")
        String expectHead;

        @Option(names = "--json", description = "Print the report as JSON.")
        boolean json;

        @Override
        int run() {
            if (expectHead != null && !HASH.matcher(expectHead).matches()) {
                throw new ParameterException(spec.commandLine(), "--expect-head: must be a ledger head, 64 hex "
                        + "digits, got '" + expectHead + "'");
            }
            String expected = expectHead == null ? null : expectHead.toLowerCase(Locale.ROOT);
            List<byte[]> entries = entries(file);
            LedgerVerifier.Report r = LedgerVerifier.verify(entries);
            // A chain that verifies but ends elsewhere is another ledger, or this one cut short.
            String mismatch = r.ok() && expected != null && !expected.equals(r.head())
                    ? "the verified head after " + r.entries() + " entries is " + r.head() + ", not the expected "
                            + expected + " (--expect-head)"
                    : null;
            if (json) {
                var o = coop.scheduler.view.WireJson.ledgerReport(r, entries.size());
                if (expected != null) {
                    o.put("expected_head", expected);
                    o.put("head_matches", expected.equals(r.head()));
                }
                if (mismatch != null) {
                    o.put("ok", false);
                    o.put("problem", mismatch);
                }
                JsonOutput.print(out(), o);
                return r.ok() && mismatch == null ? 0 : 1;
            }
            if (!r.ok()) {
                err().println("ledger verification FAILED: " + r.problem());
                return 1;
            }
            if (mismatch != null) {
                err().println("ledger verification FAILED: " + mismatch);
                return 1;
            }
            double hours = r.gpuMillisByAccount().values().stream().mapToLong(Long::longValue).sum() / 3_600_000.0;
            out().println(String.format(Locale.ROOT, "ledger verified: %d entries, head %s%s", r.entries(),
                    r.head(), expected == null ? "" : " (as expected)"));
            out().println(String.format(Locale.ROOT, "  %d proposals re-tallied (%d closed, %d policies enacted), "
                            + "%d ballots and their signatures checked, %d panels redrawn, %d reviews; "
                            + "%d attempts, %.2f GPU-hours", r.proposals(), r.closes(), r.policies(), r.ballots(),
                    r.panels(), r.reviews(), r.attempts(), hours));
            return 0;
        }
    }

    @Command(name = "export", mixinStandardHelpOptions = true,
            description = {"Write the ledger as JSON Lines, one canonical entry per line, for coop ledger verify "
                    + "--file or any other tool."})
    static final class Export extends Source {
        @Option(names = "--out", paramLabel = "FILE", description = "Write to FILE instead of standard output.")
        Path outFile;

        @Option(names = "--json", description = "Accepted for symmetry: the export is always JSON.")
        boolean json;

        @Override
        int run() throws IOException {
            List<byte[]> entries = entries(null);
            if (outFile != null) {
                try (OutputStream o = Files.newOutputStream(outFile)) {
                    for (byte[] e : entries) {
                        o.write(e);
                        o.write('\n');
                    }
                }
                err().println("wrote " + entries.size() + " entries to " + outFile);
                return 0;
            }
            for (byte[] e : entries) {
                out().println(new String(e, StandardCharsets.UTF_8));
            }
            return 0;
        }
    }
}
