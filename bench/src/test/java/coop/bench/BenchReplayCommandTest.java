package coop.bench;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code coop bench replay} refuses bad input with one line naming the option, before any cluster starts. */
class BenchReplayCommandTest {
    @TempDir
    Path dir;

    private Path trace(String... rows) throws Exception {
        Path t = dir.resolve("t.csv");
        Files.writeString(t, "submit_s,account,gpus,duration_s,gpu_model\n" + String.join("\n", rows) + "\n");
        return t;
    }

    @Test
    void refusesASpeedThatIsNotPositive() throws Exception {
        CliRun run = CliRun.of("bench", "replay", "--trace", trace("0,a,1,5,").toString(), "--shares", "a=100",
                "--speed", "0");
        assertThat(run.exitCode()).isNotZero();
        assertThat(run.err()).contains("--speed");
    }

    @Test
    void theDefaultSharesAreTheSlicesSoAnotherTraceNeedsItsOwn() throws Exception {
        CliRun run = CliRun.of("bench", "replay", "--trace", trace("0,lab-z,1,5,").toString());
        assertThat(run.exitCode()).isNotZero();
        assertThat(run.err()).contains("--shares").contains("lab-z");
    }

    @Test
    void refusesAJobLargerThanTheCluster() throws Exception {
        CliRun run = CliRun.of("bench", "replay", "--trace", trace("0,a,16,5,").toString(), "--shares", "a=100",
                "--nodes", "1x8");
        assertThat(run.exitCode()).isNotZero();
        assertThat(run.err()).contains("16 GPUs");
    }

    @Test
    void refusesADataFolderThatIsNotEmpty() throws Exception {
        Path data = Files.createDirectories(dir.resolve("data"));
        Files.writeString(data.resolve("precious.txt"), "keep me");
        CliRun run = CliRun.of("bench", "replay", "--trace", trace("0,a,1,5,").toString(), "--shares", "a=100",
                "--data", data.toString());
        assertThat(run.exitCode()).isNotZero();
        assertThat(run.err()).contains("--data").contains("not empty");
        assertThat(data.resolve("precious.txt")).exists();
    }
}
