package coop.cli;

import coop.agent.WorkdirArchive;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.security.DigestOutputStream;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.function.Consumer;
import java.util.stream.Stream;
import java.util.zip.GZIPOutputStream;

/**
 * A folder packed for {@code coop submit --workdir}: its files and folders, less {@code .git/}
 * and what {@link IgnoreRules} leaves out, in name order, as a gzip-compressed
 * {@link WorkdirArchive}, named by its sha256. The same folder gives the same bytes (no times or
 * owners are kept, only whether a file is executable), so submitting it again finds it stored.
 * Symbolic links are refused rather than followed or kept: one that leads outside the folder
 * would ship what the submitter did not mean to, or nothing at all on the node.
 */
record WorkdirPack(Path file, String digest, long bytes, int files, long fileBytes) {

    /** Says how far packing is, every this many bytes of files read. */
    static final long PROGRESS_EVERY = 16L << 20;

    /**
     * Packs {@code root} into a new file under {@code scratch}.
     *
     * @param progress told every {@link #PROGRESS_EVERY} bytes, for a folder that takes a while
     * @throws CliException naming the path for a link or anything that is neither file nor folder
     */
    static WorkdirPack of(Path root, Path scratch, Consumer<String> progress) throws IOException {
        if (!Files.isDirectory(root)) {
            throw new CliException("--workdir: " + root + " is not a folder");
        }
        IgnoreRules rules = IgnoreRules.of(root);
        Path file = Files.createTempFile(scratch, "coop-workdir-", ".tar.gz");
        MessageDigest sha;
        try {
            sha = MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
        long[] counts = new long[3];
        try (OutputStream raw = Files.newOutputStream(file);
             DigestOutputStream digested = new DigestOutputStream(raw, sha);
             GZIPOutputStream gz = new GZIPOutputStream(digested, 64 * 1024);
             WorkdirArchive.Writer tar = new WorkdirArchive.Writer(gz)) {
            add(root, root, rules, tar, counts, progress);
        } catch (IOException | RuntimeException e) {
            Files.deleteIfExists(file);
            throw e;
        }
        return new WorkdirPack(file, HexFormat.of().formatHex(sha.digest()), Files.size(file), (int) counts[0],
                counts[1]);
    }

    private static void add(Path root, Path folder, IgnoreRules rules, WorkdirArchive.Writer tar, long[] counts,
                            Consumer<String> progress) throws IOException {
        List<Path> children;
        try (Stream<Path> list = Files.list(folder)) {
            children = new ArrayList<>(list.toList());
        }
        children.sort((a, b) -> a.getFileName().toString().compareTo(b.getFileName().toString()));
        for (Path p : children) {
            String rel = root.relativize(p).toString().replace(java.io.File.separatorChar, '/');
            boolean isFolder = Files.isDirectory(p, LinkOption.NOFOLLOW_LINKS);
            if (rel.equals(".git") || rules.ignored(rel, isFolder)) {
                continue;
            }
            if (Files.isSymbolicLink(p)) {
                throw new CliException("--workdir: " + rel + " is a symbolic link; links are not shipped (copy what "
                        + "it points to into the folder, or list it in .coopignore)");
            }
            if (isFolder) {
                tar.folder(rel);
                add(root, p, rules, tar, counts, progress);
            } else if (Files.isRegularFile(p, LinkOption.NOFOLLOW_LINKS)) {
                long size = Files.size(p);
                boolean executable = Files.getPosixFilePermissions(p, LinkOption.NOFOLLOW_LINKS)
                        .contains(PosixFilePermission.OWNER_EXECUTE);
                try (InputStream in = Files.newInputStream(p)) {
                    tar.file(rel, executable, size, in);
                }
                long before = counts[1];
                counts[0]++;
                counts[1] += size;
                if (before / PROGRESS_EVERY != counts[1] / PROGRESS_EVERY) {
                    progress.accept("packing " + counts[0] + " files, " + mib(counts[1]) + " so far");
                }
            } else {
                throw new CliException("--workdir: " + rel + " is neither a file nor a folder; list it in .coopignore");
            }
        }
    }

    static String mib(long bytes) {
        return String.format(java.util.Locale.ROOT, "%.1f MiB", bytes / (1024.0 * 1024.0));
    }
}
