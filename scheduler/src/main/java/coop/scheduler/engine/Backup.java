package coop.scheduler.engine;

import coop.scheduler.domain.CoopException;
import coop.scheduler.store.Store;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.concurrent.CompletableFuture;
import java.util.stream.Stream;

/**
 * A backup of the running scheduler: a RocksDB checkpoint of its store, taken on the event loop
 * between two turns, written as a new data directory on the scheduler's machine. Since every
 * reply waits for its turn's commit, the backup holds every change acknowledged before it was
 * asked for, and since no turn runs meanwhile it holds each later turn whole or not at all: it is
 * a prefix of the scheduler's history. Restoring is starting a scheduler on it.
 *
 * <p>The scheduler reads from its data directory at start {@code db/} and the cooperative's CA
 * with its own TLS certificate ({@code tls/}), which are copied too: a backup holds the CA's
 * private key and must be kept as safe as the data directory. Members' identity files
 * ({@code identities/}, written there by {@code coop init}) are the members' own secrets, and the
 * store keeps only digests of their tokens, so they are not copied.
 */
public final class Backup {

    /**
     * What a backup holds: its directory, the ledger's length and head hash, the number of jobs,
     * the size of its files, and how long the event loop was held for it.
     */
    public record Result(Path path, long ledgerEntries, String ledgerHead, int jobs, long bytes, long pausedMs) {
        /** Sequence number of the backup's last ledger entry. */
        public long ledgerHeadSeq() {
            return ledgerEntries - 1;
        }
    }

    private Backup() {
    }

    /**
     * Takes a backup for {@code member} into {@code to}. The future fails with PERMISSION_DENIED
     * for a member without the operator role, and with INVALID_ARGUMENT naming {@code to} for a
     * target that is relative, inside the live data directory, or exists and is not an empty
     * directory; a refused or failed backup leaves nothing behind.
     */
    public static CompletableFuture<Result> take(EventLoop loop, Store store, String member, String to) {
        return loop.betweenTurns(state -> {
            long start = System.nanoTime();
            state.backupOperator(member);
            Path target = target(to, store.dataDir());
            ClusterState.LedgerHead head = state.ledgerHead();
            int jobs = state.jobCount();
            write(store, target);
            return new Result(target, head.size(), head.head(), jobs, 0, (System.nanoTime() - start) / 1_000_000);
        // Async: the completing thread is the event loop's, and sizing the files need not hold it.
        }).thenApplyAsync(r -> new Result(r.path(), r.ledgerEntries(), r.ledgerHead(), r.jobs(), bytes(r.path()),
                r.pausedMs()));
    }

    /** The target as an absolute, normalized path, or INVALID_ARGUMENT naming {@code to}. */
    static Path target(String to, Path dataDir) {
        if (to == null || to.isBlank()) {
            throw CoopException.invalid("to", "required: a directory on the scheduler's machine");
        }
        Path path;
        try {
            path = Path.of(to);
        } catch (InvalidPathException e) {
            throw CoopException.invalid("to", "not a path: " + e.getMessage());
        }
        if (!path.isAbsolute()) {
            throw CoopException.invalid("to", "must be an absolute path on the scheduler's machine, got '" + to + "'");
        }
        path = path.normalize();
        Path live = realPath(dataDir);
        // Through symbolic links too: a checkpoint inside the live directory would be copied into
        // the next backup of it, and a restore would start on a folder inside another scheduler's.
        if (realPath(path).startsWith(live)) {
            throw CoopException.invalid("to", path + " is inside the scheduler's data directory " + live);
        }
        if (Files.exists(path)) {
            if (!Files.isDirectory(path)) {
                throw CoopException.invalid("to", path + " exists and is not a directory");
            }
            try (DirectoryStream<Path> entries = Files.newDirectoryStream(path)) {
                if (entries.iterator().hasNext()) {
                    throw CoopException.invalid("to", path + " exists and is not empty");
                }
            } catch (IOException e) {
                throw CoopException.invalid("to", "cannot read " + path + ": " + e.getMessage());
            }
        }
        return path;
    }

    /** The path with the symbolic links of its existing part resolved, and the rest as given. */
    private static Path realPath(Path path) {
        Path absolute = path.toAbsolutePath().normalize();
        Path existing = absolute;
        while (existing != null && !Files.exists(existing)) {
            existing = existing.getParent();
        }
        if (existing == null) {
            return absolute;
        }
        try {
            return existing.toRealPath().resolve(existing.relativize(absolute));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot resolve " + existing, e);
        }
    }

    /** Creates the target (and missing parents), checkpoints into it, and removes what it made if that fails. */
    private static void write(Store store, Path target) {
        Path firstCreated = target;
        while (firstCreated.getParent() != null && !Files.exists(firstCreated.getParent())) {
            firstCreated = firstCreated.getParent();
        }
        boolean created = !Files.exists(target);
        try {
            Files.createDirectories(target);
        } catch (IOException e) {
            throw CoopException.invalid("to", "cannot create " + target + ": " + e);
        }
        try {
            store.checkpoint(target);
            copyTrust(store.dataDir(), target);
        } catch (RuntimeException e) {
            try {
                if (created) {
                    deleteTree(firstCreated);
                } else {
                    try (Stream<Path> entries = Files.list(target)) {
                        for (Path p : entries.toList()) {
                            deleteTree(p);
                        }
                    }
                }
            } catch (IOException cleanup) {
                e.addSuppressed(cleanup);
            }
            throw e;
        }
    }

    /** Copies the CA and the scheduler's certificate, owner-only files staying owner-only. */
    private static void copyTrust(Path from, Path to) {
        Path tls = from.resolve(coop.scheduler.trust.Authority.FOLDER);
        if (!Files.isDirectory(tls)) {
            return;
        }
        try (Stream<Path> files = Files.list(tls)) {
            Path dir = Files.createDirectories(to.resolve(coop.scheduler.trust.Authority.FOLDER));
            for (Path f : files.filter(Files::isRegularFile).toList()) {
                Files.copy(f, dir.resolve(f.getFileName().toString()), java.nio.file.StandardCopyOption.COPY_ATTRIBUTES);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot copy " + tls + " into the backup", e);
        }
    }

    private static void deleteTree(Path root) throws IOException {
        if (!Files.exists(root)) {
            return;
        }
        try (Stream<Path> walk = Files.walk(root)) {
            for (Path p : walk.sorted(Comparator.reverseOrder()).toList()) {
                Files.delete(p);
            }
        }
    }

    /** Total size of the regular files under {@code dir}. */
    private static long bytes(Path dir) {
        try (Stream<Path> walk = Files.walk(dir)) {
            long total = 0;
            for (Path p : walk.filter(Files::isRegularFile).toList()) {
                total += Files.size(p);
            }
            return total;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot size the backup in " + dir, e);
        }
    }
}
