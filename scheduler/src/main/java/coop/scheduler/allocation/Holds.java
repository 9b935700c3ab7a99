package coop.scheduler.allocation;

import java.util.ArrayList;
import java.util.List;

/**
 * The GPU holds in force, kept by whoever applies plans (the event loop, the simulator): a
 * {@link Decision.Hold} adds them, the job's start drops them, and they lapse at their time. Not
 * stored: a restarted scheduler has none, and its first cycles may preempt again.
 */
public final class Holds {
    private final List<GpuHold> holds = new ArrayList<>();

    /** The plan held GPUs for a job: they replace any it held before. */
    public void apply(Decision.Hold hold) {
        holds.removeIf(h -> h.jobId() == hold.jobId());
        holds.addAll(hold.gpus());
    }

    /** The job started, or left the queue: its GPUs are held no more. */
    public void release(long jobId) {
        holds.removeIf(h -> h.jobId() == jobId);
    }

    /** The holds still in force at {@code now}; lapsed ones are dropped. */
    public List<GpuHold> live(long now) {
        holds.removeIf(h -> h.until() <= now);
        return List.copyOf(holds);
    }

    public boolean isEmpty() {
        return holds.isEmpty();
    }
}
