package coop.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The {@code ./coop} launcher's choice of JVM flags, read from its dry run: short-lived
 * flags for every subcommand but {@link Main#LONG_RUNNING}, and the class-data-sharing
 * archive and the unpacked TLS library only while they are newer than the jar.
 */
class LauncherTest {

    private static final Path LAUNCHER = Path.of("..", "coop").toAbsolutePath().normalize();

    @TempDir
    Path dir;

    @Test
    void longRunningSubcommandsKeepTheJvmDefaultsAndEveryOtherGetsShortLivedFlags() throws Exception {
        Path jar = Files.createFile(dir.resolve("coop.jar"));
        List<String> names = new ArrayList<>();
        for (Main.Subcommand c : Main.SUBCOMMANDS) {
            names.add(c.name());
        }
        names.add("--help");
        for (String name : names) {
            List<String> cmd = dryRun(jar, name, "--flag");
            assertThat(cmd).as(name).endsWith("-cp", jar.toString(), Main.class.getName(), name, "--flag");
            if (Main.LONG_RUNNING.contains(name)) {
                assertThat(cmd).as(name).doesNotContain("-XX:TieredStopAtLevel=1", "-XX:+UseG1GC");
            } else {
                assertThat(cmd).as(name).contains("-XX:TieredStopAtLevel=1", "-XX:+UseG1GC");
            }
        }
    }

    @Test
    void theSchedulerGetsTheRefinementFlagsOnJdk17To19Only() throws Exception {
        Path jar = Files.createFile(dir.resolve("coop.jar"));
        for (String version : List.of("17.0.15", "19.0.2", "20.0.1", "21.0.5")) {
            Path home = dir.resolve("jdk-" + version);
            Files.createDirectories(home.resolve("bin"));
            Path java = Files.writeString(home.resolve("bin/java"), "#!/bin/sh\nexit 1\n");
            assertThat(java.toFile().setExecutable(true)).isTrue();
            Files.writeString(home.resolve("release"), "IMPLEMENTOR=\"x\"\nJAVA_VERSION=\"" + version + "\"\n");
            List<String> env = List.of("PATH=" + home.resolve("bin") + ":" + System.getenv("PATH"));
            List<String> scheduler = dryRun(jar, env, "scheduler");
            List<String> agent = dryRun(jar, env, "agent");
            Runtime.Version v = Runtime.Version.parse(version);
            if (v.feature() <= 19) {
                assertThat(scheduler).as(version).containsSubsequence(SchedulerProcess.GC_OPTIONS);
            } else {
                assertThat(scheduler).as(version).noneMatch(a -> a.contains("G1ConcRefinement"));
            }
            assertThat(SchedulerProcess.gcOptions(v)).isEqualTo(v.feature() <= 19 ? SchedulerProcess.GC_OPTIONS
                    : List.of());
            assertThat(agent).as(version).noneMatch(a -> a.contains("G1ConcRefinement"));
        }
    }

    @Test
    void theArchiveIsUsedOnlyWhileNewerThanTheJar() throws Exception {
        Path jar = Files.createFile(dir.resolve("coop.jar"));
        Path archive = Files.createFile(dir.resolve("coop.jsa"));
        String flag = "-XX:SharedArchiveFile=" + archive;

        jar.toFile().setLastModified(System.currentTimeMillis() - 60_000);
        assertThat(dryRun(jar, "submit")).contains(flag, "-Xshare:auto");
        assertThat(dryRun(jar, "scheduler")).contains(flag, "-Xshare:auto");

        jar.toFile().setLastModified(System.currentTimeMillis() + 60_000);
        assertThat(dryRun(jar, "submit")).doesNotContain(flag);

        Files.delete(archive);
        assertThat(dryRun(jar, "submit")).noneMatch(a -> a.startsWith("-XX:SharedArchiveFile="));
    }

    @Test
    void theUnpackedTlsLibraryIsUsedByShortCallsOnlyWhileNewerThanTheJar() throws Exception {
        Path jar = Files.createFile(dir.resolve("coop.jar"));
        Path folder = Files.createDirectory(dir.resolve("native"));
        List<String> flags = List.of("-Djava.library.path=" + folder,
                "-Dio.grpc.netty.shaded.io.netty.handler.ssl.noOpenSsl=false");

        jar.toFile().setLastModified(System.currentTimeMillis() - 60_000);
        assertThat(dryRun(jar, "submit")).containsAll(flags);
        assertThat(dryRun(jar, "--help")).containsAll(flags);
        assertThat(dryRun(jar, "scheduler")).doesNotContainAnyElementsOf(flags);
        assertThat(dryRun(jar, "agent")).doesNotContainAnyElementsOf(flags);

        jar.toFile().setLastModified(System.currentTimeMillis() + 60_000);
        assertThat(dryRun(jar, "submit")).doesNotContainAnyElementsOf(flags);

        Files.delete(folder);
        jar.toFile().setLastModified(System.currentTimeMillis() - 60_000);
        assertThat(dryRun(jar, "submit")).noneMatch(a -> a.startsWith("-Djava.library.path="));
    }

    @Test
    void extraJvmOptionsComeAfterTheLaunchersOwn() throws Exception {
        Path jar = Files.createFile(dir.resolve("coop.jar"));
        List<String> cmd = dryRun(jar, List.of("COOP_JAVA_OPTS=-XX:TieredStopAtLevel=4 -Xmx1g"), "jobs");
        assertThat(cmd.indexOf("-XX:TieredStopAtLevel=4")).isGreaterThan(cmd.indexOf("-XX:TieredStopAtLevel=1"));
        assertThat(cmd).contains("-Xmx1g");
    }

    @Test
    void theCheckoutIsFoundFromALinkToTheLauncherFromPathAndFromItsOwnFolder() throws Exception {
        // A checkout of its own, with no sources and a jar newer than its POMs, so nothing builds.
        Path checkout = Files.createDirectories(dir.resolve("checkout"));
        Path launcher = Files.copy(LAUNCHER, checkout.resolve("coop"));
        assertThat(launcher.toFile().setExecutable(true)).isTrue();
        for (String pom : List.of("pom.xml", "proto/pom.xml", "scheduler/pom.xml", "agent/pom.xml", "cli/pom.xml",
                "bench/pom.xml")) {
            Path file = checkout.resolve(pom);
            Files.createDirectories(file.getParent());
            Files.writeString(file, "<project/>\n");
            assertThat(file.toFile().setLastModified(System.currentTimeMillis() - 60_000)).isTrue();
        }
        Files.createFile(Files.createDirectories(checkout.resolve("bench/target")).resolve("coop.jar"));
        Path bin = Files.createDirectories(dir.resolve("bin"));
        Path link = Files.createSymbolicLink(bin.resolve("coop"), launcher);
        List<String> classPath = List.of("-cp", checkout.toRealPath().resolve("bench/target/coop.jar").toString());

        // An operator's link elsewhere, called by its path and found on PATH.
        assertThat(launch(List.of(link.toString(), "jobs"), dir, List.of())).containsSubsequence(classPath);
        assertThat(launch(List.of("bash", "-c", "coop jobs"), dir, List.of("PATH=" + bin + ":" + System.getenv("PATH"))))
                .containsSubsequence(classPath);
        // A link to the link resolves all the way.
        Path second = Files.createSymbolicLink(dir.resolve("coop-again"), link);
        assertThat(launch(List.of(second.toString(), "jobs"), dir, List.of())).containsSubsequence(classPath);
        // The checkout's own launcher, as ./coop and as `bash coop` from its folder.
        assertThat(launch(List.of("./coop", "jobs"), checkout, List.of())).containsSubsequence(classPath);
        assertThat(launch(List.of("bash", "coop", "jobs"), checkout, List.of())).containsSubsequence(classPath);
    }

    /** The launcher's dry run of {@code command} from {@code cwd}, with its default jar (no COOP_JAR). */
    private static List<String> launch(List<String> command, Path cwd, List<String> env)
            throws IOException, InterruptedException {
        return dryRun(command, cwd, null, env);
    }

    private List<String> dryRun(Path jar, String... args) throws IOException, InterruptedException {
        return dryRun(jar, List.of(), args);
    }

    private List<String> dryRun(Path jar, List<String> env, String... args) throws IOException, InterruptedException {
        List<String> command = new ArrayList<>(List.of("bash", LAUNCHER.toString()));
        command.addAll(List.of(args));
        return dryRun(command, null, jar, env);
    }

    /**
     * The lines the launcher's dry run prints for {@code command}, run from {@code cwd} (null: this
     * JVM's), with COOP_JAR set to {@code jar} (null: unset) and {@code env}'s NAME=VALUE pairs.
     */
    private static List<String> dryRun(List<String> command, Path cwd, Path jar, List<String> env)
            throws IOException, InterruptedException {
        ProcessBuilder pb = new ProcessBuilder(command).redirectErrorStream(true);
        if (cwd != null) {
            pb.directory(cwd.toFile());
        }
        pb.environment().remove("COOP_JAR");
        if (jar != null) {
            pb.environment().put("COOP_JAR", jar.toString());
        }
        pb.environment().put("COOP_LAUNCHER_DRY_RUN", "1");
        pb.environment().remove("COOP_JAVA_OPTS");
        for (String e : env) {
            pb.environment().put(e.substring(0, e.indexOf('=')), e.substring(e.indexOf('=') + 1));
        }
        Process p = pb.start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(30, TimeUnit.SECONDS)).isTrue();
        assertThat(p.exitValue()).as(out).isZero();
        return out.lines().toList();
    }
}
