package coop.scheduler.allocation;

import coop.scheduler.domain.Placement;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * coop's allocator: a pure function from a {@link ClusterSnapshot} to decisions. No I/O, no
 * clock, no threads; the same snapshot always gives the same plan.
 *
 * <p>One cycle, top to bottom:
 * <ol>
 *   <li><b>Entitlement and fair level.</b> Each account is entitled to its voted share of the
 *       GPUs offered now ({@code E = share × C}); its <em>fair level</em> is its weighted max-min
 *       share of C for the current demand (at least E while it wants that much; what idle
 *       accounts leave flows to the others by share). A job is <em>due</em> when its account
 *       stays within its fair level counting the job at half, or when the account is owed time
 *       (it used less than its level would have given it) and stays within the level rounded
 *       up to a whole GPU (any size while it holds nothing). An attempt is <em>borrowed</em>
 *       when its account is over its fair level by more than half of it, unless the account is
 *       owed time and within that rounded-up level.</li>
 *   <li><b>Order.</b> Due jobs come first, then the rest; within each group accounts go by
 *       decayed usage over share (lowest first), then job priority, then age.</li>
 *   <li><b>Admit.</b> A job whose GPUs are free starts; beyond its entitlement it starts on
 *       borrowed GPUs, unless it asked not to be preempted.</li>
 *   <li><b>Reclaim.</b> A job within its entitlement that fits only with GPUs held by other
 *       accounts' borrowed attempts preempts the fewest of them: most over-entitled account
 *       first, most recently started first. It waits for them to stop; nobody later in the
 *       cycle may take those GPUs.</li>
 *   <li><b>Reserve and backfill (EASY).</b> The first job that can neither start nor reclaim
 *       gets the nodes where it can start earliest, at the time running walltimes allow;
 *       later jobs may use those nodes' GPUs only if they end before then, or leave enough
 *       for it.</li>
 *   <li>Every other job waits with a named veto.</li>
 * </ol>
 * Multi-node jobs are placed all or nothing, on one site unless they allow crossing sites.
 */
public final class Allocator implements SchedulingPolicy {

    @Override
    public String name() {
        return "coop";
    }

    @Override
    public List<Decision> plan(ClusterSnapshot snapshot) {
        return new Cycle(snapshot).run();
    }

    private static AccountStanding standing(Map<String, AccountStanding> accounts, String account) {
        AccountStanding s = accounts.get(account);
        return s != null ? s : new AccountStanding(account, 0, 0);
    }

    /**
     * A node and GPU model a rank could use, with how many of those GPUs it may take, and its
     * rank among candidates (lower first): the available count for a best fit; for reclaiming,
     * the GPUs still missing and then the newest borrowed attempt there (newest go first).
     */
    record Candidate(String node, String site, String model, int available, long rank, long tieBreak) {
        Candidate(String node, String site, String model, int available) {
            this(node, site, model, available, available, 0);
        }
    }

    /** One allocation cycle's working state. */
    private static final class Cycle {
        private final ClusterSnapshot snapshot;
        private final Map<String, NodeState> nodes = new LinkedHashMap<>();
        private final Map<String, Double> entitled = new HashMap<>();
        private final Map<String, Integer> held = new HashMap<>();
        private final List<Decision> decisions = new ArrayList<>();
        private final Set<Long> preempted = new HashSet<>();
        private Reservation reservation;
        private final double capacity;
        private final double totalUsage;
        /** Each account's weighted max-min share of the GPUs for the current demand. */
        private final Map<String, Double> fairLevel = new HashMap<>();
        /** Per-cycle memos: the why-pending prefix per account, and whether a job shape can ever fit. */
        private final Map<String, String> standingText = new HashMap<>();
        private final Map<String, Boolean> fitsEver = new HashMap<>();
        private final Map<String, String> tooFewFreeText = new HashMap<>();
        private final Map<String, Boolean> fitsIgnoringReservation = new HashMap<>();
        /** Job shapes (with account) that failed to reclaim: within a cycle, failures stay failures. */
        private final Set<String> reclaimFailed = new HashSet<>();
        private final Set<String> noFitNow = new HashSet<>();
        /** Free GPUs per model over all offered nodes, kept as GPUs are taken. */
        private final Map<String, Integer> freeTotal = new HashMap<>();
        /** Whether anything could be reclaimed this cycle: an attempt borrowing or already stopping. */
        private boolean mayReclaim;

        Cycle(ClusterSnapshot snapshot) {
            this.snapshot = snapshot;
            int offered = 0;
            for (NodeView n : snapshot.nodes()) {
                if (n.schedulable()) {
                    nodes.put(n.name(), new NodeState(n));
                    offered += n.gpus().size();
                }
            }
            for (RunningAttempt a : snapshot.running()) {
                held.merge(a.account(), a.gpus(), Integer::sum);
                for (Placement p : a.placements()) {
                    NodeState n = nodes.get(p.node());
                    if (n != null) {
                        n.running.add(a);
                    }
                }
            }
            capacity = offered;
            fairLevel.putAll(FairLevels.forDemand(capacity, held, snapshot.pending(), snapshot.accounts()));
            for (NodeState n : nodes.values()) {
                for (String model : n.models()) {
                    freeTotal.merge(model, n.free(model), Integer::sum);
                }
            }
            totalUsage = snapshot.accounts().values().stream().mapToDouble(AccountStanding::usedGpuSeconds).sum();
            snapshot.accounts().forEach((name, s) -> entitled.put(name, s.shareBasisPoints() / 10_000.0 * capacity));
        }

        List<Decision> run() {
            for (RunningAttempt a : snapshot.running()) {
                mayReclaim |= a.terminating() || borrowed(a);
            }
            List<JobRequest> within = new ArrayList<>();
            List<JobRequest> beyond = new ArrayList<>();
            for (JobRequest j : inFairOrder(snapshot.pending())) {
                (guaranteed(j) ? within : beyond).add(j);
            }
            for (JobRequest job : within) {
                if (guaranteed(job)) {
                    consider(job, true);
                } else {
                    // Jobs earlier in its account's order used up the entitlement: it borrows.
                    beyond.add(job);
                }
            }
            beyond = inFairOrder(beyond);
            for (JobRequest job : beyond) {
                consider(job, false);
            }
            return decisions;
        }

        /**
         * Whether a job starts as its account's due: the account stays within its entitlement
         * with the job counted at half. Entitlements are fractional and jobs are not, so without
         * the half an account entitled to 3.2 GPUs could never be due a 4-GPU job and would only
         * ever borrow for it. Mirrors {@link #borrowed}: what one rule gives, the other cannot
         * take back.
         */
        private boolean guaranteed(JobRequest job) {
            String a = job.account();
            return held(a) + job.gpus() / 2.0 <= fair(a)
                    || (behind(a) && (held(a) == 0 || held(a) + job.gpus() <= Math.ceil(fair(a))));
        }

        /**
         * Whether an account is owed GPU time: it used less than its fair level would have given it
         * (decayed alike), or, where that is not tracked, less than its voted share of all usage.
         * An account owed time may hold up to its level rounded up to a whole GPU (and one job of
         * any size while it holds nothing), so that whole-GPU jobs and jobs larger than the level
         * still average out to the level, as in the ideal schedule where GPUs are divisible.
         */
        private boolean behind(String account) {
            AccountStanding s = snapshot.accounts().get(account);
            if (s == null || s.shareBasisPoints() <= 0) {
                return false;
            }
            if (!Double.isNaN(s.fairGpuSeconds())) {
                return s.usedGpuSeconds() < s.fairGpuSeconds();
            }
            return totalUsage <= 0 || s.usedGpuSeconds() / totalUsage < s.shareBasisPoints() / 10_000.0;
        }

        /**
         * The jobs in fair-share order: accounts by usage over share, lowest first; within an
         * account, priority then age. Grouped by account first, so no comparison looks anything up.
         */
        private List<JobRequest> inFairOrder(List<JobRequest> jobs) {
            Map<String, List<JobRequest>> byAccount = new HashMap<>();
            for (JobRequest j : jobs) {
                byAccount.computeIfAbsent(j.account(), a -> new ArrayList<>()).add(j);
            }
            Comparator<JobRequest> within = Comparator.comparingInt(JobRequest::priority).reversed()
                    .thenComparingLong(JobRequest::submittedAt).thenComparingLong(JobRequest::id);
            List<String> accounts = new ArrayList<>(byAccount.keySet());
            Map<String, AccountStanding> standings = snapshot.accounts();
            accounts.sort(Comparator.comparingDouble((String a) -> Allocator.standing(standings, a).priorityKey())
                    .thenComparing(Comparator.naturalOrder()));
            List<JobRequest> out = new ArrayList<>(jobs.size());
            for (String a : accounts) {
                List<JobRequest> group = byAccount.get(a);
                group.sort(within);
                out.addAll(group);
            }
            return out;
        }

        private int held(String account) {
            return held.getOrDefault(account, 0);
        }

        /** The account's fair level now: at least its entitlement while it has that much demand. */
        private double fair(String account) {
            return fairLevel.getOrDefault(account, 0.0);
        }

        private double entitled(String account) {
            return entitled.getOrDefault(account, 0.0);
        }

        private void consider(JobRequest job, boolean due) {
            boolean withinNow = held(job.account()) + job.gpus() <= entitled(job.account());
            if (!withinNow && !job.preemptible()) {
                decisions.add(new Decision.Wait(job.id(), Veto.NOT_PREEMPTIBLE_BEYOND_ENTITLEMENT,
                        standing(job) + "it asked not to be preempted, so it runs only within the entitlement"));
                return;
            }
            // Free GPUs only shrink during a cycle, so a shape that found no place stays placeless.
            String shape = shapeOf(job);
            String fitKey = shape + (reservation != null
                    && snapshot.now() + job.walltimeSeconds() * 1000 > reservation.startAt ? "/late" : "/early");
            List<Candidate> fit = noFitNow.contains(fitKey) ? null : choose(job, Free.NOW);
            if (fit != null) {
                admit(job, fit, !withinNow);
                return;
            }
            noFitNow.add(fitKey);
            if (!fitsEver.computeIfAbsent(shape, s -> choose(job, Free.EVER) != null)) {
                decisions.add(new Decision.Wait(job.id(), Veto.NO_NODE_FITS, standing(job) + neverFits(job)));
                return;
            }
            if (due && mayReclaim && guaranteed(job) && reclaim(job)) {
                return;
            }
            if (reservation == null) {
                reserve(job);
                return;
            }
            if (fitsIgnoringReservation(job)) {
                decisions.add(new Decision.Wait(job.id(), Veto.RESERVED_FOR_EARLIER_JOB, standing(job)
                        + "the GPUs it fits on are reserved for job " + reservation.jobId
                        + " and it would not end before that starts"));
            } else {
                decisions.add(new Decision.Wait(job.id(), Veto.TOO_FEW_FREE_GPUS, standing(job) + tooFewFree(job)));
            }
        }

        private String standing(JobRequest job) {
            return standingText.computeIfAbsent(job.account(), a -> String.format(Locale.ROOT,
                    "%s holds %d GPUs of %.1f entitled; ", a, held(a), entitled(a)));
        }

        private void holdMore(String account, int gpus) {
            held.merge(account, gpus, Integer::sum);
            standingText.remove(account);
        }

        private static String shapeOf(JobRequest job) {
            return job.gpusPerNode() + "x" + job.nodes() + "/" + job.models() + "/" + job.crossSite();
        }

        private boolean fitsIgnoringReservation(JobRequest job) {
            return freeAccepted(job) >= job.gpus() && fitsIgnoringReservation.computeIfAbsent(shapeOf(job),
                    s -> choose(job, Free.IGNORING_RESERVATION) != null);
        }

        /** Free GPUs were taken: what was memoized about free GPUs no longer holds. */
        private void took(String model, int count) {
            freeTotal.merge(model, -count, Integer::sum);
            tooFewFreeText.clear();
            fitsIgnoringReservation.clear();
        }

        private void admit(JobRequest job, List<Candidate> chosen, boolean borrowed) {
            List<Placement> placements = new ArrayList<>();
            long end = snapshot.now() + job.walltimeSeconds() * 1000;
            for (Candidate c : chosen) {
                NodeState n = nodes.get(c.node());
                placements.add(new Placement(c.node(), c.site(), c.model(), n.take(c.model(), job.gpusPerNode())));
                took(c.model(), job.gpusPerNode());
                if (reservation != null && end > reservation.startAt && reservation.nodes.contains(c.node())) {
                    reservation.spare.merge(c.node(), -job.gpusPerNode(), Integer::sum);
                }
            }
            holdMore(job.account(), job.gpus());
            decisions.add(new Decision.Admit(job.id(), placements, borrowed));
        }

        /**
         * Frees GPUs for a job within its entitlement by preempting other accounts' borrowed
         * attempts. False when borrowers do not hold enough GPUs where the job could run.
         */
        private boolean reclaim(JobRequest job) {
            String key = shapeOf(job) + "/" + job.account() + "/" + job.walltimeSeconds();
            if (reclaimFailed.contains(key)) {
                return false;
            }
            List<Candidate> target = choose(job, Free.RECLAIMABLE);
            if (target == null) {
                reclaimFailed.add(key);
                return false;
            }
            List<RunningAttempt> victims = new ArrayList<>();
            for (Candidate c : target) {
                NodeState n = nodes.get(c.node());
                int missing = job.gpusPerNode() - n.free(c.model()) - n.terminating(c.model(), preempted);
                while (missing > 0) {
                    // Re-ranked after every pick: each preemption lowers its account's excess.
                    RunningAttempt v = n.othersPreemptible(c.model(), job.account(), preempted).stream()
                            .filter(this::borrowed)
                            .min(Comparator.comparingDouble((RunningAttempt a) -> -overEntitlement(a.account()))
                                    .thenComparing(Comparator.comparingLong(RunningAttempt::startedAt).reversed())
                                    .thenComparingLong(RunningAttempt::jobId))
                            .orElse(null);
                    if (v == null) {
                        // Each attempt looked borrowed alone, but not all of them together: give up.
                        for (RunningAttempt undo : victims) {
                            preempted.remove(undo.jobId());
                            holdMore(undo.account(), undo.gpus());
                        }
                        reclaimFailed.add(key);
                        return false;
                    }
                    missing -= n.here(v, c.model());
                    victims.add(v);
                    preempted.add(v.jobId());
                    holdMore(v.account(), -v.gpus());
                }
            }
            for (Candidate c : target) {
                took(c.model(), nodes.get(c.node()).claim(c.model(), job.gpusPerNode()));
            }
            for (RunningAttempt v : victims) {
                decisions.add(new Decision.Preempt(v.jobId(), v.attempt(), job.id(), "job " + job.id() + " of "
                        + job.account() + " is within its entitlement and needs the GPUs " + v.account()
                        + " borrowed"));
            }
            decisions.add(new Decision.Wait(job.id(), Veto.RECLAIMING, standing(job) + "reclaiming "
                    + job.gpus() + " GPUs from borrowers on " + String.join(",", target.stream()
                    .map(Candidate::node).toList()) + (victims.isEmpty() ? " (already stopping)"
                    : " (preempting " + victims.size() + " borrowed attempt" + (victims.size() > 1 ? "s" : "") + ")")));
            return true;
        }

        /**
         * Whether an attempt runs on borrowed GPUs now: its account would still hold more than
         * its entitlement with the attempt counted at half. Judged against the live entitlement,
         * so a new vote or a lost node changes it. Mirrors {@link #guaranteed}: once preempted,
         * the job is not due the GPUs back.
         */
        private boolean borrowed(RunningAttempt a) {
            String acct = a.account();
            return a.preemptible() && held(acct) - a.gpus() / 2.0 > fair(acct)
                    && !(behind(acct) && (held(acct) == a.gpus() || held(acct) <= Math.ceil(fair(acct))));
        }

        private double overEntitlement(String account) {
            double e = entitled(account);
            return e <= 0 ? Double.MAX_VALUE : held(account) / e;
        }

        /** The first job that cannot start gets nodes at the earliest time walltimes allow. */
        private void reserve(JobRequest job) {
            Map<String, List<Candidate>> groups = groups(job, Free.EVER);
            long bestStart = Long.MAX_VALUE;
            List<Candidate> best = null;
            for (List<Candidate> group : groups.values()) {
                List<Candidate> ready = group.stream()
                        .sorted(Comparator.comparingLong((Candidate c) -> readyAt(c, job.gpusPerNode()))
                                .thenComparing(Candidate::node))
                        .limit(job.nodes()).toList();
                if (ready.size() < job.nodes()) {
                    continue;
                }
                long start = ready.stream().mapToLong(c -> readyAt(c, job.gpusPerNode())).max().orElseThrow();
                if (best == null || start < bestStart) {
                    bestStart = start;
                    best = ready;
                }
            }
            reservation = new Reservation(job.id(), bestStart);
            for (Candidate c : best) {
                reservation.nodes.add(c.node());
                reservation.spare.put(c.node(), nodes.get(c.node()).freeAt(c.model(), bestStart)
                        - job.gpusPerNode());
            }
            String when = bestStart == Long.MAX_VALUE ? "when the running jobs end"
                    : "in " + Math.max(0, (bestStart - snapshot.now()) / 1000) + " s at the latest";
            decisions.add(new Decision.Reserve(job.id(), best.stream().map(Candidate::node).toList(),
                    bestStart, standing(job) + "first in line: " + job.shape() + " reserved on "
                    + String.join(",", reservation.nodes) + " " + when));
        }

        /** When a node will have {@code gpus} GPUs of the model free, by the walltimes of what runs there. */
        private long readyAt(Candidate c, int gpus) {
            NodeState n = nodes.get(c.node());
            int free = n.free(c.model());
            if (free >= gpus) {
                return snapshot.now();
            }
            List<long[]> ends = new ArrayList<>();
            for (RunningAttempt a : n.running) {
                int here = a.placements().stream().filter(p -> p.node().equals(c.node())
                        && p.gpuModel().equals(c.model())).mapToInt(p -> p.gpuIndices().size()).sum();
                if (here > 0) {
                    boolean stopping = a.terminating() || preempted.contains(a.jobId());
                    ends.add(new long[] {stopping ? snapshot.now() : a.endsBy(), here});
                }
            }
            ends.sort(Comparator.comparingLong(e -> e[0]));
            for (long[] e : ends) {
                free += (int) e[1];
                if (free >= gpus) {
                    return Math.max(snapshot.now(), e[0]);
                }
            }
            return Long.MAX_VALUE;
        }

        /** Which GPUs count as available when placing. */
        private enum Free { NOW, IGNORING_RESERVATION, RECLAIMABLE, EVER }

        private Candidate reclaimCandidate(NodeState n, String model, JobRequest job, int avail) {
            int missing = Math.max(0, job.gpusPerNode() - n.free(model) - n.terminating(model, preempted));
            long newest = Long.MIN_VALUE;
            for (RunningAttempt a : n.othersPreemptible(model, job.account(), preempted)) {
                if (borrowed(a)) {
                    newest = Math.max(newest, a.startedAt());
                }
            }
            return new Candidate(n.view.name(), n.view.site(), model, avail, missing, -newest);
        }

        private boolean delaysReservation(NodeState n, JobRequest job) {
            return reservation != null && reservation.nodes.contains(n.view.name())
                    && snapshot.now() + job.walltimeSeconds() * 1000 > reservation.startAt;
        }

        private int available(NodeState n, String model, JobRequest job, Free mode) {
            switch (mode) {
                case EVER:
                    return n.total(model);
                case RECLAIMABLE:
                    if (delaysReservation(n, job)) {
                        return 0;
                    }
                    int reclaimable = 0;
                    for (RunningAttempt a : n.othersPreemptible(model, job.account(), preempted)) {
                        if (borrowed(a)) {
                            reclaimable += n.here(a, model);
                        }
                    }
                    return n.free(model) + n.terminating(model, preempted) + reclaimable;
                case IGNORING_RESERVATION:
                    return n.free(model);
                default:
                    int free = n.free(model);
                    if (!delaysReservation(n, job)) {
                        return free;
                    }
                    return Math.min(free, Math.max(0, reservation.spare.getOrDefault(n.view.name(), 0)));
            }
        }

        private Map<String, List<Candidate>> groups(JobRequest job, Free mode) {
            Map<String, List<Candidate>> groups = new TreeMap<>();
            for (NodeState n : nodes.values()) {
                Candidate best = null;
                for (String model : n.models()) {
                    if (!job.accepts(model)) {
                        continue;
                    }
                    int avail = available(n, model, job, mode);
                    if (avail >= job.gpusPerNode() && (best == null || avail < best.available())) {
                        best = mode == Free.RECLAIMABLE ? reclaimCandidate(n, model, job, avail)
                                : new Candidate(n.view.name(), n.view.site(), model, avail);
                    }
                }
                if (best != null) {
                    String group = (job.crossSite() ? "" : best.site()) + "\u0000" + best.model();
                    groups.computeIfAbsent(group, g -> new ArrayList<>()).add(best);
                }
            }
            return groups;
        }

        /**
         * Picks {@code job.nodes()} distinct nodes that can each hold {@code gpusPerNode} GPUs of
         * one model, in one site unless the job crosses sites: the tightest fit (fewest available
         * GPUs) wins, which keeps whole nodes free for gangs.
         */
        private List<Candidate> choose(JobRequest job, Free mode) {
            if (mode == Free.NOW && freeAccepted(job) < job.gpus()) {
                return null;
            }
            List<Candidate> best = null;
            long bestScore = Long.MAX_VALUE;
            for (List<Candidate> group : groups(job, mode).values()) {
                if (group.size() < job.nodes()) {
                    continue;
                }
                List<Candidate> chosen = group.stream()
                        .sorted(Comparator.comparingLong(Candidate::rank).thenComparingLong(Candidate::tieBreak)
                                .thenComparing(Candidate::node))
                        .limit(job.nodes()).toList();
                long score = chosen.stream().mapToLong(Candidate::rank).sum();
                if (score < bestScore) {
                    best = chosen;
                    bestScore = score;
                }
            }
            return best;
        }

        private static String neverFits(JobRequest job) {
            String model = job.models().isEmpty() ? "" : String.join("|", job.models()) + " ";
            if (job.nodes() == 1) {
                return "no offered node has " + job.gpusPerNode() + " " + model + "GPUs";
            }
            return "no " + (job.crossSite() ? "set of" : "site has") + " " + job.nodes() + " offered nodes with "
                    + job.gpusPerNode() + " " + model + "GPUs each";
        }

        private int freeAccepted(JobRequest job) {
            int free = 0;
            for (var e : freeTotal.entrySet()) {
                if (job.accepts(e.getKey())) {
                    free += e.getValue();
                }
            }
            return free;
        }

        private String tooFewFree(JobRequest job) {
            return tooFewFreeText.computeIfAbsent(job.shape(), s -> describeFree(job));
        }

        private String describeFree(JobRequest job) {
            int most = 0;
            String where = null;
            for (NodeState n : nodes.values()) {
                for (String model : n.models()) {
                    if (job.accepts(model) && n.free(model) > most) {
                        most = n.free(model);
                        where = n.view.name();
                    }
                }
            }
            return "needs " + job.shape() + (job.nodes() > 1 ? " per node" : "") + "; "
                    + (where == null ? "no GPU it can use is idle" : "most idle: " + most + " on " + where);
        }
    }

    /** The one reservation of a cycle: nodes, start time, and GPUs on them beyond its need then. */
    private static final class Reservation {
        final long jobId;
        final long startAt;
        final Set<String> nodes = new TreeSet<>();
        final Map<String, Integer> spare = new HashMap<>();

        Reservation(long jobId, long startAt) {
            this.jobId = jobId;
            this.startAt = startAt;
        }
    }

    /** A node during a cycle: free GPU indices per model, and the attempts running on it. */
    private static final class NodeState {
        final NodeView view;
        final Map<String, TreeSet<Integer>> free = new TreeMap<>();
        final Map<String, Integer> total = new TreeMap<>();
        final List<RunningAttempt> running = new ArrayList<>();

        NodeState(NodeView view) {
            this.view = view;
            for (GpuSlot g : view.gpus()) {
                total.merge(g.model(), 1, Integer::sum);
                TreeSet<Integer> set = free.computeIfAbsent(g.model(), m -> new TreeSet<>());
                if (g.free()) {
                    set.add(g.index());
                }
            }
        }

        Set<String> models() {
            return total.keySet();
        }

        int total(String model) {
            return total.getOrDefault(model, 0);
        }

        int free(String model) {
            TreeSet<Integer> s = free.get(model);
            return s == null ? 0 : s.size();
        }

        List<Integer> take(String model, int count) {
            TreeSet<Integer> s = free.get(model);
            List<Integer> out = new ArrayList<>(count);
            for (int i = 0; i < count; i++) {
                out.add(s.pollFirst());
            }
            return out;
        }

        /** Takes up to {@code count} free GPUs of the model off the table for this cycle; returns how many. */
        int claim(String model, int count) {
            TreeSet<Integer> s = free.get(model);
            int taken = 0;
            for (; taken < count && s != null && !s.isEmpty(); taken++) {
                s.pollFirst();
            }
            return taken;
        }

        int here(RunningAttempt a, String model) {
            int n = 0;
            for (Placement p : a.placements()) {
                if (p.node().equals(view.name()) && p.gpuModel().equals(model)) {
                    n += p.gpuIndices().size();
                }
            }
            return n;
        }

        /** GPUs of the model held by attempts already told to stop. */
        int terminating(String model, Set<Long> preemptedNow) {
            int n = 0;
            for (RunningAttempt a : running) {
                if (a.terminating() || preemptedNow.contains(a.jobId())) {
                    n += here(a, model);
                }
            }
            return n;
        }

        /** Other accounts' preemptible attempts, not already stopping, holding GPUs of the model here. */
        List<RunningAttempt> othersPreemptible(String model, String exceptAccount, Set<Long> preemptedNow) {
            List<RunningAttempt> out = new ArrayList<>();
            for (RunningAttempt a : running) {
                if (a.preemptible() && !a.terminating() && !preemptedNow.contains(a.jobId())
                        && !a.account().equals(exceptAccount) && here(a, model) > 0) {
                    out.add(a);
                }
            }
            return out;
        }

        /** GPUs of the model free at {@code time}, counting attempts whose walltime ends by then. */
        int freeAt(String model, long time) {
            int n = free(model);
            for (RunningAttempt a : running) {
                if (a.terminating() || a.endsBy() <= time) {
                    n += here(a, model);
                }
            }
            return n;
        }
    }
}
