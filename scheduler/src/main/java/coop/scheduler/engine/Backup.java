package coop.scheduler.engine;

import coop.scheduler.domain.CoopException;
import coop.scheduler.store.Store;
import coop.scheduler.trust.Authority;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.concurrent.ForkJoinPool;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.Stream;

/**
 * Backups of the running scheduler: each a RocksDB checkpoint of its store, taken on the event
 * loop between two turns, written as a new data directory on the scheduler's machine. Since every
 * reply waits for its turn's commit, a backup holds every change acknowledged before it was asked
 * for, and since no turn runs meanwhile it holds each later turn whole or not at all: it is a
 * prefix of the scheduler's history. Restoring is starting a scheduler on it.
 *
 * <p>The scheduler reads from its data directory at start {@code db/} and the cooperative's CA
 * with its own TLS certificate ({@code tls/}), which are copied too: a backup holds the CA's
 * private key and must be kept as safe as the data directory. Members' identity files
 * ({@code identities/}, written there by {@code coop init}) are the members' own secrets, and the
 * store keeps only digests of their tokens, so they are not copied.
 *
 * <p>Since a backup holds the CA's key and pauses the scheduler, an operator does not choose where
 * on the machine it goes: backups go only under a folder the scheduler's own operator fixed at
 * start ({@code coop scheduler --backup-root}), by a name that stays inside it, symbolic links
 * included; without that folder they are refused. One runs at a time: a request while another is
 * under way is refused rather than queued behind it.
 */
public final class Backup {
    /** The flag that fixes the folder, named in refusals. */
    public static final String ROOT_FLAG = "--backup-root";

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

    /** One folder name of a backup's path under the root. */
    private static final java.util.regex.Pattern PART = java.util.regex.Pattern.compile("[A-Za-z0-9_][A-Za-z0-9._-]{0,99}");

    private final Path root;
    private final Executor sizing;
    /** The backup under way, from when its checkpoint starts until its size is known; null when none is. */
    private final AtomicReference<Path> underWay = new AtomicReference<>();

    private Backup(Path root, Executor sizing) {
        this.root = root;
        this.sizing = sizing;
    }

    /** Backups refused, as a scheduler started without {@code --backup-root} has them. */
    public static Backup refused() {
        return new Backup(null, ForkJoinPool.commonPool());
    }

    /** Backups under {@code root}, sized on the common pool; see {@link #under(Path, Path, Executor)}. */
    public static Backup under(Path root, Path dataDir) {
        return under(root, dataDir, ForkJoinPool.commonPool());
    }

    /**
     * Backups under {@code root}, which is made (owner-only) if missing. Throws
     * IllegalArgumentException naming the flag when it is not a folder or lies inside the data
     * directory, whose next backup would then copy the earlier ones. {@code sizing} runs the count
     * of a finished backup's bytes, off the event loop; the backup is under way until it is done.
     */
    public static Backup under(Path root, Path dataDir, Executor sizing) {
        Path absolute = root.toAbsolutePath().normalize();
        if (realPath(absolute).startsWith(realPath(dataDir))) {
            throw new IllegalArgumentException(ROOT_FLAG + ": " + absolute + " is inside the data directory "
                    + realPath(dataDir));
        }
        try {
            if (!Files.exists(absolute)) {
                Files.createDirectories(absolute);
                try {
                    Files.setPosixFilePermissions(absolute, java.nio.file.attribute.PosixFilePermissions.fromString(
                            "rwx------"));
                } catch (UnsupportedOperationException notPosix) {
                    // Left as the file system makes it.
                }
            }
            if (!Files.isDirectory(absolute)) {
                throw new IllegalArgumentException(ROOT_FLAG + ": " + absolute + " is not a directory");
            }
            return new Backup(absolute.toRealPath(), sizing);
        } catch (IOException e) {
            throw new IllegalArgumentException(ROOT_FLAG + ": cannot use " + absolute + ": " + e.getMessage(), e);
        }
    }

    /** The folder backups go under, symbolic links resolved; null when backups are refused. */
    public Path root() {
        return root;
    }

    /**
     * Takes a backup for {@code member} into {@code to}, a folder under the root. The future fails
     * with PERMISSION_DENIED for a member without the operator role; FAILED_PRECONDITION when the
     * scheduler has no backup root, or while another backup is under way; INVALID_ARGUMENT naming
     * {@code to} for a target outside the root (by {@code ..}, an absolute path or a symbolic
     * link), inside the live data directory, or one that exists and is not an empty directory. A
     * refused or failed backup leaves nothing behind.
     */
    public CompletableFuture<Result> take(EventLoop loop, Store store, String member, String to) {
        return loop.betweenTurns(state -> {
            long start = System.nanoTime();
            // The role first, so that a member who may not back up learns only that, and never
            // holds the one backup slot.
            state.backupOperator(member);
            Path target = target(to, root, store.dataDir());
            if (!underWay.compareAndSet(null, target)) {
                throw CoopException.precondition("a backup to " + underWay.get() + " is under way, and one runs "
                        + "at a time: try again when it has finished");
            }
            try {
                GovernanceDesk.LedgerHead head = state.ledgerHead();
                int jobs = state.jobCount();
                write(store, target);
                return new Result(target, head.size(), head.head(), jobs, 0, (System.nanoTime() - start) / 1_000_000);
            } catch (RuntimeException e) {
                underWay.set(null);
                throw e;
            }
        }).thenCompose(r -> {
            // Async: the completing thread is the event loop's, and sizing the files need not hold it.
            try {
                return CompletableFuture.supplyAsync(() -> new Result(r.path(), r.ledgerEntries(), r.ledgerHead(),
                        r.jobs(), bytes(r.path()), r.pausedMs()), sizing)
                        .whenComplete((sized, e) -> underWay.compareAndSet(r.path(), null));
            } catch (RuntimeException e) {
                underWay.compareAndSet(r.path(), null);
                throw e;
            }
        });
    }

    /**
     * The target as an absolute, normalized path inside {@code root}, or a refusal: INVALID_ARGUMENT
     * naming {@code to}, or FAILED_PRECONDITION naming the flag when {@code root} is null.
     */
    static Path target(String to, Path root, Path dataDir) {
        if (root == null) {
            throw CoopException.precondition("this scheduler takes no backups: start it with " + ROOT_FLAG
                    + " DIR to name the folder they go under");
        }
        if (to == null || to.isBlank()) {
            throw CoopException.invalid("to", "required: a folder name under the backup root " + root);
        }
        Path given;
        try {
            given = Path.of(to);
        } catch (InvalidPathException e) {
            throw CoopException.invalid("to", "not a path: " + e.getMessage());
        }
        for (Path part : given) {
            if (part.toString().equals("..")) {
                throw CoopException.invalid("to", "must not contain '..', got '" + to + "'");
            }
        }
        Path path = root.resolve(given).normalize();
        if (!path.startsWith(root)) {
            throw CoopException.invalid("to", "'" + to + "' is outside the backup root " + root
                    + "; give a folder name under it, such as 2025-06-02");
        }
        if (path.equals(root)) {
            throw CoopException.invalid("to", "names the backup root itself; give a folder name under it");
        }
        // Plain names only: RocksDB makes its files through its own native calls, which may not
        // spell other characters as the JDK does, and nobody types a backup's name in anything else.
        for (Path part : root.relativize(path)) {
            if (!PART.matcher(part.toString()).matches()) {
                throw CoopException.invalid("to", "'" + shown(part.toString()) + "' must be up to 100 letters, "
                        + "digits, '.', '_' or '-', starting with a letter, digit or '_'");
            }
        }
        // Through symbolic links too: a link under the root may point anywhere on the machine.
        Path real;
        try {
            real = realPath(path);
        } catch (UncheckedIOException e) {
            throw CoopException.invalid("to", path + " leads through a symbolic link that points nowhere");
        }
        if (!real.startsWith(root)) {
            throw CoopException.invalid("to", path + " leads outside the backup root " + root
                    + " through a symbolic link");
        }
        Path live = realPath(dataDir);
        // A checkpoint inside the live directory would be copied into the next backup of it, and a
        // restore would start on a folder inside another scheduler's.
        if (real.startsWith(live)) {
            throw CoopException.invalid("to", path + " is inside the scheduler's data directory " + live);
        }
        if (Files.exists(path, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
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

    /**
     * The path with the symbolic links of its existing part resolved, and the rest as given; a
     * link that points nowhere is part of what exists, and fails to resolve.
     */
    private static Path realPath(Path path) {
        Path absolute = path.toAbsolutePath().normalize();
        Path existing = absolute;
        while (existing != null && !Files.exists(existing, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
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
        Path tls = from.resolve(Authority.FOLDER);
        if (!Files.isDirectory(tls)) {
            return;
        }
        try (Stream<Path> files = Files.list(tls)) {
            Path dir = Files.createDirectories(to.resolve(Authority.FOLDER));
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

    private static String shown(String text) {
        String clean = text.codePoints().map(c -> Character.isISOControl(c) ? '?' : c)
                .collect(StringBuilder::new, StringBuilder::appendCodePoint, StringBuilder::append).toString();
        return clean.length() <= 40 ? clean : clean.substring(0, 40) + "…";
    }
}
