package coop.scheduler.domain;

import java.util.List;

/** Where one rank of an attempt runs: a node, its site, and the GPUs it holds there. */
public record Placement(String node, String site, String gpuModel, List<Integer> gpuIndices) {
    public Placement {
        gpuIndices = List.copyOf(gpuIndices);
    }
}
