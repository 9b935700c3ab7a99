package coop.agent;

import java.util.Objects;

/**
 * One GPU of this node as the agent reports it to the scheduler: the driver's index (the value
 * that goes into {@code CUDA_VISIBLE_DEVICES}), the model the allocator matches jobs against
 * (for example {@code "A100"}), and its memory. The UUID is kept for diagnostics; simulated GPUs
 * have an empty one, and a memory of 0 means "not stated".
 */
public record GpuDevice(int index, String uuid, String model, long memoryMib) {

    public GpuDevice {
        Objects.requireNonNull(uuid, "uuid");
        Objects.requireNonNull(model, "model");
        if (index < 0) {
            throw new IllegalArgumentException("GPU index must be >= 0, got " + index);
        }
        if (model.isBlank()) {
            throw new IllegalArgumentException("GPU model must not be blank");
        }
        if (memoryMib < 0) {
            throw new IllegalArgumentException("GPU memory must be >= 0 MiB, got " + memoryMib);
        }
    }
}
