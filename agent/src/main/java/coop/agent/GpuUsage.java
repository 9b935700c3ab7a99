package coop.agent;

import java.util.Objects;
import java.util.OptionalInt;
import java.util.OptionalLong;

/**
 * How busy one GPU was at the last sample: the driver's index, the percent of the sample
 * period a kernel ran, and the memory in use. Either value is empty when the driver does not
 * state it; nvidia-smi reports no utilization for a GPU in MIG mode, and an empty value must
 * not read as an idle GPU.
 */
public record GpuUsage(int index, OptionalInt utilizationPct, OptionalLong memoryUsedMib) {

    public GpuUsage {
        Objects.requireNonNull(utilizationPct, "utilizationPct");
        Objects.requireNonNull(memoryUsedMib, "memoryUsedMib");
        if (index < 0) {
            throw new IllegalArgumentException("GPU index must be >= 0, got " + index);
        }
        if (utilizationPct.isPresent() && (utilizationPct.getAsInt() < 0 || utilizationPct.getAsInt() > 100)) {
            throw new IllegalArgumentException("utilization must be 0..100 %, got " + utilizationPct.getAsInt());
        }
        if (memoryUsedMib.isPresent() && memoryUsedMib.getAsLong() < 0) {
            throw new IllegalArgumentException("memory used must be >= 0 MiB, got " + memoryUsedMib.getAsLong());
        }
    }

    /** A sample with both values stated. */
    public static GpuUsage of(int index, int utilizationPct, long memoryUsedMib) {
        return new GpuUsage(index, OptionalInt.of(utilizationPct), OptionalLong.of(memoryUsedMib));
    }
}
