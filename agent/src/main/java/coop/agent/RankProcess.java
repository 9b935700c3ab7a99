package coop.agent;

import java.nio.file.Path;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;

/**
 * A rank's running process. It was started through {@code setsid}, so it leads its own process
 * group and session: its pid is also the group id that signals are sent to, and everything the
 * command forks stays in that group unless it deliberately leaves it.
 */
public final class RankProcess {

    private final RankId rank;
    private final Process process;
    private final Path directory;

    RankProcess(RankId rank, Process process, Path directory) {
        this.rank = Objects.requireNonNull(rank, "rank");
        this.process = Objects.requireNonNull(process, "process");
        this.directory = Objects.requireNonNull(directory, "directory");
    }

    /** Which rank this process runs. */
    public RankId rank() {
        return rank;
    }

    /** Operating-system pid of the group leader, equal to the process group id. */
    public long pid() {
        return process.pid();
    }

    /** The working directory, which also holds the {@code stdout} and {@code stderr} files. */
    public Path directory() {
        return directory;
    }

    /** Whether the group leader is still running. */
    public boolean isAlive() {
        return process.isAlive();
    }

    /**
     * Completes with the exit code when the group leader ends: the code the command exited with,
     * or 128+N if it died of signal N (the JDK reports signal deaths that way on Unix).
     */
    public CompletableFuture<Integer> onExit() {
        return process.onExit().thenApply(Process::exitValue);
    }
}
