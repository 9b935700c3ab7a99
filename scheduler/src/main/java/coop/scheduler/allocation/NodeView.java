package coop.scheduler.allocation;

import java.util.List;

/** A node offered to the cooperative right now, with the state of each of its GPUs. */
public record NodeView(String name, String site, List<GpuSlot> gpus) {
    public NodeView {
        gpus = List.copyOf(gpus);
    }
}
