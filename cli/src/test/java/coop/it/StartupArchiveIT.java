package coop.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The class-data-sharing archive the build makes (cli/pom.xml, {@code coop.cli.StartupTraining})
 * holds every class of the jar that a researcher's short calls load: a real {@code coop submit}
 * and {@code coop jobs} through the {@code ./coop} launcher against a real scheduler load none
 * from the jar itself. One class that the training missed costs the call its parsing and
 * verification, and the first makes the JVM open the jar's 23,000-entry directory besides.
 */
class StartupArchiveIT {
    private static final Path LAUNCHER = Path.of("..", "coop").toAbsolutePath().normalize();

    @TempDir
    Path dir;

    @Test
    void aShortCallLoadsEveryClassOfTheJarFromTheArchive() throws Exception {
        Path jar = Path.of(CoopProcesses.jar()).toAbsolutePath();
        Path archive = jar.resolveSibling("coop.jsa");
        assumeTrue(Files.exists(archive), "no " + archive + ": the build skipped the archive (-Dcoop.cds.skip)");
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
        assertThat(p.exitValue()).as(Files.readString(dir.resolve(args[0] + ".out"))).isZero();
        List<String> lines = Files.readAllLines(log);
        // The archive was mapped at all: the JDK's own classes come from it too.
        assertThat(lines).as("classes from the archive").anyMatch(l -> l.contains(" java.lang.Object source: shared"));
        return new ArrayList<>(lines.stream()
                .filter(l -> l.contains("source: file:") || l.contains("source: jar:"))
                .map(l -> "coop " + args[0] + ": " + l.substring(l.lastIndexOf("] ") + 2))
                .toList());
    }
}
