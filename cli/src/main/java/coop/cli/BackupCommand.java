package coop.cli;

import com.fasterxml.jackson.databind.node.ObjectNode;
import coop.v1.BackupRequest;
import coop.v1.BackupResponse;
import java.util.Locale;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code coop backup --to NAME}: a consistent copy of a running scheduler's data, written by the scheduler. */
@Command(name = "backup", mixinStandardHelpOptions = true,
        description = {"Back up the running scheduler without stopping it: a RocksDB checkpoint taken between two "
                + "turns of its event loop, so it holds every change acknowledged before the backup began and "
                + "each later one whole or not at all.",
                "The scheduler writes the backup on its own machine, only under the folder it was started with "
                        + "(coop scheduler --backup-root DIR): NAME is a folder there, such as 2025-06-02 or "
                        + "weekly/23 (letters, digits, '.', '_' and '-'), new or empty; it may not lead outside the "
                        + "root by .., an absolute path or a "
                        + "symbolic link. One backup runs at a time. On the filesystem of --data the backup is hard "
                        + "links, made after a flush of recent writes, and quick; on another the scheduler copies "
                        + "every file and pauses meanwhile.",
                "Restore by starting a scheduler on it: coop scheduler --data DIR. Check it offline with "
                        + "coop ledger verify --data DIR. Members' identity files are not in it: the scheduler "
                        + "keeps only digests of their tokens, and members keep their own files.",
                "You need the operator role."})
final class BackupCommand extends ClientCommand {

    @Option(names = "--to", required = true, paramLabel = "NAME",
            description = "Folder under the scheduler's --backup-root to write the backup to (an absolute path must "
                    + "lie inside the root).")
    String to;

    @Option(names = "--json", description = "Print what was backed up as JSON.")
    boolean json;

    @Override
    int run() {
        BackupResponse r;
        try (Client c = client.connect()) {
            // The name goes as typed: it names a place under the scheduler's backup root, so
            // resolving it against this machine's working directory would be wrong.
            r = c.admin().backup(BackupRequest.newBuilder().setTo(to).build());
        }
        if (json) {
            ObjectNode o = JsonOutput.object();
            o.put("path", r.getPath());
            o.put("jobs", r.getJobs());
            o.put("ledger_head_seq", r.getLedgerHeadSeq());
            o.put("ledger_head", r.getLedgerHead());
            o.put("bytes", r.getBytes());
            o.put("elapsed_ms", r.getElapsedMs());
            o.put("paused_ms", r.getPausedMs());
            JsonOutput.print(out(), o);
            return 0;
        }
        out().println(String.format(Locale.ROOT, "backed up to %s on the scheduler's machine: %d jobs, ledger "
                        + "head #%d %s, %s in %d ms (the scheduler paused %d ms)", r.getPath(), r.getJobs(),
                r.getLedgerHeadSeq(), r.getLedgerHead().substring(0, Math.min(16, r.getLedgerHead().length())),
                size(r.getBytes()), r.getElapsedMs(), r.getPausedMs()));
        out().println("restore: coop scheduler --data " + r.getPath());
        return 0;
    }

    static String size(long bytes) {
        if (bytes < 1024) {
            return bytes + " B";
        }
        String[] units = {"KiB", "MiB", "GiB", "TiB"};
        double v = bytes;
        int u = -1;
        while (v >= 1024 && u < units.length - 1) {
            v /= 1024;
            u++;
        }
        return String.format(Locale.ROOT, "%.1f %s", v, units[u]);
    }
}
