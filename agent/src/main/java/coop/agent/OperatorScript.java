package coop.agent;

import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * One of the operator's scripts (health check, prolog, epilog), run as {@code bash -c COMMAND}
 * in a session of its own with the agent's user and environment plus {@code env}. It passes on
 * exit code 0; it fails on any other code, and when it runs past its timeout, which kills its
 * whole process group (a check hung on a dead GPU driver is the sick node it is meant to find).
 * Its output, stdout and stderr together, goes to a file rather than a pipe, so a background
 * child that keeps the output open cannot hold the agent up; only the first line is kept.
 */
final class OperatorScript {

    /** How a run went: passed, or failed with the line to show as the reason. */
    record Outcome(boolean passed, String reason) {
        static final Outcome PASSED = new Outcome(true, "");
    }

    /** The most of a script's output read to find its first line. */
    private static final int MAX_READ = 4096;

    private final String command;
    private final Duration timeout;
    private final Path scratch;

    /** @param scratch the folder its output file is kept in while it runs (created if need be) */
    OperatorScript(String command, Duration timeout, Path scratch) {
        this.command = command;
        this.timeout = timeout;
        this.scratch = scratch;
    }

    String command() {
        return command;
    }

    /**
     * Runs the script and waits for it, at most the timeout. A failure's reason is the first
     * non-blank line of its output, else {@code exit code N}, or {@code timed out after N s}.
     */
    Outcome run(Map<String, String> env) {
        Path output = null;
        try {
            Files.createDirectories(scratch);
            output = Files.createTempFile(scratch, "script", ".out");
            ProcessBuilder builder = new ProcessBuilder(List.of("setsid", "bash", "-c", command))
                    .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")))
                    .redirectErrorStream(true)
                    .redirectOutput(output.toFile());
            builder.environment().putAll(env);
            Process process = builder.start();
            boolean done;
            try {
                done = process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS);
            } catch (InterruptedException e) {
                killGroup(process);
                Thread.currentThread().interrupt();
                return new Outcome(false, "interrupted: the agent is stopping");
            }
            if (!done) {
                killGroup(process);
                String line = firstLine(output);
                return new Outcome(false, "timed out after " + timeout.toSeconds() + " s"
                        + (line.isEmpty() ? "" : ": " + line));
            }
            int code = process.exitValue();
            if (code == 0) {
                return Outcome.PASSED;
            }
            String line = firstLine(output);
            return new Outcome(false, line.isEmpty() ? "exit code " + code : line);
        } catch (IOException e) {
            return new Outcome(false, "cannot run: " + e.getMessage());
        } finally {
            if (output != null) {
                try {
                    Files.deleteIfExists(output);
                } catch (IOException ignored) {
                    // A leftover file in the temp folder is harmless.
                }
            }
        }
    }

    /** The first non-blank line of the output, stripped; empty if there is none. */
    static String firstLine(Path output) throws IOException {
        byte[] head;
        try (InputStream in = Files.newInputStream(output)) {
            head = in.readNBytes(MAX_READ);
        }
        for (String line : new String(head, StandardCharsets.UTF_8).split("\n")) {
            if (!line.isBlank()) {
                return line.strip();
            }
        }
        return "";
    }

    /** From a JVM child setsid execs bash directly, so the script's pid is its session's and group's id. */
    private static void killGroup(Process process) {
        try {
            Process kill = new ProcessBuilder(List.of("kill", "-KILL", "--", "-" + process.pid()))
                    .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
            kill.waitFor(5, TimeUnit.SECONDS);
        } catch (IOException e) {
            // Fall back to the leader alone below.
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        process.destroyForcibly();
    }
}
