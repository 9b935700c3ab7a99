package coop.scheduler.allocation;

import coop.scheduler.domain.Placement;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.function.ToIntFunction;

/**
 * The allocator, v0: a pure function from a {@link ClusterSnapshot} to decisions. No I/O, no
 * clock, no threads; the same snapshot always gives the same plan.
 *
 * <p>One cycle, top to bottom:
 * <ol>
 *   <li>order pending jobs: accounts by GPU-seconds used under the live policy over their
 *       voted share (lowest first), then by job priority and submit time;</li>
 *   <li>admit each job whose GPUs of the wanted model are free; a multi-node job is placed
 *       all or nothing, on nodes of one site unless it allows crossing sites;</li>
 *   <li>the first job that does not fit, but would on an idle cluster, holds the free GPUs of
 *       the nodes it will use, so later jobs cannot keep taking them and it does not
 *       starve;</li>
 *   <li>every other job waits with a named veto.</li>
 * </ol>
 */
public final class Allocator implements SchedulingPolicy {

    @Override
    public String name() {
        return "coop";
    }


    public List<Decision> plan(ClusterSnapshot snapshot) {
        FreeGpus free = new FreeGpus(snapshot.nodes(), false);
        FreeGpus freeIgnoringHolds = new FreeGpus(snapshot.nodes(), false);
        FreeGpus capacity = new FreeGpus(snapshot.nodes(), true);
        List<Decision> decisions = new ArrayList<>();
        boolean reserved = false;
        for (JobRequest job : fairOrder(snapshot)) {
            Optional<List<Candidate>> fit = free.isEmpty() ? Optional.empty() : choose(job, free, Candidate::available);
            if (fit.isPresent()) {
                List<Placement> placements = free.take(job, fit.get());
                freeIgnoringHolds.takeExactly(placements);
                decisions.add(new Decision.Admit(job.id(), placements));
            } else if (choose(job, capacity, Candidate::available).isEmpty()) {
                decisions.add(new Decision.Wait(job.id(), Veto.NO_NODE_FITS, neverFits(job)));
            } else if (!reserved) {
                // The nodes that fill soonest: most GPUs free now.
                List<Candidate> target = choose(job, capacity, c -> -free.count(c.node(), c.model())).orElseThrow();
                int held = free.hold(job, target);
                decisions.add(new Decision.Reserve(job.id(), target.stream().map(Candidate::node).toList(),
                        snapshot.now(), "first in line: holding " + held + " of " + job.gpus() + " GPUs on "
                        + String.join(",", target.stream().map(Candidate::node).toList())
                        + " until the rest free up"));
                reserved = true;
            } else if (choose(job, freeIgnoringHolds, Candidate::available).isPresent()) {
                decisions.add(new Decision.Wait(job.id(), Veto.HELD_FOR_EARLIER_JOB,
                        "the free GPUs it fits on are held for a job earlier in fair-share order"));
            } else {
                decisions.add(new Decision.Wait(job.id(), Veto.TOO_FEW_FREE_GPUS, tooFewFree(job, free)));
            }
        }
        return decisions;
    }

    /** Accounts by usage over share, lowest first; within an account, priority then age. */
    static List<JobRequest> fairOrder(ClusterSnapshot snapshot) {
        Map<String, AccountStanding> accounts = snapshot.accounts();
        Comparator<JobRequest> byAccount = Comparator.comparingDouble(
                (JobRequest j) -> standing(accounts, j.account()).priorityKey()).thenComparing(JobRequest::account);
        Comparator<JobRequest> order = byAccount
                .thenComparing(Comparator.comparingInt(JobRequest::priority).reversed())
                .thenComparingLong(JobRequest::submittedAt)
                .thenComparingLong(JobRequest::id);
        return snapshot.pending().stream().sorted(order).toList();
    }

    private static AccountStanding standing(Map<String, AccountStanding> accounts, String account) {
        AccountStanding s = accounts.get(account);
        return s != null ? s : new AccountStanding(account, 0, 0);
    }

    /** A node and GPU model a rank could use, with how many of those GPUs are available. */
    record Candidate(String node, String site, String model, int available) {
    }

    /**
     * Picks {@code job.nodes()} distinct nodes that can each hold {@code gpusPerNode} GPUs of one
     * model, in one site unless the job crosses sites. Nodes and groups are ranked by
     * {@code rank}, lowest first: available GPUs for a best fit (whole nodes stay free for gangs).
     */
    private static Optional<List<Candidate>> choose(JobRequest job, FreeGpus gpus, ToIntFunction<Candidate> rank) {
        Map<String, List<Candidate>> groups = new TreeMap<>();
        for (Candidate c : gpus.candidates(job)) {
            String group = (job.crossSite() ? "" : c.site()) + "\u0000" + c.model();
            groups.computeIfAbsent(group, g -> new ArrayList<>()).add(c);
        }
        List<Candidate> best = null;
        long bestScore = Long.MAX_VALUE;
        for (List<Candidate> group : groups.values()) {
            if (group.size() < job.nodes()) {
                continue;
            }
            List<Candidate> chosen = group.stream()
                    .sorted(Comparator.comparingInt(rank).thenComparing(Candidate::node))
                    .limit(job.nodes()).toList();
            long score = chosen.stream().mapToLong(rank::applyAsInt).sum();
            if (score < bestScore) {
                best = chosen;
                bestScore = score;
            }
        }
        return Optional.ofNullable(best);
    }

    private static String neverFits(JobRequest job) {
        String model = job.models().isEmpty() ? "" : String.join("|", job.models()) + " ";
        if (job.nodes() == 1) {
            return "no offered node has " + job.gpusPerNode() + " " + model + "GPUs";
        }
        return "no " + (job.crossSite() ? "set of" : "site has") + " " + job.nodes() + " offered nodes with "
                + job.gpusPerNode() + " " + model + "GPUs each";
    }

    private static String tooFewFree(JobRequest job, FreeGpus free) {
        Candidate most = free.mostFree(job);
        String where = most == null ? "none of its model is free" : "most free: " + most.available() + " on " + most.node();
        return "needs " + job.shape() + (job.nodes() > 1 ? " per node" : "") + "; " + where;
    }

    /** Working copy of free GPU indices per node and model, consumed as the cycle admits jobs. */
    private static final class FreeGpus {
        private final Map<String, NodeView> nodes = new LinkedHashMap<>();
        private final Map<String, Map<String, TreeSet<Integer>>> free = new HashMap<>();

        FreeGpus(List<NodeView> views, boolean all) {
            for (NodeView n : views) {
                if (!n.schedulable()) {
                    continue;
                }
                nodes.put(n.name(), n);
                Map<String, TreeSet<Integer>> byModel = new TreeMap<>();
                for (GpuSlot g : n.gpus()) {
                    if (all || g.free()) {
                        byModel.computeIfAbsent(g.model(), m -> new TreeSet<>()).add(g.index());
                    }
                }
                free.put(n.name(), byModel);
            }
        }

        boolean isEmpty() {
            return free.values().stream().allMatch(m -> m.values().stream().allMatch(TreeSet::isEmpty));
        }

        int count(String node, String model) {
            TreeSet<Integer> s = free.get(node).get(model);
            return s == null ? 0 : s.size();
        }

        List<Candidate> candidates(JobRequest job) {
            List<Candidate> out = new ArrayList<>();
            for (NodeView n : nodes.values()) {
                Candidate best = null;
                for (var e : free.get(n.name()).entrySet()) {
                    int avail = e.getValue().size();
                    if (job.accepts(e.getKey()) && avail >= job.gpusPerNode()
                            && (best == null || avail < best.available())) {
                        best = new Candidate(n.name(), n.site(), e.getKey(), avail);
                    }
                }
                if (best != null) {
                    out.add(best);
                }
            }
            return out;
        }

        Candidate mostFree(JobRequest job) {
            Candidate most = null;
            for (NodeView n : nodes.values()) {
                for (var e : free.get(n.name()).entrySet()) {
                    if (job.accepts(e.getKey()) && !e.getValue().isEmpty()
                            && (most == null || e.getValue().size() > most.available())) {
                        most = new Candidate(n.name(), n.site(), e.getKey(), e.getValue().size());
                    }
                }
            }
            return most;
        }

        List<Placement> take(JobRequest job, List<Candidate> chosen) {
            List<Placement> out = new ArrayList<>();
            for (Candidate c : chosen) {
                TreeSet<Integer> set = free.get(c.node()).get(c.model());
                List<Integer> indices = new ArrayList<>();
                for (int i = 0; i < job.gpusPerNode(); i++) {
                    indices.add(set.pollFirst());
                }
                out.add(new Placement(c.node(), c.site(), c.model(), indices));
            }
            return out;
        }

        void takeExactly(List<Placement> placements) {
            for (Placement p : placements) {
                free.get(p.node()).get(p.gpuModel()).removeAll(p.gpuIndices());
            }
        }

        int hold(JobRequest job, List<Candidate> target) {
            int held = 0;
            for (Candidate c : target) {
                TreeSet<Integer> set = free.get(c.node()).get(c.model());
                for (int i = 0; i < job.gpusPerNode() && set != null && !set.isEmpty(); i++) {
                    set.pollFirst();
                    held++;
                }
            }
            return held;
        }
    }
}
