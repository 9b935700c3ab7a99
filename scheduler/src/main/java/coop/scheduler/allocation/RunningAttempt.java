package coop.scheduler.allocation;

import coop.scheduler.domain.Placement;
import java.util.List;

/**
 * An attempt holding GPUs now. {@code borrowed} attempts run beyond their account's
 * entitlement and may be preempted to give GPUs back; {@code terminating} ones have already
 * been told to stop and will free their GPUs within the grace period.
 */
public record RunningAttempt(long jobId, int attempt, String account, List<Placement> placements, long startedAt,
                             long walltimeSeconds, boolean borrowed, boolean preemptible, boolean terminating) {
    public RunningAttempt {
        placements = List.copyOf(placements);
    }

    public int gpus() {
        return placements.stream().mapToInt(p -> p.gpuIndices().size()).sum();
    }

    /** When the attempt will have ended at the latest, in epoch milliseconds. */
    public long endsBy() {
        return startedAt + walltimeSeconds * 1000;
    }
}
