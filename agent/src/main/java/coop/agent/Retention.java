package coop.agent;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.time.Duration;
import java.time.InstantSource;
import java.util.HashSet;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Removes the folders of ranks that ended longer ago than the operator's retention
 * ({@code --retain}), and the checkpoints of jobs with no folder left, so a node that runs
 * short jobs for years does not fill its disk. Each removal is noted in {@code removed} (one
 * line per folder), so that a request for that output is answered with "removed", not "never
 * ran here".
 */
final class Retention {

    private static final Logger log = LoggerFactory.getLogger(Agent.class);
    static final String REMOVED = "removed";

    private final Path workDir;
    private final Duration retain;
    private final InstantSource clock;

    /** @param retain how long a rank's folder is kept after it ended; zero keeps it for ever */
    Retention(Path workDir, Duration retain, InstantSource clock) {
        this.workDir = workDir;
        this.retain = retain;
        this.clock = clock;
    }

    /** Whether folders are removed at all. */
    boolean active() {
        return !retain.isZero();
    }

    /** How often a sweep runs: a tenth of the retention, between a minute and an hour. */
    Duration period() {
        long seconds = Math.max(60, Math.min(3600, retain.toSeconds() / 10));
        return Duration.ofSeconds(seconds);
    }

    /**
     * Removes what is due: folders whose record says the rank ended before now minus the
     * retention (a running rank's folder has no end in its record and is never touched).
     *
     * @return how many rank folders it removed
     */
    int sweep() throws IOException {
        Path jobs = workDir.resolve("jobs");
        if (!active() || !Files.isDirectory(jobs)) {
            return 0;
        }
        long cutoff = clock.millis() - retain.toMillis();
        int removed = 0;
        Set<String> jobsLeft = new HashSet<>();
        try (Stream<Path> folders = Files.list(jobs)) {
            for (Path folder : folders.sorted().toList()) {
                String name = folder.getFileName().toString();
                Optional<RankRecords.Record> record = endedRecord(folder);
                if (record.isPresent() && record.get().endedAtMs() < cutoff) {
                    delete(folder);
                    Files.writeString(workDir.resolve(REMOVED), name + " " + clock.millis() + "\n",
                            StandardCharsets.UTF_8, StandardOpenOption.CREATE, StandardOpenOption.APPEND);
                    removed++;
                } else {
                    int dot = name.indexOf('.');
                    jobsLeft.add(dot < 0 ? name : name.substring(0, dot));
                }
            }
        }
        Path checkpoints = workDir.resolve("checkpoints");
        if (Files.isDirectory(checkpoints)) {
            try (Stream<Path> kept = Files.list(checkpoints)) {
                for (Path job : kept.toList()) {
                    if (!jobsLeft.contains(job.getFileName().toString())) {
                        delete(job);
                    }
                }
            }
        }
        if (removed > 0) {
            log.info("removed the folders of {} ranks that ended more than {} ago", removed, Durations.text(retain));
        }
        return removed;
    }

    private static Optional<RankRecords.Record> endedRecord(Path folder) {
        try {
            RankRecords.Record r = RankRecords.read(folder);
            return r.ended() ? Optional.of(r) : Optional.empty();
        } catch (IOException | RuntimeException e) {
            // Running, or from before records were filed in folders: kept.
            return Optional.empty();
        }
    }

    /**
     * When the rank's folder was removed, if it was: {@code removed} is read only when a folder
     * is missing, which is rare enough not to need an index.
     */
    Optional<Long> removedAt(Path rankFolder) {
        String name = rankFolder.getFileName().toString() + " ";
        try (Stream<String> lines = Files.lines(workDir.resolve(REMOVED), StandardCharsets.UTF_8)) {
            return lines.filter(l -> l.startsWith(name)).findFirst()
                    .map(l -> Long.parseLong(l.substring(name.length()).strip()));
        } catch (NoSuchFileException e) {
            return Optional.empty();
        } catch (IOException | RuntimeException e) {
            return Optional.empty();
        }
    }

    /** The retention as the operator wrote it, for messages. */
    String describe() {
        return Durations.text(retain);
    }

    private static void delete(Path tree) throws IOException {
        Files.walkFileTree(tree, new SimpleFileVisitor<>() {
            @Override
            public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) throws IOException {
                Files.deleteIfExists(file);
                return FileVisitResult.CONTINUE;
            }

            @Override
            public FileVisitResult postVisitDirectory(Path dir, IOException e) throws IOException {
                Files.deleteIfExists(dir);
                return FileVisitResult.CONTINUE;
            }
        });
    }

    /** Durations as operators write them. */
    static final class Durations {
        private Durations() {
        }

        static String text(Duration d) {
            long s = d.toSeconds();
            if (s % 86400 == 0) {
                return s / 86400 + "d";
            }
            if (s % 3600 == 0) {
                return s / 3600 + "h";
            }
            if (s % 60 == 0) {
                return s / 60 + "m";
            }
            return s + "s";
        }
    }
}
