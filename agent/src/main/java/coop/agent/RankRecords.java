package coop.agent;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;
import java.util.Properties;
import java.util.stream.Collectors;
import java.util.stream.Stream;

/**
 * The node's own record of every rank it started: which process group ran it, on which GPUs, from
 * when to when. A rank that is running has its record in {@code <workDir>/running/JOB.ATTEMPT.RANK};
 * when it ends, the end is added and the record moves into the rank's folder as
 * {@code rank.properties}. The records outlive the agent: an agent killed with {@code kill -9}
 * leaves its ranks' process groups running, and the records in {@code running/} are how the
 * agent that starts next finds them and stops them before it offers the node again, so that no
 * GPU ever carries two attempts. They are also what an operator (or a test) reads to see what
 * ran on each GPU and when.
 */
public final class RankRecords {

    /** The name of a finished rank's record inside its folder. */
    public static final String FILE = "rank.properties";

    /**
     * One rank's record.
     *
     * @param rank which job, attempt and rank
     * @param pgid the process group (and session) the rank's leader led
     * @param leaderStartMs when the leader process started, as the kernel reports it (0 if it
     *     ended before it could be read); tells our group's leader from a later process that
     *     happens to get the same pid
     * @param gpus the GPU indices the rank was given
     * @param startedAtMs when the agent started it
     * @param endedAtMs when the agent saw it end, or stopped it; 0 while it runs
     * @param end how it ended ("exited 0", "killed 143", "stopped: agent restarted"); empty while it runs
     */
    public record Record(RankId rank, long pgid, long leaderStartMs, List<Integer> gpus, long startedAtMs,
            long endedAtMs, String end) {
        public Record {
            Objects.requireNonNull(rank, "rank");
            gpus = List.copyOf(gpus);
            end = end == null ? "" : end;
        }

        /** Whether the record says the rank ended. */
        public boolean ended() {
            return endedAtMs > 0;
        }

        Record endedAt(long at, String how) {
            return new Record(rank, pgid, leaderStartMs, gpus, startedAtMs, at, how);
        }
    }

    private final Path running;

    /** @param workDir the agent's work directory; records live below it */
    public RankRecords(Path workDir) {
        this.running = workDir.resolve("running");
    }

    private Path runningFile(RankId rank) {
        return running.resolve(rank.jobId() + "." + rank.attempt() + "." + rank.rank());
    }

    /** Writes the record of a rank that has just started. */
    public void started(Record record) throws IOException {
        Files.createDirectories(running);
        Path file = runningFile(record.rank());
        Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
        Files.writeString(tmp, format(record), StandardCharsets.UTF_8);
        // A record is read whole or not at all, even by an agent that starts while this one dies.
        Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    }

    /**
     * Adds the end to a rank's record and moves it into the rank's folder. A rank with no record
     * (started before records were kept) is ignored.
     */
    public void ended(RankId rank, Path rankDirectory, long endedAtMs, String how) throws IOException {
        Path file = runningFile(rank);
        try {
            // The end is appended rather than the record read back and rewritten: one write per exit.
            Files.writeString(file, endLines(endedAtMs, how), StandardCharsets.UTF_8, StandardOpenOption.APPEND);
        } catch (NoSuchFileException e) {
            return;
        }
        Files.createDirectories(rankDirectory);
        Files.move(file, rankDirectory.resolve(FILE), StandardCopyOption.REPLACE_EXISTING);
    }

    /** The records of ranks not yet seen to end: what a previous agent left running, at start-up. */
    public List<Record> unfinished() throws IOException {
        if (!Files.isDirectory(running)) {
            return List.of();
        }
        List<Record> out = new ArrayList<>();
        try (Stream<Path> files = Files.list(running)) {
            for (Path file : files.sorted().toList()) {
                if (file.getFileName().toString().endsWith(".tmp")) {
                    // Being written, or its agent died before the record was whole: nothing to read yet.
                    continue;
                }
                try {
                    out.add(parse(Files.readString(file, StandardCharsets.UTF_8)));
                } catch (IllegalArgumentException e) {
                    throw new IOException("unreadable rank record " + file + ": " + e.getMessage(), e);
                }
            }
        }
        return out;
    }

    /** Reads a finished rank's record from its folder. */
    public static Record read(Path rankDirectory) throws IOException {
        return parse(Files.readString(rankDirectory.resolve(FILE), StandardCharsets.UTF_8));
    }

    static String format(Record r) {
        return "job=" + r.rank().jobId() + "\n"
                + "attempt=" + r.rank().attempt() + "\n"
                + "rank=" + r.rank().rank() + "\n"
                + "pgid=" + r.pgid() + "\n"
                + "leader_start_ms=" + r.leaderStartMs() + "\n"
                + "gpus=" + r.gpus().stream().map(String::valueOf).collect(Collectors.joining(",")) + "\n"
                + "started_at_ms=" + r.startedAtMs() + "\n"
                + (r.ended() ? endLines(r.endedAtMs(), r.end()) : "");
    }

    private static String endLines(long endedAtMs, String how) {
        return "ended_at_ms=" + endedAtMs + "\nend=" + how + "\n";
    }

    static Record parse(String text) {
        Properties p = new Properties();
        try {
            p.load(new java.io.StringReader(text));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        String gpus = p.getProperty("gpus", "");
        return new Record(
                new RankId(number(p, "job"), (int) number(p, "attempt"), (int) number(p, "rank")),
                number(p, "pgid"), number(p, "leader_start_ms"),
                gpus.isEmpty() ? List.of() : Arrays.stream(gpus.split(",")).map(Integer::valueOf).toList(),
                number(p, "started_at_ms"),
                p.containsKey("ended_at_ms") ? number(p, "ended_at_ms") : 0,
                p.getProperty("end", ""));
    }

    private static long number(Properties p, String key) {
        String value = p.getProperty(key);
        if (value == null) {
            throw new IllegalArgumentException("missing " + key);
        }
        try {
            return Long.parseLong(value.strip());
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(key + " is not a number: " + value);
        }
    }
}
