package coop.agent;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Discovery against a fake {@code nvidia-smi}: a shell script on an injected search path that
 * checks its arguments and prints output in the driver's format, so the real query and parse
 * path runs without a GPU.
 */
class NvidiaSmiTest {

    private static final String EXPECTED_ARGS =
            "--query-gpu=index,uuid,name,memory.total --format=csv,noheader,nounits";

    @TempDir
    Path dir;

    @Test
    void dgxA100ReportsEightA100sWithUuids() throws IOException {
        NvidiaSmi smi = fakeNvidiaSmi(fixture("dgx-a100-8x80gb.csv"));

        List<GpuDevice> gpus = GpuSpec.parse("auto").resolve(smi);

        assertThat(gpus).hasSize(8);
        assertThat(gpus).extracting(GpuDevice::index).containsExactly(0, 1, 2, 3, 4, 5, 6, 7);
        assertThat(gpus).allSatisfy(gpu -> {
            assertThat(gpu.model()).isEqualTo("A100");
            assertThat(gpu.memoryMib()).isEqualTo(81920);
            assertThat(gpu.uuid()).startsWith("GPU-");
        });
        assertThat(gpus.get(0).uuid()).isEqualTo("GPU-6513270e-269e-0d37-f2a7-4de452e6b438");
    }

    @Test
    void h100BoxReportsFourH100s() throws IOException {
        NvidiaSmi smi = fakeNvidiaSmi(fixture("h100-4x80gb-hbm3.csv"));

        assertThat(smi.query())
                .extracting(GpuDevice::index, GpuDevice::model, GpuDevice::memoryMib)
                .containsExactly(
                        org.assertj.core.groups.Tuple.tuple(0, "H100", 81559L),
                        org.assertj.core.groups.Tuple.tuple(1, "H100", 81559L),
                        org.assertj.core.groups.Tuple.tuple(2, "H100", 81559L),
                        org.assertj.core.groups.Tuple.tuple(3, "H100", 81559L));
    }

    @Test
    void missingCommandSaysSoAndPointsAtSimulation() throws IOException {
        Path empty = Files.createDirectories(dir.resolve("empty-bin"));
        NvidiaSmi smi = new NvidiaSmi(empty.toString());

        assertThat(smi.executable()).isEmpty();
        assertThatThrownBy(() -> GpuSpec.parse("auto").resolve(smi))
                .isInstanceOf(IllegalStateException.class)
                .hasMessage("--gpus auto: nvidia-smi not found on PATH; "
                        + "use --gpus sim:NxMODEL for a simulated node");
    }

    @Test
    void driverFailureIsReportedWithItsMessage() throws IOException {
        NvidiaSmi smi = script("echo 'NVIDIA-SMI has failed because it couldn'\"'\"'t communicate with the"
                + " NVIDIA driver.' >&2; exit 9");

        assertThatThrownBy(smi::query)
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("exit code 9")
                .hasMessageContaining("couldn't communicate with the NVIDIA driver");
    }

    @Test
    void garbageOutputIsRejectedNamingTheLine() throws IOException {
        NvidiaSmi smi = script("echo 'No devices were found'");

        assertThatThrownBy(smi::query)
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("No devices were found");
    }

    @Test
    void modelIsTheFirstWordOfTheMarketingName() {
        assertThat(NvidiaSmi.modelOf("NVIDIA A100-SXM4-80GB")).isEqualTo("A100");
        assertThat(NvidiaSmi.modelOf("NVIDIA A100 80GB PCIe")).isEqualTo("A100");
        assertThat(NvidiaSmi.modelOf("NVIDIA H100 80GB HBM3")).isEqualTo("H100");
        assertThat(NvidiaSmi.modelOf("NVIDIA L40S")).isEqualTo("L40S");
        assertThat(NvidiaSmi.modelOf("Tesla V100-SXM2-16GB")).isEqualTo("V100");
    }

    @Test
    void unknownMemoryReadsAsZero() {
        assertThat(NvidiaSmi.parse("0, GPU-1, NVIDIA A10, [N/A]\n"))
                .containsExactly(new GpuDevice(0, "GPU-1", "A10", 0));
    }

    private String fixture(String name) throws IOException {
        try (InputStream in = getClass().getResourceAsStream("/nvidia-smi/" + name)) {
            assertThat(in).as("fixture %s", name).isNotNull();
            Path copy = dir.resolve(name);
            Files.write(copy, in.readAllBytes());
            return "cat '" + copy + "'";
        }
    }

    /** A fake that insists on the exact query the agent must send, then runs {@code body}. */
    private NvidiaSmi fakeNvidiaSmi(String body) throws IOException {
        return script("if [ \"$*\" != '" + EXPECTED_ARGS + "' ]; then echo \"unexpected arguments: $*\" >&2;"
                + " exit 2; fi\n" + body);
    }

    private NvidiaSmi script(String body) throws IOException {
        Path bin = Files.createDirectories(dir.resolve("bin"));
        Path exe = bin.resolve("nvidia-smi");
        Files.writeString(exe, "#!/bin/sh\n" + body + "\n");
        Files.setPosixFilePermissions(exe, PosixFilePermissions.fromString("rwxr-xr-x"));
        // A directory without the command first, as on a real PATH.
        return new NvidiaSmi(dir.resolve("nothing-here") + java.io.File.pathSeparator + bin);
    }
}
