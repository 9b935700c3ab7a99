package coop.scheduler.allocation;

import java.util.ArrayList;
import java.util.List;

/**
 * EASY backfilling: the job first in line that cannot start gets the nodes where it can start
 * earliest, at the time running walltimes allow; later jobs may use those nodes' GPUs only if
 * they end before then, or leave enough for it.
 */
final class Backfill {
    private final Cluster cluster;
    private final Placer placer;
    private final WhyPending why;

    Backfill(Cluster cluster, Placer placer, WhyPending why) {
        this.cluster = cluster;
        this.placer = placer;
        this.why = why;
    }

    /** A candidate node for the reservation, with when it will have the GPUs. */
    private record Ready(Placer.Candidate candidate, long at) {
        /** Earlier first, then by node name. */
        boolean lessThan(Ready other) {
            return at != other.at ? at < other.at : candidate.node().compareTo(other.candidate.node()) < 0;
        }
    }

    /**
     * Reserves for the job the nodes where it can start earliest: the reservation's decision, or
     * a wait if no node it fits on stays offered long enough.
     */
    Decision reserve(JobRequest job) {
        long bestStart = Long.MAX_VALUE;
        List<Placer.Candidate> best = null;
        for (List<Placer.Candidate> group : placer.groups(job, Placer.Free.EVER)) {
            if (group.size() < job.nodes()) {
                continue;
            }
            // The job.nodes() candidates ready first (then by name), kept in order as the
            // group is read once: a group can hold every node of a large cluster.
            List<Ready> first = new ArrayList<>(job.nodes() + 1);
            for (Placer.Candidate c : group) {
                // No node is ready before its first attempt ends, unless it already has the GPUs.
                if (first.size() == job.nodes() && c.state().earliestEnd > first.get(first.size() - 1).at()
                        && c.state().free(c.model()) < job.gpusPerNode()) {
                    continue;
                }
                Ready r = new Ready(c, readyAt(c, job.gpusPerNode()));
                if (c.state().view.offeredUntil() != Long.MAX_VALUE
                        && (r.at() == Long.MAX_VALUE || !c.state().view.fitsWindow(r.at(), job.walltimeSeconds()))) {
                    continue;   // its window closes before the job would end
                }
                if (first.size() == job.nodes() && !r.lessThan(first.get(first.size() - 1))) {
                    continue;
                }
                int at = first.size();
                while (at > 0 && r.lessThan(first.get(at - 1))) {
                    at--;
                }
                first.add(at, r);
                if (first.size() > job.nodes()) {
                    first.remove(first.size() - 1);
                }
            }
            if (first.size() < job.nodes()) {
                continue;
            }
            long start = first.get(first.size() - 1).at();
            if (best == null || start < bestStart) {
                bestStart = start;
                best = first.stream().map(Ready::candidate).toList();
            }
        }
        if (best == null) {
            return why.outsideWindows(job);
        }
        Reservation reservation = new Reservation(job.id(), bestStart);
        for (Placer.Candidate c : best) {
            reservation.nodes.add(c.node());
            reservation.spare.put(c.node(), c.state().freeAt(c.model(), bestStart) - job.gpusPerNode());
        }
        cluster.reserve(reservation);
        return why.reserved(job, reservation, best.stream().map(Placer.Candidate::node).toList());
    }

    /**
     * When a node will have {@code gpus} GPUs of the model free, by the walltimes of what runs
     * there and of what this cycle placed or claimed there. Every busy GPU is one of those, so
     * a node that has the GPUs at all always gets a time: a reservation "when the running jobs
     * end" would block nothing, and the job it is for would starve behind backfill.
     */
    private long readyAt(Placer.Candidate c, int gpus) {
        NodeState n = c.state();
        int free = n.free(c.model());
        if (free >= gpus) {
            return cluster.now;
        }
        // The attempts and holds here by end time, insertion-sorted: a node runs only a few.
        int count = 0;
        int size = n.running.size() + n.holds.size();
        long[] ends = new long[size];
        int[] held = new int[size];
        int model = n.index(c.model());
        for (int i = 0; i < size; i++) {
            int here;
            long end;
            if (i < n.running.size()) {
                RunningAttempt a = n.running.get(i);
                here = n.here(a, c.model());
                boolean stopping = a.terminating() || cluster.preempted.containsKey(a.jobId());
                end = stopping ? cluster.now : a.endsBy();
            } else {
                NodeState.Hold hold = n.holds.get(i - n.running.size());
                here = hold.model() == model ? hold.count() : 0;
                end = hold.endsBy();
            }
            if (here > 0) {
                int at = count++;
                while (at > 0 && ends[at - 1] > end) {
                    ends[at] = ends[at - 1];
                    held[at] = held[at - 1];
                    at--;
                }
                ends[at] = end;
                held[at] = here;
            }
        }
        for (int i = 0; i < count; i++) {
            free += held[i];
            if (free >= gpus) {
                return Math.max(cluster.now, ends[i]);
            }
        }
        return Long.MAX_VALUE;
    }

    /**
     * Whether a job, once the reservation is made, surely cannot start: it wants more GPUs
     * than are free, or more per node than any node can give it, and asked to be preemptible
     * (whose veto does not depend on what its account holds), unless no GPU is free at all.
     */
    boolean waitsBehind(Queue q, int i) {
        return cluster.reservation() != null && (cluster.freeSum() == 0 || q.preemptible(i)
                && (q.gpus(i) > cluster.freeSum() || q.gpusPerNode(i) > mostPerNode(q.walltime(i))));
    }

    /**
     * The most GPUs of one node a job could take now, by whether it would end after the
     * reservation starts. Recomputed only after GPUs were taken.
     */
    private int mostPerNode(long walltimeSeconds) {
        Memos memos = cluster.memos;
        Reservation reservation = cluster.reservation();
        if (memos.mostPerNodeEarly < 0) {
            memos.mostPerNodeEarly = 0;
            memos.mostPerNodeLate = 0;
            for (NodeState n : cluster.withFree) {
                int spare = reservation.nodes.contains(n.view.name()) ? reservation.spareOn(n.view.name())
                        : Integer.MAX_VALUE;
                for (int f : n.free) {
                    memos.mostPerNodeEarly = Math.max(memos.mostPerNodeEarly, f);
                    memos.mostPerNodeLate = Math.max(memos.mostPerNodeLate, Math.min(f, spare));
                }
            }
        }
        return cluster.now + walltimeSeconds * 1000 > reservation.startAt ? memos.mostPerNodeLate
                : memos.mostPerNodeEarly;
    }
}
