package coop.scheduler.allocation;

/** One GPU of a node as the allocator sees it: its index, model and whether it is free. */
public record GpuSlot(int index, String model, boolean free) {
}
