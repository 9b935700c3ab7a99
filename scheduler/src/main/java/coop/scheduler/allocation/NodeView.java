package coop.scheduler.allocation;

import coop.scheduler.domain.NodeFeatures;
import java.util.List;
import java.util.Set;

/**
 * A node as the allocator sees it: its GPUs (free or not), and its operator's terms. A node is
 * offered to the cooperative only inside its availability windows ({@code offered}), and a job
 * placed on it must end by the time the current window closes ({@code offeredUntil}, epoch ms;
 * {@code Long.MAX_VALUE} when it does not close); a draining node takes no new work;
 * {@code reservedGpus} of it are its operator's account's first claim and are not counted in
 * the cooperative's capacity. {@code features} is what its agent offers besides GPUs (container
 * runtimes, host folders jobs may mount): a container job goes only where they serve it.
 * {@code refusedPurposes} are the declared purposes its operator's terms refuse: a job declaring
 * one never goes there.
 */
public record NodeView(String name, String site, List<GpuSlot> gpus, String operatorAccount, int reservedGpus,
                       boolean offered, boolean draining, long offeredUntil, NodeFeatures features,
                       Set<String> refusedPurposes) {
    public NodeView {
        features = features == null ? NodeFeatures.NONE : features;
        refusedPurposes = refusedPurposes == null ? Set.of() : Set.copyOf(refusedPurposes);
        gpus = List.copyOf(gpus);
        operatorAccount = operatorAccount == null ? "" : operatorAccount;
        reservedGpus = Math.max(0, Math.min(reservedGpus, gpus.size()));
    }

    /** A node whose operator refuses no purpose. */
    public NodeView(String name, String site, List<GpuSlot> gpus, String operatorAccount, int reservedGpus,
                    boolean offered, boolean draining, long offeredUntil, NodeFeatures features) {
        this(name, site, gpus, operatorAccount, reservedGpus, offered, draining, offeredUntil, features, Set.of());
    }

    /** A node that offers nothing besides its GPUs. */
    public NodeView(String name, String site, List<GpuSlot> gpus, String operatorAccount, int reservedGpus,
                    boolean offered, boolean draining, long offeredUntil) {
        this(name, site, gpus, operatorAccount, reservedGpus, offered, draining, offeredUntil, NodeFeatures.NONE);
    }

    /** A node whose window, if any, does not close. */
    public NodeView(String name, String site, List<GpuSlot> gpus, String operatorAccount, int reservedGpus,
                    boolean offered, boolean draining) {
        this(name, site, gpus, operatorAccount, reservedGpus, offered, draining, Long.MAX_VALUE);
    }

    /** A node offered without conditions. */
    public NodeView(String name, String site, List<GpuSlot> gpus) {
        this(name, site, gpus, "", 0, true, false);
    }

    /** Whether new work may be placed here now. */
    public boolean schedulable() {
        return offered && !draining;
    }

    /** Whether a job starting at {@code now} ends, by its walltime, before the window closes. */
    public boolean fitsWindow(long now, long walltimeSeconds) {
        return offeredUntil == Long.MAX_VALUE || now + walltimeSeconds * 1000 <= offeredUntil;
    }
}
