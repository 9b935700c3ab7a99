package coop.agent;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A job's {@code -o/-e} files, written by the rank's own bash through tee, while its own stdout and
 * stderr (what {@code coop logs} reads) still get everything and its exit code is the command's.
 * Also the memory a node tells the scheduler its ranks get.
 */
class OutputFilesTest {
    @TempDir
    Path dir;

    private int run(String command, Map<String, String> env) throws Exception {
        ProcessBuilder b = new ProcessBuilder("bash", "-c", command).directory(dir.toFile())
                .redirectOutput(dir.resolve("stdout").toFile()).redirectError(dir.resolve("stderr").toFile());
        b.environment().putAll(env);
        Process p = b.start();
        assertThat(p.waitFor(30, TimeUnit.SECONDS)).isTrue();
        return p.exitValue();
    }

    @Test
    void outputAndErrorGoToTheirFilesAndStillToTheRanksOwn() throws Exception {
        Files.createDirectories(dir.resolve("logs"));
        Map<String, String> env = new LinkedHashMap<>();
        String command = OutputFiles.wrap("echo out; echo err >&2; exit 3", "logs/o-$(touch pwned).txt",
                "logs/e.txt", env);

        assertThat(run(command, env)).isEqualTo(3);
        // The path is never read as shell code: the file has the literal name.
        assertThat(dir.resolve("pwned")).doesNotExist();
        assertThat(dir.resolve("logs/o-$(touch pwned).txt")).hasContent("out");
        assertThat(dir.resolve("logs/e.txt")).hasContent("err");
        assertThat(dir.resolve("stdout")).hasContent("out");
        assertThat(dir.resolve("stderr")).hasContent("err");
    }

    @Test
    void withOnlyAnOutputFileErrorGoesThereTooAndAppends() throws Exception {
        Files.writeString(dir.resolve("all.txt"), "earlier\n");
        Map<String, String> env = new LinkedHashMap<>();
        String command = OutputFiles.wrap("echo out; sleep 0.2; echo err >&2", "all.txt", "", env);

        assertThat(run(command, env)).isZero();
        assertThat(Files.readAllLines(dir.resolve("all.txt"))).containsExactly("earlier", "out", "err");
        assertThat(env).containsEntry(OutputFiles.OUTPUT, "all.txt").containsEntry(OutputFiles.ERROR, "all.txt");
    }

    @Test
    void anErrorFileAloneLeavesOutputAlone() throws Exception {
        Map<String, String> env = new LinkedHashMap<>();
        String command = OutputFiles.wrap("echo out; echo err >&2", "", "e.txt", env);

        assertThat(run(command, env)).isZero();
        assertThat(dir.resolve("e.txt")).hasContent("err");
        assertThat(env).doesNotContainKey(OutputFiles.OUTPUT);
        assertThat(dir.resolve("stdout")).hasContent("out");
    }

    @Test
    void aSignalToTheRanksShellReachesTheCommandsTrap() throws Exception {
        Map<String, String> env = new LinkedHashMap<>();
        String command = OutputFiles.wrap("trap 'echo caught; exit 7' USR1; touch ready; "
                + "while :; do sleep 0.05; done", "o.txt", "", env);
        ProcessBuilder b = new ProcessBuilder("bash", "-c", command).directory(dir.toFile())
                .redirectOutput(dir.resolve("stdout").toFile()).redirectError(dir.resolve("stderr").toFile());
        b.environment().putAll(env);
        Process p = b.start();
        org.awaitility.Awaitility.await().atMost(java.time.Duration.ofSeconds(20))
                .until(() -> Files.exists(dir.resolve("ready")));
        new ProcessBuilder("kill", "-USR1", Long.toString(p.pid())).start().waitFor();

        assertThat(p.waitFor(20, TimeUnit.SECONDS)).isTrue();
        assertThat(p.exitValue()).isEqualTo(7);
        assertThat(dir.resolve("o.txt")).hasContent("caught");
    }

    @Test
    void ranksGetTheConfinementsMemoryPerGpuElseTheNodesSharedOut() {
        assertThat(HostMemory.parseTotal("MemFree: 10 kB\nMemTotal:       16777216 kB\n")).isEqualTo(16L << 30);
        assertThat(HostMemory.parseTotal("nothing")).isZero();
        assertThat(HostMemory.totalBytes()).isPositive();
        Confinement confined = Confinement.of(Isolation.RUNC, Path.of("/usr/sbin/runc"), RunAs.agentUser(), 8L << 30);
        assertThat(Wire.memoryPerGpuMib(confined, 4, 64L << 30)).isEqualTo(8192);
        assertThat(Wire.memoryPerGpuMib(Confinement.none(), 4, 64L << 30)).isEqualTo(16384);
        assertThat(Wire.memoryPerGpuMib(Confinement.none(), 0, 0)).isZero();
        assertThat(new LaunchOrder(new RankId(1, 1, 0), "true", List.of(0), Map.of(), java.time.Duration.ZERO, null,
                Map.of(), "", null, 2L << 30).memoryLimit(8L << 30)).isEqualTo(2L << 30);
    }
}
