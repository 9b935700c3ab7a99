package coop.agent;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assumptions.assumeThat;
import static org.awaitility.Awaitility.await;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Ranks confined by runc and run as an unprivileged user, through the real runtime. Needs root
 * and Debian's {@code runc}; CI has both ({@code .ci/run}).
 */
class ConfinedLauncherTest {

    @TempDir
    Path workDir;

    private final List<ProcessLauncher> launchers = new ArrayList<>();
    private LocalUser nobody;

    @BeforeEach
    void needRootAndRunc() throws Exception {
        Prerequisites.require(LocalUser.current().isRoot(), "root (to switch users and run runc)");
        Prerequisites.require(Files.isExecutable(Path.of("/usr/sbin/runc")), "runc (apt install runc)");
        nobody = LocalUser.lookup("nobody").orElseThrow();
        // The temporary folder is closed to others; the agent's work folder is not.
        Files.setPosixFilePermissions(workDir, PosixFilePermissions.fromString("rwx--x--x"));
    }

    @AfterEach
    void close() {
        launchers.forEach(ProcessLauncher::close);
    }

    private ProcessLauncher launcher(Isolation isolation, long memoryPerGpu, Path devices) {
        RunAs runAs = RunAs.parse("*=nobody", false, LocalUser.current(), LocalUser::lookup);
        ProcessLauncher launcher = new ProcessLauncher(workDir, InstantSource.system(),
                new Confinement(isolation, Path.of("/usr/sbin/runc"), runAs, memoryPerGpu, 256, List.of(), devices),
                "test-node");
        launchers.add(launcher);
        return launcher;
    }

    private static LaunchOrder order(long job, String command, List<Integer> gpus) {
        return new LaunchOrder(new RankId(job, 1, 0), command, gpus, Map.of("COOP_ACCOUNT", "lab-a"), Duration.ZERO);
    }

    private static String stdout(RankProcess p) throws Exception {
        return Files.readString(p.directory().resolve("stdout"), UTF_8) + Files.readString(p.directory().resolve("stderr"), UTF_8);
    }

    @Test
    void rankRunsAsTheMappedUserInAFolderClosedToOthersUnderEitherLauncher() throws Exception {
        for (Isolation isolation : Isolation.values()) {
            ProcessLauncher launcher = launcher(isolation, 256L << 20, workDir);
            RankProcess p = launcher.start(order(isolation.ordinal() + 1, "id -u; id -g; echo $HOME", List.of()));

            assertThat(p.onExit().get(20, TimeUnit.SECONDS)).as(isolation + ": " + stdout(p)).isZero();
            assertThat(stdout(p)).as(isolation.flag()).startsWith(nobody.uid() + "\n" + nobody.gid() + "\n");
            assertThat(Files.getAttribute(p.directory(), "unix:uid")).isEqualTo(nobody.uid());
            assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(p.directory())))
                    .isEqualTo("rwx------");
        }
    }

    @Test
    void rankStartsInItsWorkingFolderAndWritesThereWithTheSubmittersVariablesUnderEitherLauncher() throws Exception {
        Path project = Files.createDirectories(workDir.resolve("shared/project"));
        Files.setPosixFilePermissions(workDir.resolve("shared"), PosixFilePermissions.fromString("rwx--x--x"));
        Files.setAttribute(project, "unix:uid", nobody.uid());
        for (Isolation isolation : Isolation.values()) {
            ProcessLauncher launcher = launcher(isolation, 256L << 20, workDir);
            RankProcess p = launcher.start(new LaunchOrder(new RankId(20 + isolation.ordinal(), 1, 0),
                    "pwd; echo $LR $HOME; touch made-by-" + isolation.flag() + "; echo ${MAVEN_OPTS-clean}", List.of(),
                    Map.of("COOP_ACCOUNT", "lab-a"), Duration.ZERO, Map.of("LR", "3e-4"), project.toString()));

            assertThat(p.onExit().get(20, TimeUnit.SECONDS)).as(isolation + ": " + stdout(p)).isZero();
            String home = isolation == Isolation.RUNC ? p.directory().toAbsolutePath().toString() : nobody.home();
            assertThat(stdout(p)).as(isolation.flag()).isEqualTo(project + "\n3e-4 " + home + "\nclean\n");
            assertThat(project.resolve("made-by-" + isolation.flag())).exists();
        }
    }

    @Test
    void theSubmittersVariablesReachOnlyTheRankNeverWhatRunsAsRootBeforeIt() throws Exception {
        for (Isolation isolation : Isolation.values()) {
            ProcessLauncher launcher = launcher(isolation, 256L << 20, workDir);
            // The dynamic linker complains of a library it cannot preload once per program it starts with
            // LD_PRELOAD set: once for the rank's program, once more under runc for the container's own
            // shell (as the rank's user); setsid, setpriv or runc, as root, would each add a line.
            RankProcess p = launcher.start(new LaunchOrder(new RankId(40 + isolation.ordinal(), 1, 0), "id -u",
                    List.of(), Map.of("COOP_ACCOUNT", "lab-a"), Duration.ZERO,
                    Map.of("LD_PRELOAD", "/nonexistent/coop-test.so", "LR", "3e-4"), ""));

            assertThat(p.onExit().get(20, TimeUnit.SECONDS)).as(isolation + ": " + stdout(p)).isZero();
            String stderr = Files.readString(p.directory().resolve("stderr"), UTF_8);
            int expected = isolation == Isolation.RUNC ? 2 : 1;
            assertThat(stderr.split("coop-test.so", -1)).as(isolation.flag() + ": " + stderr).hasSize(expected + 1);
            assertThat(Files.readString(p.directory().resolve("stdout"), UTF_8)).isEqualTo(nobody.uid() + "\n");
        }
    }

    @Test
    void aWorkingFolderBelowAFolderClosedToTheRanksUserIsRefusedUnderEitherLauncher() throws Exception {
        Path home = Files.createDirectories(workDir.resolve("home/ada"));
        Path project = Files.createDirectories(home.resolve("project"));
        Files.setPosixFilePermissions(workDir.resolve("home"), PosixFilePermissions.fromString("rwxr-xr-x"));
        Files.setPosixFilePermissions(home, PosixFilePermissions.fromString("rwx------"));
        Files.setPosixFilePermissions(project, PosixFilePermissions.fromString("rwxr-xr-x"));
        for (Isolation isolation : Isolation.values()) {
            ProcessLauncher launcher = launcher(isolation, 256L << 20, workDir);
            org.assertj.core.api.Assertions.assertThatThrownBy(() -> launcher.start(new LaunchOrder(
                    new RankId(50 + isolation.ordinal(), 1, 0), "ls", List.of(), Map.of("COOP_ACCOUNT", "lab-a"),
                    Duration.ZERO, Map.of(), project.toString())))
                    .isInstanceOf(ProcessLauncher.BadWorkingFolder.class)
                    .hasMessage("working folder " + project + " is not open to user " + nobody.name());
        }
    }

    @Test
    void theHostsRootIsNoWorkingFolderForAContainer() {
        ProcessLauncher launcher = launcher(Isolation.RUNC, 256L << 20, workDir);
        for (String folder : List.of("/", "/proc", "/sys/fs")) {
            org.assertj.core.api.Assertions.assertThatThrownBy(() -> launcher.start(new LaunchOrder(
                    new RankId(30, 1, 0), "true", List.of(), Map.of("COOP_ACCOUNT", "lab-a"), Duration.ZERO, Map.of(),
                    folder))).as(folder).hasMessage("working folder " + folder
                            + " cannot be mounted into the rank's container");
        }
    }

    @Test
    void rankPastItsMemoryLimitEndsAsOutOfMemory() throws Exception {
        ProcessLauncher launcher = launcher(Isolation.RUNC, 64L << 20, workDir);
        RankProcess p = launcher.start(order(3, "x=$(head -c 300000000 /dev/zero | tr '\\0' a); echo survived",
                List.of()));

        assertThat(p.onExit().get(60, TimeUnit.SECONDS)).isEqualTo(137);
        assertThat(p.why()).isEqualTo("OOM: exceeded 64 MiB");
        assertThat(stdout(p)).doesNotContain("survived");
    }

    @Test
    void aJobAskingLessMemoryThanTheNodesLimitRunsUnderItsOwn() throws Exception {
        ProcessLauncher launcher = launcher(Isolation.RUNC, 1L << 30, workDir);
        RankProcess p = launcher.start(new LaunchOrder(new RankId(4, 1, 0),
                "x=$(head -c 300000000 /dev/zero | tr '\\0' a); echo survived", List.of(),
                Map.of("COOP_ACCOUNT", "lab-a"), Duration.ZERO, null, Map.of(), "", null, 64L << 20));

        assertThat(p.onExit().get(60, TimeUnit.SECONDS)).isEqualTo(137);
        assertThat(p.why()).isEqualTo("OOM: exceeded 64 MiB");
    }

    @Test
    void outputFilesAreWrittenByTheRankAsItsUserUnderEitherLauncher() throws Exception {
        Path project = Files.createDirectories(workDir.resolve("shared/out"));
        Files.setPosixFilePermissions(workDir.resolve("shared"), PosixFilePermissions.fromString("rwx--x--x"));
        Files.setAttribute(project, "unix:uid", nobody.uid());
        for (Isolation isolation : Isolation.values()) {
            Map<String, String> env = new java.util.LinkedHashMap<>(Map.of("COOP_ACCOUNT", "lab-a"));
            String command = OutputFiles.wrap("echo out-" + isolation.flag() + "; echo err >&2; exit 4",
                    "o-" + isolation.flag() + ".txt", "", env);
            RankProcess p = launcher(isolation, 256L << 20, workDir).start(new LaunchOrder(
                    new RankId(60 + isolation.ordinal(), 1, 0), command, List.of(), env, Duration.ZERO, Map.of(),
                    project.toString()));

            assertThat(p.onExit().get(20, TimeUnit.SECONDS)).as(isolation + ": " + stdout(p)).isEqualTo(4);
            Path file = project.resolve("o-" + isolation.flag() + ".txt");
            assertThat(Files.readAllLines(file)).as(isolation.flag()).containsExactlyInAnyOrder("out-"
                    + isolation.flag(), "err");
            assertThat(Files.getAttribute(file, "unix:uid")).isEqualTo(nobody.uid());
            assertThat(stdout(p)).contains("out-" + isolation.flag(), "err");
        }
    }

    @Test
    void rankThatForksPastItsProcessLimitEndsWithThatReason() throws Exception {
        ProcessLauncher launcher = launcher(Isolation.RUNC, 256L << 20, workDir);
        // perl is in every Debian (perl-base is essential); it fails at once where bash would retry a fork.
        RankProcess p = launcher.start(order(9, "perl -e 'for (1..400) { defined(my $p = fork) or die \"fork: $!\\n\"; "
                + "if (!$p) { sleep 5; exit 0 } }'", List.of()));

        assertThat(p.onExit().get(30, TimeUnit.SECONDS)).isNotZero();
        assertThat(p.why()).isEqualTo("PID limit of 256 processes reached");
        assertThat(stdout(p)).contains("fork: Resource temporarily unavailable");
    }

    @Test
    void rankSeesOnlyItsOwnGpusDeviceNodes() throws Exception {
        Path devices = Files.createDirectories(workDir.resolve("dev"));
        for (int minor = 0; minor < 2; minor++) {
            Process mknod = new ProcessBuilder("mknod", devices.resolve("nvidia" + minor).toString(), "c", "195",
                    Integer.toString(minor)).inheritIO().start();
            assertThat(mknod.waitFor()).isZero();
        }
        ProcessLauncher launcher = launcher(Isolation.RUNC, 256L << 20, devices);
        // Opening its own GPU reaches the (absent) driver: "No such device or address", not a refusal.
        RankProcess p = launcher.start(order(4, "ls /dev | grep nvidia; exec 3</dev/nvidia1; "
                + "exec 3<>/dev/nvidia0", List.of(0)));

        assertThat(p.onExit().get(20, TimeUnit.SECONDS)).isNotZero();
        assertThat(stdout(p)).startsWith("nvidia0\n")
                .contains("/dev/nvidia1: No such file or directory")
                .contains("/dev/nvidia0: No such device or address")
                .doesNotContain("Operation not permitted");
    }

    @Test
    void rankCannotSeeAnotherJobsFolder() throws Exception {
        ProcessLauncher launcher = launcher(Isolation.RUNC, 256L << 20, workDir);
        RankProcess first = launcher.start(order(5, "echo secret > mine; sleep 30", List.of()));
        await().atMost(Duration.ofSeconds(10)).until(() -> Files.exists(first.directory().resolve("mine")));

        RankProcess second = launcher.start(order(6, "cat " + first.directory().resolve("mine") + "; ls "
                + workDir.resolve("jobs"), List.of()));

        assertThat(second.onExit().get(20, TimeUnit.SECONDS)).isZero();
        assertThat(stdout(second)).doesNotContain("secret").contains("No such file or directory")
                .startsWith("6.1.0\n");
        launcher.stop(first.rank(), first.pid(), ProcessLauncher.Signal.KILL);
        first.onExit().get(20, TimeUnit.SECONDS);
    }

    @Test
    void whatARankDetachesEndsWithIt() throws Exception {
        ProcessLauncher launcher = launcher(Isolation.RUNC, 256L << 20, workDir);
        RankProcess p = launcher.start(order(7, "setsid nohup sleep 611.5 >/dev/null 2>&1 & sleep 0.5; exit 0",
                List.of()));

        assertThat(p.onExit().get(20, TimeUnit.SECONDS)).isZero();
        await().atMost(Duration.ofSeconds(10)).until(() -> ProcessHandle.allProcesses()
                .noneMatch(h -> h.info().commandLine().orElse("").contains("611.5")));
    }

    @Test
    void containersLeftByAKilledAgentAreStoppedByTheNextOne() throws Exception {
        // The first launcher stands for an agent killed with kill -9: it never sees its rank end.
        ProcessLauncher crashed = launcher(Isolation.RUNC, 256L << 20, workDir);
        RankProcess p = crashed.start(order(10, "sleep 300 & sleep 300; wait", List.of()));
        Path state = Runc.STATE.resolve("coop-test-node-10.1.0");
        await().atMost(Duration.ofSeconds(10)).until(() -> Files.exists(state));

        List<RankRecords.Record> stopped = launcher(Isolation.RUNC, 256L << 20, workDir).stopLeftovers(Duration.ofSeconds(5));

        assertThat(stopped).singleElement().satisfies(r -> assertThat(r.end()).isEqualTo("stopped: agent restarted"));
        assertThat(p.onExit().get(10, TimeUnit.SECONDS)).isNotZero();
        await().atMost(Duration.ofSeconds(10)).until(() -> !Files.exists(state));
    }

    @Test
    void sigtermReachesARankThatHasNoHandlerForIt() throws Exception {
        ProcessLauncher launcher = launcher(Isolation.RUNC, 256L << 20, workDir);
        RankProcess p = launcher.start(order(8, "sleep 300", List.of()));
        await().atMost(Duration.ofSeconds(10)).until(() -> launcher.stop(p.rank(), p.pid(), ProcessLauncher.Signal.TERM));

        assertThat(p.onExit().get(10, TimeUnit.SECONDS)).isEqualTo(143);
    }
}
