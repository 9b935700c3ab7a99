package coop.scheduler.domain;

/** One GPU of a node, as its agent reports it. */
public record Gpu(int index, String model, long memoryMib) {
}
