package coop.agent;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

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
 * Container jobs' ranks through the real podman, in the small local image
 * {@code contrib/podman/test-image.sh} builds. Needs root, podman and that image; CI has all three
 * ({@code .ci/run}).
 */
class ContainerLauncherTest {

    static final String IMAGE = "localhost/coop-bb:1";
    static final Path PODMAN = Path.of("/usr/bin/podman");

    @TempDir
    Path workDir;

    @TempDir
    Path data;

    private final List<ProcessLauncher> launchers = new ArrayList<>();
    private LocalUser nobody;

    @BeforeEach
    void needRootPodmanAndImage() throws Exception {
        Prerequisites.require(LocalUser.current().isRoot(), "root (to run podman and switch users)");
        Prerequisites.require(Files.isExecutable(PODMAN), "podman (apt install podman)");
        Prerequisites.require(Runc.run(List.of(PODMAN.toString(), "image", "exists", IMAGE)) == 0,
                "the image " + IMAGE + " (contrib/podman/test-image.sh)");
        nobody = LocalUser.lookup("nobody").orElseThrow();
        Files.setPosixFilePermissions(workDir, PosixFilePermissions.fromString("rwx--x--x"));
        Files.setPosixFilePermissions(data, PosixFilePermissions.fromString("rwxr-xr-x"));
        Files.writeString(data.resolve("labels.txt"), "cat\ndog\n");
    }

    @AfterEach
    void close() {
        launchers.forEach(ProcessLauncher::close);
    }

    private ProcessLauncher launcher(String pull, Path devices) {
        RunAs runAs = RunAs.parse("*=nobody", false, LocalUser.current(), LocalUser::lookup);
        ProcessLauncher launcher = new ProcessLauncher(workDir, InstantSource.system(),
                new Confinement(Isolation.NONE, null, runAs, 0, 0, List.of(), devices)
                        .withContainers(new ContainerRuntime(PODMAN, List.of(data), pull)),
                "test-node");
        launchers.add(launcher);
        return launcher;
    }

    private static LaunchOrder order(long job, String command, List<Integer> gpus, Map<String, String> userEnv,
                                     String chdir, LaunchOrder.Container container) {
        return new LaunchOrder(new RankId(job, 1, 0), command, gpus, Map.of("COOP_ACCOUNT", "lab-a"), Duration.ZERO,
                null, userEnv, chdir, container);
    }

    private static String output(RankProcess p) throws Exception {
        return Files.readString(p.directory().resolve("stdout"), UTF_8)
                + Files.readString(p.directory().resolve("stderr"), UTF_8);
    }

    @Test
    void rankRunsInTheImageAsItsUserReadsItsMountAndSeesOnlyItsGpusVariables() throws Exception {
        // Two fake GPUs' device nodes: the rank is given GPU 1 and must see only that one.
        Path devices = Files.createDirectories(workDir.resolve("dev"));
        for (int i = 0; i < 2; i++) {
            Runc.run(List.of("mknod", devices.resolve("nvidia" + i).toString(), "c", "1", "3"));
        }
        ProcessLauncher launcher = launcher("never", devices);
        RankProcess p = launcher.start(order(1, "id -u; cat /data/labels.txt; echo gpus=$CUDA_VISIBLE_DEVICES; "
                        + "echo path=$PATH lr=$LR home=$HOME; ls /dev | grep nvidia; pwd; test -e /usr/bin/java || echo no-host",
                List.of(1), Map.of("LR", "3e-4"), "",
                new LaunchOrder.Container(IMAGE, List.of(new Confinement.Mount(data, Path.of("/data"), true)))));

        assertThat(p.onExit().get(60, TimeUnit.SECONDS)).as(output(p)).isZero();
        String dir = p.directory().toAbsolutePath().toString();
        assertThat(Files.readString(p.directory().resolve("stdout"), UTF_8)).isEqualTo(nobody.uid() + "\ncat\ndog\n"
                + "gpus=1\npath=/bin lr=3e-4 home=" + dir + "\nnvidia1\n" + dir + "\nno-host\n");
        // The container is removed once the rank ended.
        assertThat(Runc.run(List.of(PODMAN.toString(), "container", "exists", "coop-test-node-1.1.0"))).isNotZero();
    }

    @Test
    void aReadOnlyMountCannotBeWrittenAndTheRanksOwnFolderCan() throws Exception {
        ProcessLauncher launcher = launcher("never", workDir);
        RankProcess p = launcher.start(order(2, "touch /data/x 2>/dev/null && echo wrote || echo refused; "
                        + "echo out > made-here; touch $COOP_CHECKPOINT_DIR/ckpt && echo saved", List.of(), Map.of(), "",
                new LaunchOrder.Container(IMAGE, List.of(new Confinement.Mount(data, Path.of("/data"), true)))));

        assertThat(p.onExit().get(60, TimeUnit.SECONDS)).as(output(p)).isZero();
        assertThat(Files.readString(p.directory().resolve("stdout"), UTF_8)).isEqualTo("refused\nsaved\n");
        assertThat(data.resolve("x")).doesNotExist();
        assertThat(p.directory().resolve("made-here")).hasContent("out");
        assertThat(Files.getAttribute(p.directory().resolve("made-here"), "unix:uid")).isEqualTo(nobody.uid());
    }

    @Test
    void aStopReachesTheCommandThroughTheContainersFirstProcess() throws Exception {
        ProcessLauncher launcher = launcher("never", workDir);
        RankProcess p = launcher.start(order(3, "trap 'echo got-term; exit 7' TERM; echo ready; "
                + "while true; do sleep 0.1; done", List.of(), Map.of(), "", new LaunchOrder.Container(IMAGE, List.of())));
        org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(60))
                .until(() -> Files.readString(p.directory().resolve("stdout"), UTF_8).contains("ready"));

        assertThat(launcher.stop(p.rank(), p.pid(), ProcessLauncher.Signal.TERM)).isTrue();

        assertThat(p.onExit().get(30, TimeUnit.SECONDS)).as(output(p)).isEqualTo(7);
        assertThat(Files.readString(p.directory().resolve("stdout"), UTF_8)).contains("got-term");
    }

    @Test
    void aSignalForTheShellAloneReachesTheCommandThroughTheFirstProcess() throws Exception {
        ProcessLauncher launcher = launcher("never", workDir);
        RankProcess p = launcher.start(order(8, "trap 'echo got-usr1; exit 5' USR1; echo ready; "
                + "while true; do sleep 0.1; done", List.of(), Map.of(), "", new LaunchOrder.Container(IMAGE, List.of())));
        org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(60))
                .until(() -> Files.readString(p.directory().resolve("stdout"), UTF_8).contains("ready"));

        assertThat(launcher.signalShell(p.rank(), p.pid(), ProcessLauncher.Signal.USR1)).isTrue();

        assertThat(p.onExit().get(30, TimeUnit.SECONDS)).as(output(p)).isEqualTo(5);
        assertThat(Files.readString(p.directory().resolve("stdout"), UTF_8)).contains("got-usr1");
    }

    @Test
    void aMountOutsideTheAllowedFoldersAndAMissingImageAreTheJobsMistakes() throws Exception {
        ProcessLauncher launcher = launcher("never", workDir);
        Path elsewhere = Files.createDirectories(workDir.resolve("secrets"));

        assertThatThrownBy(() -> launcher.start(order(4, "true", List.of(), Map.of(), "", new LaunchOrder.Container(IMAGE,
                List.of(new Confinement.Mount(elsewhere, Path.of("/s"), true))))))
                .isInstanceOf(ProcessLauncher.JobMistake.class)
                .hasMessageContaining("mount " + elsewhere + " is not under a folder the node allows");
        // A link inside an allowed folder does not lead a mount out of it.
        Path link = Files.createSymbolicLink(data.resolve("link"), elsewhere);
        assertThatThrownBy(() -> launcher.start(order(5, "true", List.of(), Map.of(), "", new LaunchOrder.Container(IMAGE,
                List.of(new Confinement.Mount(link, Path.of("/s"), true))))))
                .isInstanceOf(ProcessLauncher.JobMistake.class);
        assertThatThrownBy(() -> launcher.start(order(6, "true", List.of(), Map.of(), "",
                new LaunchOrder.Container("localhost/coop-no-such-image:1", List.of()))))
                .isInstanceOf(ProcessLauncher.JobMistake.class)
                .hasMessageContaining("image localhost/coop-no-such-image:1 is not on the node");
    }

    @Test
    void aNodeWithoutARuntimeRefusesContainerRanks() {
        ProcessLauncher launcher = new ProcessLauncher(workDir, InstantSource.system(), Confinement.none(), "plain");
        launchers.add(launcher);

        assertThatThrownBy(() -> launcher.start(order(7, "true", List.of(), Map.of(), "",
                new LaunchOrder.Container(IMAGE, List.of()))))
                .isInstanceOf(ProcessLauncher.JobMistake.class)
                .hasMessageContaining("no container runtime");
    }
}
