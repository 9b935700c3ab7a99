package coop.scheduler.allocation;

import java.util.List;

/**
 * A way to decide, from a snapshot, which jobs start, which attempts are preempted and why the
 * rest wait. coop's {@link Allocator} is one; the simulator compares it with baselines.
 */
public interface SchedulingPolicy {
    String name();

    List<Decision> plan(ClusterSnapshot snapshot);
}
