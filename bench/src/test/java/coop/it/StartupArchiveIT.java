package coop.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What a researcher's short call does at start-up. The class-data-sharing archive the build makes (bench/pom.xml, {@code coop.cli.StartupTraining})
 * holds every class of the jar that a researcher's short calls load: a real {@code coop submit}
 * and {@code coop jobs} through the {@code ./coop} launcher against a real scheduler load none
 * from the jar itself. One class that the training missed costs the call its parsing and
 * verification, and the first makes the JVM open the jar's 23,000-entry directory besides. And a
 * call prints what it has to say and nothing from the libraries under it.
 */
class StartupArchiveIT {
    private static final Path LAUNCHER = Path.of("..", "coop").toAbsolutePath().normalize();

    @TempDir
    Path dir;

    @Test
    void aShortCallLoadsEveryClassOfTheJarFromTheArchive() throws Exception {
        Path jar = Path.of(CoopProcesses.jar()).toAbsolutePath();
        Path archive = jar.resolveSibling("coop.jsa");
        // The launcher's rule: an archive older than the jar is not used (a build with -Dcoop.cds.skip).
        assumeTrue(Files.exists(archive) && Files.getLastModifiedTime(archive).compareTo(
                Files.getLastModifiedTime(jar)) > 0, "no " + archive + " newer than the jar: the build skipped the "
                + "archive (-Dcoop.cds.skip)");
        try (CoopProcesses coop = new CoopProcesses(dir)) {
            Path data = dir.resolve("data");
            assertThat(coop.run("init", "--data", data.toString(), "--founders", "alice:lab-a", "--accounts", "lab-a")
                    .exitCode()).isZero();
            String target = coop.scheduler(data).target();
            String identity = data.resolve("identities/alice.json").toString();

            List<String> fromJar = loadedFromTheJar(jar, "submit", "--scheduler", target, "--identity", identity,
                    "--account", "lab-a", "--gpus", "1", "--", "true");
            fromJar.addAll(loadedFromTheJar(jar, "jobs", "--scheduler", target, "--identity", identity));

            assertThat(fromJar).isEmpty();
        }
    }

    /**
     * Where there is no network interface but loopback (a network namespace of its own, as in a
     * sandbox or a container without a network), a call that cannot reach its scheduler says so
     * in its one error line, and nothing else: no warnings from Netty looking for a hardware
     * address to seed its channel ids with. Needs {@code unshare -n} (root, or user namespaces).
     */
    @Test
    void withoutNetworkInterfacesACallPrintsItsErrorAndNoLibraryWarnings() throws Exception {
        Path jar = Path.of(CoopProcesses.jar()).toAbsolutePath();
        assumeTrue(canUnshareTheNetwork(), "cannot make a network namespace here (unshare -n needs util-linux, "
                + "and root or user namespaces)");
        try (CoopProcesses coop = new CoopProcesses(dir)) {
            Path data = dir.resolve("data");
            assertThat(coop.run("init", "--data", data.toString(), "--founders", "alice:lab-a", "--accounts", "lab-a")
                    .exitCode()).isZero();
            ProcessBuilder call = new ProcessBuilder("unshare", "-n", LAUNCHER.toString(), "submit",
                    "--scheduler", "127.0.0.1:1", "--identity", data.resolve("identities/alice.json").toString(),
                    "--account", "lab-a", "--gpus", "1", "--", "true");
            call.environment().put("COOP_JAR", jar.toString());
            Path err = dir.resolve("unshared.err");
            call.redirectOutput(dir.resolve("unshared.out").toFile()).redirectError(err.toFile());
            Process p = call.start();
            try {
                assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
            } finally {
                p.destroyForcibly();
            }
            assertThat(p.exitValue()).isEqualTo(1);
            assertThat(Files.readString(err)).isEqualTo("error: cannot reach scheduler at 127.0.0.1:1 (is it running?)"
                    + System.lineSeparator());
        }
    }

    private static boolean canUnshareTheNetwork() throws InterruptedException {
        try {
            return new ProcessBuilder("unshare", "-n", "true").start().waitFor() == 0;
        } catch (IOException noUnshare) {
            return false;
        }
    }

    /** Runs {@code ./coop ARGS} with class loading logged, and returns the classes it took from the jar. */
    private List<String> loadedFromTheJar(Path jar, String... args) throws Exception {
        Path log = dir.resolve(args[0] + "-classes.log");
        ProcessBuilder call = new ProcessBuilder(LAUNCHER.toString());
        call.command().addAll(List.of(args));
        call.environment().put("COOP_JAR", jar.toString());
        call.environment().put("COOP_JAVA_OPTS", "-Xlog:class+load=info:file=" + log);
        call.redirectErrorStream(true).redirectOutput(dir.resolve(args[0] + ".out").toFile());
        Process p = call.start();
        try {
            assertThat(p.waitFor(60, TimeUnit.SECONDS)).as("coop " + args[0] + " finished").isTrue();
        } finally {
            p.destroyForcibly();
        }
        String output = Files.readString(dir.resolve(args[0] + ".out"));
        assertThat(p.exitValue()).as(output).isZero();
        if (args[0].equals("submit")) {
            // Nothing but the answer: no warning from the libraries on either stream.
            assertThat(output).matches("submitted job \\d+\\R");
        }
        List<String> lines = Files.readAllLines(log);
        // The archive was mapped at all (the JDK's default one would give java.lang.Object too).
        assertThat(lines).as("classes from the archive").anyMatch(l -> l.contains(" coop.cli.Main source: shared"));
        return new ArrayList<>(lines.stream()
                .filter(l -> l.contains("source: file:") || l.contains("source: jar:"))
                .map(l -> "coop " + args[0] + ": " + l.substring(l.lastIndexOf("] ") + 2))
                .toList());
    }
}
