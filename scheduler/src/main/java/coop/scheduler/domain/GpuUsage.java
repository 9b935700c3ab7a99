package coop.scheduler.domain;

import java.util.Objects;
import java.util.OptionalInt;
import java.util.OptionalLong;

/**
 * How busy one GPU of a node was at its agent's latest sample: the percent of the sample
 * period a kernel ran and the memory in use, each empty when the driver does not state it (it
 * gives no utilization for a GPU in MIG mode). Advisory only: the allocator never reads it, so
 * a node whose agent reports none is scheduled exactly like one that does.
 */
public record GpuUsage(int index, OptionalInt utilizationPct, OptionalLong memoryUsedMib) {

    public GpuUsage {
        Objects.requireNonNull(utilizationPct, "utilizationPct");
        Objects.requireNonNull(memoryUsedMib, "memoryUsedMib");
    }

    /** Whether the values are possible at all: an index, 0 to 100 %, no negative memory. */
    public boolean plausible() {
        return index >= 0
                && (utilizationPct.isEmpty() || utilizationPct.getAsInt() >= 0 && utilizationPct.getAsInt() <= 100)
                && (memoryUsedMib.isEmpty() || memoryUsedMib.getAsLong() >= 0);
    }
}
