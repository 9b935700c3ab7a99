package coop.agent;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.TimeUnit;

/**
 * What the node's operator has the agent run besides ranks: a health check (an NHC- or
 * DCGM-style script, run every {@code healthEvery} and before each launch; null for none), a
 * prolog and an epilog run around each attempt (null for none), and the folder where it keeps the
 * job-to-GPU mapping files that {@code dcgm-exporter --hpc-job-mapping-dir} reads (null for
 * none). Each script runs as {@code bash -c COMMAND} and fails on a non-zero exit or when it runs
 * past {@code timeout}.
 */
public record NodeHooks(String healthCheck, Duration healthEvery, String prolog, String epilog, Path gpuJobMap,
                        Duration timeout) {

    /** How often the health check runs unless the operator says otherwise. */
    public static final Duration DEFAULT_HEALTH_EVERY = Duration.ofMinutes(5);
    /** How long a script may run before it counts as failed: a hung check is a sick node. */
    public static final Duration DEFAULT_TIMEOUT = Duration.ofSeconds(60);
    /** Nothing run besides ranks. */
    public static final NodeHooks NONE = new NodeHooks(null, DEFAULT_HEALTH_EVERY, null, null, null, DEFAULT_TIMEOUT);

    public NodeHooks {
        healthCheck = blankToNull(healthCheck);
        prolog = blankToNull(prolog);
        epilog = blankToNull(epilog);
        Objects.requireNonNull(healthEvery, "healthEvery");
        Objects.requireNonNull(timeout, "timeout");
        if (healthEvery.isNegative() || healthEvery.isZero()) {
            throw new IllegalArgumentException("--health-every must be a positive duration, got " + healthEvery);
        }
        if (timeout.isNegative() || timeout.isZero()) {
            throw new IllegalArgumentException("script timeout must be positive, got " + timeout);
        }
    }

    /** The hooks the agent's flags name, with the default timeout; a null period means the default. */
    public static NodeHooks of(String healthCheck, Duration healthEvery, String prolog, String epilog,
                               Path gpuJobMap) {
        return new NodeHooks(healthCheck, healthEvery == null ? DEFAULT_HEALTH_EVERY : healthEvery, prolog, epilog,
                gpuJobMap, DEFAULT_TIMEOUT);
    }

    /**
     * Checks, at start-up, that each script can run and the mapping folder can be written, so
     * that an agent never starts half-configured: a check that cannot run would otherwise drain
     * the node at its first run, and a typo would look like a sick node.
     *
     * @throws IllegalArgumentException naming the flag and what is wrong
     */
    public void check() {
        checkRunnable("--health-check", healthCheck);
        checkRunnable("--prolog", prolog);
        checkRunnable("--epilog", epilog);
        if (gpuJobMap != null) {
            try {
                Files.createDirectories(gpuJobMap);
                Path probe = Files.createTempFile(gpuJobMap, ".coop-probe", "");
                Files.delete(probe);
            } catch (IOException | UnsupportedOperationException | SecurityException e) {
                throw new IllegalArgumentException("--gpu-job-map: cannot create or write folder " + gpuJobMap
                        + ": " + e.getMessage());
            }
        }
    }

    /**
     * Whether bash can run the command's first word: a program on the PATH or an executable
     * file named by its path, a builtin, a keyword or a function. Leading variable assignments
     * ({@code LC_ALL=C nhc}) are skipped.
     */
    private static void checkRunnable(String flag, String command) {
        if (command == null) {
            return;
        }
        String program = null;
        for (String word : command.strip().split("\\s+")) {
            if (!word.matches("[A-Za-z_][A-Za-z0-9_]*=.*")) {
                program = word;
                break;
            }
        }
        if (program == null) {
            throw new IllegalArgumentException(flag + ": '" + command + "' names no command to run");
        }
        if (program.contains("/")) {
            Path file = Path.of(program);
            if (!Files.isRegularFile(file) || !Files.isExecutable(file)) {
                throw new IllegalArgumentException(flag + ": " + program
                        + (Files.exists(file) ? " is not an executable file" : " does not exist"));
            }
            return;
        }
        if (!knownToBash(program)) {
            throw new IllegalArgumentException(flag + ": command '" + program + "' not found on the PATH");
        }
    }

    /** {@code type -t} names builtins, keywords and programs on the PATH; words that look like syntax are let through. */
    private static boolean knownToBash(String word) {
        if (!word.matches("[A-Za-z0-9_.+@%:,-]+")) {
            // Quotes, expansions, redirections: bash must read the line to know; the first run will tell.
            return true;
        }
        try {
            Process type = new ProcessBuilder(List.of("bash", "-c", "type -t -- \"$1\" >/dev/null", "coop", word))
                    .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
            if (!type.waitFor(10, TimeUnit.SECONDS)) {
                type.destroyForcibly();
                return true;
            }
            return type.exitValue() == 0;
        } catch (IOException e) {
            throw new IllegalArgumentException("cannot run bash to check the agent's scripts: " + e.getMessage());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return true;
        }
    }

    private static String blankToNull(String s) {
        return s == null || s.isBlank() ? null : s;
    }
}
