package coop.scheduler.allocation;

import java.util.List;

/**
 * A node as the allocator sees it: its GPUs (free or not), and its operator's terms. A node is
 * offered to the cooperative only inside its availability windows ({@code offered}); a draining
 * node takes no new work; {@code reservedGpus} of it are kept for its operator's account first.
 */
public record NodeView(String name, String site, List<GpuSlot> gpus, String operatorAccount, int reservedGpus,
                       boolean offered, boolean draining) {
    public NodeView {
        gpus = List.copyOf(gpus);
        operatorAccount = operatorAccount == null ? "" : operatorAccount;
    }

    /** A node offered without conditions. */
    public NodeView(String name, String site, List<GpuSlot> gpus) {
        this(name, site, gpus, "", 0, true, false);
    }

    /** Whether new work may be placed here now. */
    public boolean schedulable() {
        return offered && !draining;
    }
}
