package coop.scheduler.allocation;

import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;

/**
 * What one cycle found out once and reads again for the next job of the same shape. Two kinds,
 * with one rule between them: what depends only on the offered nodes, or on free GPUs only ever
 * shrinking, holds for the whole cycle; what depends on how many GPUs are free now, or on the
 * reservation, is dropped by {@link #freeChanged} whenever GPUs are taken or reserved.
 */
final class Memos {
    // Hold for the whole cycle.
    /** Whether a job shape fits the offered nodes at all, all their GPUs idle. */
    final Map<Shape, Boolean> fitsEver = new HashMap<>();
    /** Offered nodes counted by site and GPUs per model: what "can it ever fit" depends on. */
    Map<Placer.NodeClass, Integer> classes;
    /** Shapes that found no place now, for jobs ending before the reservation starts or after: free GPUs only shrink. */
    final Set<Shape> noFitNowEarly = new HashSet<>();
    final Set<Shape> noFitNowLate = new HashSet<>();
    /** Job shapes (with account) that failed to reclaim: within a cycle, failures stay failures. */
    final Set<ReclaimKey> reclaimFailed = new HashSet<>();

    // Dropped by freeChanged().
    /** Why a shape waits for GPUs: the free GPUs it could use. */
    final Map<Shape, String> tooFewFreeText = new HashMap<>();
    /** Whether a shape would fit on the free GPUs but for the reservation. */
    final Map<Shape, Boolean> fitsIgnoringReservation = new HashMap<>();
    /** The node vetoes a job meets, by shape, walltime (where windows close) and whether it ends after the reservation. */
    final Map<VetoKey, NodeVetoes> nodeVetoes = new HashMap<>();
    /** The most GPUs of one node a job could take now, ending before or after the reservation starts; -1 once stale. */
    int mostPerNodeEarly = -1;
    int mostPerNodeLate = -1;

    /** The key under which a failed reclaim stays failed for the rest of a cycle. */
    record ReclaimKey(Shape shape, String account, boolean endsAfterReservation) {
    }

    /** What a job's node vetoes depend on besides the free GPUs. */
    record VetoKey(Shape shape, long walltimeSeconds, boolean endsAfterReservation) {
    }

    /** GPUs were taken or reserved: what was memoized about free GPUs no longer holds. */
    void freeChanged() {
        tooFewFreeText.clear();
        fitsIgnoringReservation.clear();
        nodeVetoes.clear();
        mostPerNodeEarly = -1;
    }
}
