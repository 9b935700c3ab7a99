package coop.agent;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class GpuSpecTest {

    /** Simulated specs must never look for a driver. */
    private static final NvidiaSmi NO_DRIVER = new NvidiaSmi("");

    @Test
    void simulatedA100NodeHasEightIndexedGpusWithMemory() {
        List<GpuDevice> gpus = GpuSpec.parse("sim:8xA100-80GB").resolve(NO_DRIVER);

        assertThat(gpus).hasSize(8);
        assertThat(gpus).extracting(GpuDevice::index).containsExactly(0, 1, 2, 3, 4, 5, 6, 7);
        assertThat(gpus).allSatisfy(gpu -> {
            assertThat(gpu.model()).isEqualTo("A100");
            assertThat(gpu.memoryMib()).isEqualTo(81920);
            assertThat(gpu.uuid()).isEmpty();
        });
    }

    @Test
    void modelWithoutMemoryHasZeroMemory() {
        assertThat(GpuSpec.parse("sim:4xH100").resolve(NO_DRIVER))
                .containsExactly(
                        new GpuDevice(0, "", "H100", 0), new GpuDevice(1, "", "H100", 0),
                        new GpuDevice(2, "", "H100", 0), new GpuDevice(3, "", "H100", 0));
    }

    @Test
    void l40sMemoryIsInBinaryGigabytes() {
        assertThat(GpuSpec.parse("sim:4xL40S-48GB").resolve(NO_DRIVER))
                .extracting(GpuDevice::model, GpuDevice::memoryMib)
                .containsOnly(org.assertj.core.groups.Tuple.tuple("L40S", 49152L));
    }

    @Test
    void groupsContinueTheIndices() {
        List<GpuDevice> gpus = GpuSpec.parse("sim:2xA100-80GB,2xL4-24GB").resolve(NO_DRIVER);

        assertThat(gpus).containsExactly(
                new GpuDevice(0, "", "A100", 81920), new GpuDevice(1, "", "A100", 81920),
                new GpuDevice(2, "", "L4", 24576), new GpuDevice(3, "", "L4", 24576));
    }

    @Test
    void autoIsRecognisedWithoutRunningAnything() {
        assertThat(GpuSpec.parse("auto")).isInstanceOf(GpuSpec.Auto.class);
        assertThat(GpuSpec.parse(" AUTO ")).isInstanceOf(GpuSpec.Auto.class);
    }

    @ParameterizedTest
    @ValueSource(strings = {
            "", " ", "8xA100", "sim:", "sim:A100", "sim:0xA100", "sim:8x", "sim:8xA100-80",
            "sim:8xA100-GB", "sim:8xA100,", "sim:2xA100 2xL4", "sim:-1xA100", "gpu:8xA100",
            "sim:99999999999xA100", "sim:2000xA100"})
    void badSpecsNameTheFlagAndTheExpectedForm(String spec) {
        assertThatThrownBy(() -> GpuSpec.parse(spec))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageStartingWith("--gpus")
                .hasMessageContaining("sim:NxMODEL");
    }

    @Test
    void nullSpecIsABadSpec() {
        assertThatThrownBy(() -> GpuSpec.parse(null))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageStartingWith("--gpus");
    }
}
