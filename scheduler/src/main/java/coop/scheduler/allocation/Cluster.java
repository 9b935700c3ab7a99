package coop.scheduler.allocation;

import coop.scheduler.domain.Placement;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The offered nodes during one cycle: what is free on them, which attempts the cycle told to
 * stop, and the reservation once made. Free GPUs only shrink during a cycle, and every take goes
 * through {@link #took}, which also drops what the memos knew about them.
 */
final class Cluster {
    final long now;
    /** The policy's bounds on preemption. */
    final PreemptionRules rules;
    /** The offered nodes (online, in window, not draining), in snapshot order. */
    final Map<String, NodeState> nodes = new LinkedHashMap<>();
    /** Offered nodes with a free GPU when the cycle began, in snapshot order; only they can take work now. */
    final List<NodeState> withFree = new ArrayList<>();
    /** Whether some offered node's window closes: then what one shape found does not hold for the next. */
    final boolean windowed;
    /** The GPUs offered to the cooperative: operators' reserves are not. */
    final int capacity;
    /** GPUs each account holds, less what operators run on their own reserve. */
    final Map<String, Integer> held = new HashMap<>();
    /** Accounts that operate a node with part of its reserve unused. */
    final Set<String> operatorsWithRoom = new HashSet<>();
    /** Attempts this cycle told to stop (by job), each with the job their GPUs are freed for. */
    final Map<Long, Long> preempted = new HashMap<>();
    final Memos memos = new Memos();
    /** The cycle's one reservation; null until made. */
    private Reservation reservation;
    /** Free GPUs per model over all offered nodes, kept as GPUs are taken. */
    private final Map<String, Integer> freeTotal = new HashMap<>();
    private int freeSum;

    Cluster(ClusterSnapshot snapshot) {
        this.now = snapshot.now();
        this.rules = snapshot.rules();
        int offered = 0;
        boolean closes = false;
        for (NodeView n : snapshot.nodes()) {
            if (n.schedulable()) {
                NodeState state = new NodeState(n, now - rules.minRunMs());
                nodes.put(n.name(), state);
                closes |= n.offeredUntil() != Long.MAX_VALUE;
                offered += n.gpus().size() - n.reservedGpus();
                if (state.anyFree()) {
                    withFree.add(state);
                }
            }
        }
        windowed = closes;
        capacity = offered;
        for (RunningAttempt a : snapshot.running()) {
            held.merge(a.account(), a.gpus(), Integer::sum);
            for (Placement p : a.placements()) {
                NodeState n = nodes.get(p.node());
                if (n != null) {
                    n.running.add(a);
                    n.earliestEnd = Math.min(n.earliestEnd, a.terminating() ? now : a.endsBy());
                    if (n.reserve > 0 && a.account().equals(n.operator)) {
                        n.ownUse += p.gpuIndices().size();
                    }
                }
            }
        }
        // What operators use of their own reserve is theirs, not the cooperative's.
        for (NodeState n : nodes.values()) {
            if (n.reserve > 0) {
                n.ownUse = Math.min(n.ownUse, n.reserve);
                held.merge(n.operator, -n.ownUse, Integer::sum);
                if (n.ownUse < n.reserve) {
                    operatorsWithRoom.add(n.operator);
                }
            }
        }
        for (NodeState n : withFree) {
            for (int m = 0; m < n.models.length; m++) {
                freeTotal.merge(n.models[m], n.free[m], Integer::sum);
                freeSum += n.free[m];
            }
        }
    }

    Reservation reservation() {
        return reservation;
    }

    void reserve(Reservation r) {
        reservation = r;
        memos.freeChanged();
    }

    /** Free GPUs were taken: the tallies follow, and what was memoized about free GPUs no longer holds. */
    void took(String model, int count) {
        freeTotal.merge(model, -count, Integer::sum);
        freeSum -= count;
        memos.freeChanged();
    }

    /** GPUs set aside earlier in the cycle are free again (before anything was memoized about them). */
    void putBack(String model, int count) {
        freeTotal.merge(model, count, Integer::sum);
        freeSum += count;
        memos.freeChanged();
    }

    /** Free GPUs over all offered nodes. */
    int freeSum() {
        return freeSum;
    }

    /** Free GPUs of the models the job accepts, over all offered nodes. */
    int freeAccepted(JobRequest job) {
        int free = 0;
        for (var e : freeTotal.entrySet()) {
            if (job.accepts(e.getKey())) {
                free += e.getValue();
            }
        }
        return free;
    }

    /** When a job admitted now, or waiting now on GPUs it claimed, ends by its walltime. */
    long endOf(JobRequest job) {
        return now + job.walltimeSeconds() * 1000;
    }

    /** Whether a job started now would still run when the reservation starts (false without one). */
    boolean endsAfterReservation(JobRequest job) {
        return reservation != null && reservation.endsAfterStart(now, job);
    }

    /** Whether placing the job on the node would take GPUs the reservation needs there. */
    boolean delaysReservation(NodeState n, JobRequest job) {
        return reservation != null && reservation.delays(now, n, job);
    }

    /**
     * The GPUs a preemption frees on a node, held for the job it was for: as many as the job
     * takes there, until the policy's hold lapses.
     */
    GpuHold holdFor(JobRequest job, String node, String model) {
        return new GpuHold(job.id(), job.account(), node, model, job.gpusPerNode(), now + rules.holdMs());
    }

    /** An attempt is told to stop this cycle for job {@code forJob}: its GPUs count as freeing now, for that job. */
    void stopping(RunningAttempt v, long forJob) {
        preempted.put(v.jobId(), forJob);
        for (Placement p : v.placements()) {
            NodeState n = nodes.get(p.node());
            if (n != null) {
                n.earliestEnd = now;
            }
        }
    }
}
