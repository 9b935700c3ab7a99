package coop.scheduler.allocation;

import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Where a job's ranks can go, as Nomad places a task group: which nodes are feasible (of a model
 * the job accepts, in window, with enough GPUs available in the given sense), ranked (tightest fit
 * first, which keeps whole nodes free for gangs), and the best set selected (one site and model
 * unless the job crosses sites). Multi-node jobs are placed all or nothing. A job that prefers a
 * site (its checkpoints are there) takes a set of that site's nodes over any better fit elsewhere,
 * but never waits for one: the preference ranks, it does not filter. {@link #veto} is the same
 * feasibility, node by node, with the reason each node is refused.
 */
final class Placer {
    private final Cluster cluster;
    private final Accounts accounts;
    private final Memos memos;

    Placer(Cluster cluster, Accounts accounts) {
        this.cluster = cluster;
        this.accounts = accounts;
        this.memos = cluster.memos;
    }

    /** Which GPUs count as available when placing. */
    enum Free {
        /** Free now, less what the reservation needs from a job that would not end before it starts. */
        NOW,
        /** Free now. */
        IGNORING_RESERVATION,
        /** Free now, or held by other accounts' borrowed attempts, or by attempts already stopping. */
        RECLAIMABLE,
        /** All of the node's GPUs of the model, idle or not. */
        EVER
    }

    /**
     * A node and GPU model a rank could use, with how many of those GPUs it may take, and its
     * rank among candidates (lower first): the available count for a best fit; for reclaiming,
     * the GPUs still missing, then whether attempts are stopping there, then the cheapest victim there
     * ({@link RunningAttempt#victimKey}).
     */
    record Candidate(NodeState state, String model, int available, long rank, long tieBreak) {
        Candidate(NodeState state, String model, int available) {
            this(state, model, available, available, 0);
        }

        String node() {
            return state.view.name();
        }

        String site() {
            return state.view.site();
        }
    }

    /** Where a gang's nodes must all be: one site (any, for a job that crosses sites) and one model. */
    record Group(String site, String model) implements Comparable<Group> {
        @Override
        public int compareTo(Group o) {
            int c = site.compareTo(o.site);
            return c != 0 ? c : model.compareTo(o.model);
        }
    }

    /**
     * Nodes alike for placement on idle GPUs: same site, same GPU count of one model. A node with
     * several models is a class of its own ({@code mixed}).
     */
    record NodeClass(String site, String model, int total, NodeState mixed) {
    }

    /**
     * Picks {@code job.nodes()} distinct nodes that can each hold {@code gpusPerNode} GPUs of
     * one model, in one site unless the job crosses sites: the tightest fit (fewest available
     * GPUs) wins. Null if there are not enough.
     */
    List<Candidate> choose(JobRequest job, Free mode) {
        if (mode == Free.NOW && cluster.freeAccepted(job) < job.gpus()) {
            return null;
        }
        List<Candidate> best = null;
        long bestScore = Long.MAX_VALUE;
        boolean bestPreferred = false;
        Comparator<Candidate> order = Comparator.comparingLong(Candidate::rank).thenComparingLong(Candidate::tieBreak)
                .thenComparing(Candidate::node);
        if (job.prefersSite()) {
            // Within a group that crosses sites, the preferred site's nodes come first.
            order = Comparator.<Candidate, Boolean>comparing(c -> !c.site().equals(job.preferredSite())).thenComparing(order);
        }
        for (List<Candidate> group : groups(job, mode)) {
            if (group.size() < job.nodes()) {
                continue;
            }
            List<Candidate> chosen = group.stream().sorted(order).limit(job.nodes()).toList();
            long score = chosen.stream().mapToLong(Candidate::rank).sum();
            boolean preferred = job.prefersSite() && chosen.stream().allMatch(c -> c.site().equals(job.preferredSite()));
            if (preferred && !bestPreferred || preferred == bestPreferred && score < bestScore) {
                best = chosen;
                bestScore = score;
                bestPreferred = preferred;
            }
        }
        return best;
    }

    /** The feasible nodes, each with its best model, grouped where a gang's ranks must be together. */
    Collection<List<Candidate>> groups(JobRequest job, Free mode) {
        Map<Group, List<Candidate>> groups = new HashMap<>();
        // Placing on free GPUs only looks at nodes that had any; candidates are sorted later,
        // so which nodes are visited matters, not in what order.
        Iterable<NodeState> visit = mode == Free.NOW || mode == Free.IGNORING_RESERVATION ? cluster.withFree
                : cluster.nodes.values();
        for (NodeState n : visit) {
            Candidate best = null;
            for (String model : n.models) {
                if (!job.accepts(model)) {
                    continue;
                }
                int avail = available(n, model, job, mode);
                if (avail >= job.gpusPerNode() && (best == null || avail < best.available())) {
                    best = mode == Free.RECLAIMABLE ? reclaimCandidate(n, model, job, avail)
                            : new Candidate(n, model, avail);
                }
            }
            if (best != null) {
                Group group = new Group(job.crossSite() ? "" : best.site(), best.model());
                groups.computeIfAbsent(group, g -> new ArrayList<>()).add(best);
            }
        }
        // Groups in order of site, then model: ties between groups go to the first.
        return new TreeMap<>(groups).values();
    }

    private int available(NodeState n, String model, JobRequest job, Free mode) {
        if (mode != Free.EVER && !n.view.fitsWindow(cluster.now, job.walltimeSeconds())) {
            return 0;
        }
        if (!job.servedBy(n.view)) {
            return 0;
        }
        switch (mode) {
            case EVER:
                return n.total(model);
            case RECLAIMABLE:
                if (cluster.delaysReservation(n, job)) {
                    return 0;
                }
                int reclaimable = 0;
                for (RunningAttempt a : n.othersPreemptible(model, job.account(), cluster.preempted)) {
                    if (accounts.yields(a, job)) {
                        reclaimable += n.here(a, model);
                    }
                }
                return n.free(model) + n.terminating(model, cluster.preempted, job.id()) + reclaimable;
            case IGNORING_RESERVATION:
                return n.free(model);
            default:
                int free = n.free(model);
                if (!cluster.delaysReservation(n, job)) {
                    return free;
                }
                return Math.min(free, cluster.reservation().spareOn(n.view.name()));
        }
    }

    private Candidate reclaimCandidate(NodeState n, String model, JobRequest job, int avail) {
        int missing = Math.max(0, job.gpusPerNode() - n.free(model) - n.terminating(model, cluster.preempted, job.id()));
        long cheapest = Long.MAX_VALUE;
        for (RunningAttempt a : n.othersPreemptible(model, job.account(), cluster.preempted)) {
            if (accounts.yields(a, job)) {
                cheapest = Math.min(cheapest, RunningAttempt.victimKey(a, cluster.now));
            }
        }
        // Fewest GPUs missing, then a node where attempts are stopping already: a second reclaim goes
        // where an earlier one made room, rather than on the start times of attempts alike.
        boolean makingRoom = false;
        for (RunningAttempt a : n.running) {
            makingRoom |= a.terminating() || cluster.preempted.containsKey(a.jobId());
        }
        return new Candidate(n, model, avail, missing * 2L + (makingRoom ? 0 : 1), cheapest);
    }

    /** Whether enough offered nodes could ever hold a job of this shape, all their GPUs idle. */
    boolean fits(JobRequest job, Shape shape) {
        return memos.fitsEver.computeIfAbsent(shape, s -> fitsEver(job));
    }

    /** Whether the job would fit on the free GPUs but for the reservation. */
    boolean fitsIgnoringReservation(JobRequest job, Shape shape) {
        if (cluster.freeAccepted(job) < job.gpus()) {
            return false;
        }
        return cluster.windowed ? choose(job, Free.IGNORING_RESERVATION) != null
                : memos.fitsIgnoringReservation.computeIfAbsent(shape,
                        s -> choose(job, Free.IGNORING_RESERVATION) != null);
    }

    /** The same rule as placing the job on idle nodes, counted over classes of alike nodes instead of nodes. */
    private boolean fitsEver(JobRequest job) {
        if (job.asksFeatures()) {
            // Classes of alike nodes do not tell what each runs or gives: such a job looks at the nodes themselves.
            return choose(job, Free.EVER) != null;
        }
        if (memos.classes == null) {
            memos.classes = new HashMap<>();
            for (NodeState n : cluster.nodes.values()) {
                if (n.models.length == 1) {
                    memos.classes.merge(new NodeClass(n.view.site(), n.models[0], n.total[0], null), 1,
                            Integer::sum);
                } else if (n.models.length > 1) {
                    memos.classes.put(new NodeClass(n.view.site(), null, 0, n), 1);
                }
            }
        }
        Map<Group, Integer> groups = new HashMap<>();
        for (var e : memos.classes.entrySet()) {
            NodeClass c = e.getKey();
            String[] models = c.mixed() == null ? new String[] {c.model()} : c.mixed().models;
            int[] totals = c.mixed() == null ? new int[] {c.total()} : c.mixed().total;
            String best = null;
            int bestTotal = 0;
            for (int m = 0; m < models.length; m++) {
                if (job.accepts(models[m]) && totals[m] >= job.gpusPerNode()
                        && (best == null || totals[m] < bestTotal)) {
                    best = models[m];
                    bestTotal = totals[m];
                }
            }
            if (best != null && groups.merge(new Group(job.crossSite() ? "" : c.site(), best), e.getValue(),
                    Integer::sum) >= job.nodes()) {
                return true;
            }
        }
        return false;
    }

    /** Every node of the snapshot counted by why it cannot take one of the job's ranks now. */
    NodeVetoes vetoes(JobRequest job, List<NodeView> all) {
        Memos.VetoKey key = new Memos.VetoKey(Shape.of(job), cluster.windowed ? job.walltimeSeconds() : -1,
                cluster.endsAfterReservation(job));
        return memos.nodeVetoes.computeIfAbsent(key, k -> {
            NodeVetoes counts = new NodeVetoes();
            for (NodeView view : all) {
                counts.add(veto(view, job), cluster.nodes.get(view.name()));
            }
            return counts;
        });
    }

    /** The first filter the node fails for one rank of the job; null if the rank could go there now. */
    NodeVeto veto(NodeView view, JobRequest job) {
        if (view.draining()) {
            return NodeVeto.DRAINING;
        }
        NodeState n = cluster.nodes.get(view.name());
        if (n == null || !view.fitsWindow(cluster.now, job.walltimeSeconds())) {
            return NodeVeto.OUTSIDE_WINDOW;
        }
        if (!job.servedBy(view.features())) {
            return NodeVeto.LACKS_FEATURE;
        }
        if (!job.servedBy(view)) {
            return NodeVeto.REFUSES_PURPOSE;
        }
        boolean accepted = false;
        boolean bigEnough = false;
        boolean free = false;
        int acceptedGpus = 0;
        for (String model : n.models) {
            if (job.accepts(model)) {
                accepted = true;
                acceptedGpus += n.total(model);
                bigEnough |= n.total(model) >= job.gpusPerNode();
                free |= n.free(model) >= job.gpusPerNode();
                if (available(n, model, job, Free.NOW) >= job.gpusPerNode()) {
                    return null;
                }
            }
        }
        return !accepted ? NodeVeto.MODEL_MISMATCH
                : !bigEnough ? acceptedGpus >= job.gpusPerNode() ? NodeVeto.MIXED_MODELS : NodeVeto.TOO_SMALL
                : free ? NodeVeto.RESERVED : NodeVeto.BUSY;
    }
}
