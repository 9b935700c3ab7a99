package coop.agent;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The folder dcgm-exporter's --hpc-job-mapping-dir reads: one file per GPU, named by index, a job id a line. */
class GpuJobMapTest {

    @TempDir
    Path dir;

    @Test
    void eachHeldGpuHasAFileNamingItsJobsUntilTheyEnd() throws Exception {
        GpuJobMap map = new GpuJobMap(dir);
        map.clear();
        map.add(41, List.of(0, 1));
        map.add(42, List.of(1));
        assertThat(Files.readString(dir.resolve("0"))).isEqualTo("41\n");
        assertThat(Files.readString(dir.resolve("1"))).isEqualTo("41\n42\n");
        assertThat(dir.resolve("2")).doesNotExist();

        map.remove(41, List.of(0, 1));
        assertThat(dir.resolve("0")).doesNotExist();
        assertThat(Files.readString(dir.resolve("1"))).isEqualTo("42\n");
        map.remove(42, List.of(1));
        try (var left = Files.list(dir)) {
            assertThat(left).isEmpty();
        }
    }

    @Test
    void clearingRemovesWhatAnEarlierAgentLeftButNoOtherFiles() throws Exception {
        Files.writeString(dir.resolve("3"), "17\n");
        Files.writeString(dir.resolve("README"), "managed by coop\n");
        new GpuJobMap(dir).clear();
        assertThat(dir.resolve("3")).doesNotExist();
        assertThat(dir.resolve("README")).exists();
    }
}
