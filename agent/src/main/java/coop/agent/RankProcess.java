package coop.agent;

import java.nio.file.Path;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;

/**
 * A rank's running process. It was started through {@code setsid}, so it leads its own process
 * group and session: its pid is also the group id that signals are sent to, and everything the
 * command forks stays in that group unless it deliberately leaves it.
 */
public final class RankProcess {

    private final RankId rank;
    private final Process process;
    private final Path directory;
    private final CompletableFuture<Integer> exit;
    /** Why the rank ended, in the user's words, when the launcher knows more than the exit code; set before {@link #exit}. */
    private volatile String why = "";

    RankProcess(RankId rank, Process process, Path directory) {
        this.rank = Objects.requireNonNull(rank, "rank");
        this.process = Objects.requireNonNull(process, "process");
        this.directory = Objects.requireNonNull(directory, "directory");
        this.exit = process.onExit().thenApply(Process::exitValue);
    }

    /**
     * As the other constructor, but the exit is awaited on a thread of {@code waiters}. The JDK's
     * own {@link Process#onExit()} hands each exit to a new thread on a machine with fewer than three
     * cores (its common pool is too small to be used there); a pool of waiters is reused.
     */
    RankProcess(RankId rank, Process process, Path directory, Executor waiters) {
        this(rank, process, directory, waiters, code -> Optional.empty());
    }

    /** What the launcher does once a rank's process ended, off the agent's loop: why it ended, if it knows. */
    interface AfterExit {
        Optional<String> finish(int exitCode);
    }

    /**
     * As the constructor above, and {@code after} runs on the waiter before the exit completes:
     * a container is removed there, and its cgroup read for the reason it ended.
     */
    RankProcess(RankId rank, Process process, Path directory, Executor waiters, AfterExit after) {
        this.rank = Objects.requireNonNull(rank, "rank");
        this.process = Objects.requireNonNull(process, "process");
        this.directory = Objects.requireNonNull(directory, "directory");
        this.exit = new CompletableFuture<>();
        waiters.execute(() -> {
            boolean interrupted = false;
            while (true) {
                try {
                    int code = process.waitFor();
                    try {
                        why = after.finish(code).orElse("");
                    } catch (RuntimeException e) {
                        why = "";
                    }
                    exit.complete(code);
                    break;
                } catch (InterruptedException e) {
                    // The exit is what this thread is for: keep waiting, and pass the interrupt on after.
                    interrupted = true;
                }
            }
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
        });
    }

    /** Why the rank ended ("OOM: exceeded 8 GiB"), or empty; read once {@link #onExit()} completed. */
    public String why() {
        return why;
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
        return exit;
    }
}
