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

/** {@code coop ledger verify|export|head|witness}: the hash-chained ledger any member can check. */
@Command(name = "ledger", mixinStandardHelpOptions = true,
        description = "Verify or export the cooperative's hash-chained ledger of votes, policies, GPU-hours and "
                + "the scheduler's decisions; show its signed head, or witness it.",
        subcommands = {LedgerCommand.Verify.class, LedgerCommand.Export.class, LedgerCommand.Head.class,
                LedgerCommand.Witness.class})
final class LedgerCommand implements Runnable {

    @Spec
    CommandSpec spec;

    @Override
    public void run() {
        throw new ParameterException(spec.commandLine(), "Missing a subcommand: verify, export, head or witness");
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

        @Option(names = "--receipts", arity = "0..1", paramLabel = "DIR", fallbackValue = "",
                description = "Also check every receipt and witness kept in DIR (default: the folder beside the "
                        + "identity file, NAME.receipts): each must still be in the chain, so a history rewritten "
                        + "since (an entry dropped, the rest re-chained) fails, naming the entry.")
        String receipts;

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
            if (receipts != null && !checkReceipts(this, entries)) {
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

    /** Checks the kept receipts and witnesses against the verified entries; prints each finding. */
    private static boolean checkReceipts(Verify v, List<byte[]> entries) {
        Identity id = v.client.identity().orElse(null);
        Path folder;
        if (!v.receipts.isEmpty()) {
            folder = Path.of(v.receipts);
        } else {
            Path file = v.client.identityFile().orElseThrow(() -> new CliException("--receipts: name the folder, "
                    + "or give the identity whose receipts to check (" + ClientOptions.NO_IDENTITY + ")"));
            folder = ReceiptFiles.folder(file, id.member());
        }
        ReceiptFiles.Kept kept = ReceiptFiles.read(folder, id == null ? null : id.publicKey());
        List<coop.scheduler.audit.ReceiptCheck.Finding> found = coop.scheduler.audit.ReceiptCheck.check(entries,
                kept.receipts(), kept.witnesses());
        for (var f : found) {
            v.err().println("receipt check FAILED: " + folder.resolve(f.source()) + ": " + f.problem());
        }
        if (found.isEmpty()) {
            v.out().println(String.format(Locale.ROOT, "  %d receipts and %d witnesses in %s are in the chain",
                    kept.receipts().size(), kept.witnesses().size(), folder));
        }
        return found.isEmpty();
    }

    /** The scheduler's signed head as {@code coop ledger head} shows it, its signature checked. */
    private static coop.scheduler.ledger.SignedHead signedHead(coop.v1.LedgerHead h) {
        if (h.getSignature().isEmpty()) {
            throw new CliException("this scheduler signs no ledger heads (a version from before it did)");
        }
        var signed = new coop.scheduler.ledger.SignedHead(h.getSignedSeq(), h.getSignedHead(), h.getSignature());
        if (!signed.verifies(h.getSchedulerKey())) {
            throw new CliException("the scheduler's signature of head " + h.getSignedHead() + " does not verify with "
                    + "the key it names: do not rely on this scheduler's receipts");
        }
        return signed;
    }

    @Command(name = "head", mixinStandardHelpOptions = true,
            description = {"Show the scheduler's signed head: the last entry's sequence number and hash, signed with "
                    + "the scheduler's key (announced in the ledger's scheduler-key entries).",
                    "With an identity, the head is kept as a receipt beside it (NAME.receipts/)."})
    static final class Head extends ClientCommand {
        @Option(names = "--json", description = "Print the signed head as JSON.")
        boolean json;

        @Override
        int run() throws IOException {
            coop.v1.LedgerHead h;
            Path folder = null;
            try (Client c = client.connectOptionalIdentity()) {
                h = c.ledger().head(coop.v1.LedgerHeadRequest.getDefaultInstance());
            }
            var signed = signedHead(h);
            if (client.identity().isPresent() && client.identityFile().isPresent()) {
                folder = ReceiptFiles.folder(client.identityFile().get(), client.identity().get().member());
                ReceiptFiles.keep(folder, signed);
            }
            if (json) {
                var o = JsonOutput.object();
                o.put("seq", signed.seq());
                o.put("head", signed.head());
                o.put("signature", signed.signature());
                o.put("scheduler_key", h.getSchedulerKey());
                JsonOutput.print(out(), o);
                return 0;
            }
            out().println("entry " + signed.seq() + ", head " + signed.head());
            out().println("  signed by the scheduler's key " + h.getSchedulerKey() + ": " + signed.signature());
            if (folder != null) {
                out().println("  kept as a receipt in " + folder);
            }
            return 0;
        }
    }

    @Command(name = "witness", mixinStandardHelpOptions = true,
            description = {"Cosign the scheduler's current head with your own key: the signed statement is recorded "
                    + "in the ledger and kept beside your identity file (NAME.receipts/witness-SEQ.json).",
                    "Whoever later rewrites the history before that entry is caught by coop ledger verify "
                            + "--receipts, and by anyone's plain verify while the witness entry stays."})
    static final class Witness extends ClientCommand {
        @Override
        int run() throws IOException {
            Identity id = client.requireIdentity();
            Path folder = ReceiptFiles.folder(client.identityFile().orElseThrow(), id.member());
            try (Client c = client.connect()) {
                var signed = signedHead(c.ledger().head(coop.v1.LedgerHeadRequest.getDefaultInstance()));
                long now = System.currentTimeMillis();
                var statement = new coop.scheduler.ledger.SignedHead.Witness(id.member(), signed.seq(), signed.head(),
                        now).statement();
                String signature = coop.scheduler.ledger.Keys.sign(id.signingKey(),
                        coop.scheduler.ledger.Canonical.encode(statement));
                c.ledger().witness(coop.v1.WitnessRequest.newBuilder().setSeq(signed.seq()).setHead(signed.head())
                        .setSignedAtMs(now).setSignature(signature).build());
                ReceiptFiles.keep(folder, signed);
                Path file = ReceiptFiles.keepWitness(folder, statement, signature);
                out().println("witnessed entry " + signed.seq() + ", head " + signed.head() + "; kept in " + file);
            }
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
