package coop.scheduler.sim;

import coop.scheduler.domain.Placement;
import java.util.List;

/**
 * One attempt of a replay: the GPUs it held over {@code [startMs, endMs)} (a preempted
 * attempt holds them through its grace period, and the work it did then is kept) and whether
 * the job completed with it.
 */
public record AttemptRecord(long jobId, int attempt, String account, List<Placement> placements, long startMs,
                            long endMs, boolean completed) {
    public AttemptRecord {
        placements = List.copyOf(placements);
    }

    public int gpus() {
        int n = 0;
        for (Placement p : placements) {
            n += p.gpuIndices().size();
        }
        return n;
    }
}
