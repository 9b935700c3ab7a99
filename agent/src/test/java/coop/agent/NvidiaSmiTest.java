package coop.agent;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.List;
import java.util.OptionalInt;
import java.util.OptionalLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Discovery against a fake {@code nvidia-smi}: a shell script on an injected search path that
 * checks its arguments and prints output in the driver's format, so the real query and parse
 * path runs without a GPU.
 */
class NvidiaSmiTest {

    private static final String EXPECTED_ARGS = String.join(" ", NvidiaSmi.QUERY);
    private static final String USAGE_ARGS = String.join(" ", NvidiaSmi.USAGE_QUERY);

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
        assertThat(NvidiaSmi.parse("0, GPU-1, NVIDIA L4, [N/A], [N/A]\n"))
                .containsExactly(new GpuDevice(0, "GPU-1", "L4", 0));
    }

    @Test
    void migModeGpusAreOfferedWholeOnceEachWithAWarning() throws IOException {
        NvidiaSmi smi = fakeNvidiaSmi(fixture("dgx-a100-8x80gb-mig-0to3.csv"));

        NvidiaSmi.Discovery found = smi.discover();

        assertThat(found.gpus()).extracting(GpuDevice::index).containsExactly(0, 1, 2, 3, 4, 5, 6, 7);
        assertThat(found.gpus()).allSatisfy(gpu -> assertThat(gpu.memoryMib()).isEqualTo(81920));
        assertThat(found.warnings()).hasSize(4).allSatisfy(w -> assertThat(w).contains("MIG mode", "one whole GPU"));
        assertThat(found.warnings().get(0))
                .startsWith("GPU 0 (GPU-6513270e-269e-0d37-f2a7-4de452e6b438) is in MIG mode");
    }

    @Test
    void aGpuTheDriverCannotOpenIsLeftOutNamedAndTheOthersAreOffered() throws IOException {
        // nvidia-smi exits with 15 (a GPU fell off the bus) even though the others are fine.
        NvidiaSmi smi = fakeNvidiaSmi(fixture("dgx-a100-8x80gb-gpu3-lost.csv") + "; exit 15");

        NvidiaSmi.Discovery found = smi.discover();

        assertThat(found.gpus()).extracting(GpuDevice::index).containsExactly(0, 1, 2, 4, 5, 6, 7);
        assertThat(found.warnings()).containsExactly(
                "leaving out GPU 0000:4E:00.0: nvidia-smi cannot open it (Unknown Error)");
    }

    @Test
    void aGpuThatNeedsAResetIsLeftOutNamedByIndexAndUuid() throws IOException {
        NvidiaSmi smi = fakeNvidiaSmi(fixture("h100-4x80gb-gpu2-requires-reset.csv"));

        NvidiaSmi.Discovery found = smi.discover();

        assertThat(found.gpus()).extracting(GpuDevice::index).containsExactly(0, 1, 3);
        assertThat(found.warnings()).containsExactly("leaving out GPU 2 (GPU-8e81973e-0bec-d7b0-3898-d190f9ebdacc):"
                + " nvidia-smi reports [GPU requires reset]");
    }

    @Test
    void theDeviceHandleComplaintIsAlsoFoundOnStderrAndInEveryDriversSpelling() throws IOException {
        NvidiaSmi smi = fakeNvidiaSmi("echo '0, GPU-a, NVIDIA L4, 23034, [N/A]';"
                + " echo 'Unable to determine the device handle for GPU0000:17:00.0: GPU is lost' >&2;"
                + " echo 'Unable to determine the device handle for GPU2: Unknown Error'; exit 15");

        NvidiaSmi.Discovery found = smi.discover();

        assertThat(found.gpus()).containsExactly(new GpuDevice(0, "GPU-a", "L4", 23034));
        assertThat(found.warnings()).containsExactlyInAnyOrder(
                "leaving out GPU0000:17:00.0: nvidia-smi cannot open it (GPU is lost)",
                "leaving out GPU2: nvidia-smi cannot open it (Unknown Error)");
    }

    @Test
    void whenNoGpuIsUsableDiscoveryFailsNamingEachOne() throws IOException {
        NvidiaSmi smi = fakeNvidiaSmi(
                "echo 'Unable to determine the device handle for GPU 0000:3B:00.0: Unknown Error';"
                        + " echo '1, GPU-b, NVIDIA A100-PCIE-40GB, [Unknown Error], [Unknown Error]'; exit 15");

        assertThatThrownBy(() -> GpuSpec.parse("auto").resolve(smi))
                .isInstanceOf(IllegalStateException.class)
                .hasMessage("--gpus auto: no usable GPU: leaving out GPU 0000:3B:00.0: nvidia-smi cannot open it"
                        + " (Unknown Error); leaving out GPU 1 (GPU-b): nvidia-smi reports [Unknown Error]");
    }

    @Test
    void aDriverThatKnowsNoMigIsAskedAgainWithoutThatField() throws IOException {
        NvidiaSmi smi = script("case \"$*\" in\n"
                + "'" + String.join(" ", NvidiaSmi.QUERY_WITHOUT_MIG) + "') echo '0, GPU-v, Tesla V100-SXM2-16GB, 16160';;\n"
                + "*) echo 'Field \"mig.mode.current\" is not a valid field to query.'; exit 2;;\nesac");

        assertThat(smi.query()).containsExactly(new GpuDevice(0, "GPU-v", "V100", 16160));
    }

    @Test
    void usageOfABusyDgxIsParsedPerGpu() throws IOException {
        NvidiaSmi smi = fakeUsage(fixture("dgx-a100-8x80gb-usage.csv"));

        List<GpuUsage> usage = smi.sampleUsage(Duration.ofSeconds(10));

        assertThat(usage).hasSize(8);
        assertThat(usage.get(0)).isEqualTo(GpuUsage.of(0, 100, 71233));
        assertThat(usage.get(6)).isEqualTo(GpuUsage.of(6, 37, 20417));
        assertThat(usage.get(7)).isEqualTo(GpuUsage.of(7, 0, 4));
    }

    @Test
    void usageOfMigModeGpusHasMemoryButNoUtilization() throws IOException {
        List<GpuUsage> usage = fakeUsage(fixture("dgx-a100-8x80gb-mig-0to3-usage.csv")).sampleUsage(Duration.ofSeconds(10));

        assertThat(usage.get(0)).isEqualTo(new GpuUsage(0, OptionalInt.empty(), OptionalLong.of(31011)));
        assertThat(usage.get(4)).isEqualTo(GpuUsage.of(4, 100, 71233));
        assertThat(NvidiaSmi.parseUsage("0, 12, [N/A]\n"))
                .containsExactly(new GpuUsage(0, OptionalInt.of(12), OptionalLong.empty()));
    }

    @Test
    void aFailingGpuIsMissingFromTheUsageAndTheOthersAreStillSampled() throws IOException {
        assertThat(fakeUsage(fixture("h100-4x80gb-gpu2-requires-reset-usage.csv")).sampleUsage(Duration.ofSeconds(10)))
                .extracting(GpuUsage::index).containsExactly(0, 1, 3);
        assertThat(fakeUsage(fixture("dgx-a100-8x80gb-gpu3-lost-usage.csv") + "; exit 15")
                .sampleUsage(Duration.ofSeconds(10)))
                .extracting(GpuUsage::index).containsExactly(0, 1, 2, 4, 5, 6, 7);
        assertThat(NvidiaSmi.parseUsage("0, 101, 5\n1, -3, 5\n2, 50\n3, 50, 7\n")).containsExactly(GpuUsage.of(3, 50, 7));
    }

    @Test
    void usageSamplingFailsWhenNothingIsUsableOrTheCommandHangs() throws IOException {
        assertThatThrownBy(() -> fakeUsage("echo 'No devices were found'; exit 6").sampleUsage(Duration.ofSeconds(10)))
                .hasMessageContaining("exit code 6").hasMessageContaining("No devices were found");
        assertThatThrownBy(() -> fakeUsage("echo 'garbage'").sampleUsage(Duration.ofSeconds(10)))
                .hasMessageContaining("garbage");
        NvidiaSmi hung = fakeUsage("sleep 30");
        long started = System.nanoTime();
        assertThatThrownBy(() -> hung.sampleUsage(Duration.ofMillis(300)))
                .hasMessageContaining("did not answer within 300 ms");
        assertThat(Duration.ofNanos(System.nanoTime() - started)).isLessThan(Duration.ofSeconds(10));
    }

    private String fixture(String name) throws IOException {
        try (InputStream in = getClass().getResourceAsStream("/nvidia-smi/" + name)) {
            assertThat(in).as("fixture %s", name).isNotNull();
            Path copy = dir.resolve(name);
            Files.write(copy, in.readAllBytes());
            return "cat '" + copy + "'";
        }
    }

    /** A fake that insists on the exact usage query, then runs {@code body}. */
    private NvidiaSmi fakeUsage(String body) throws IOException {
        return script("if [ \"$*\" != '" + USAGE_ARGS + "' ]; then echo \"unexpected arguments: $*\" >&2;"
                + " exit 2; fi\n" + body);
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
