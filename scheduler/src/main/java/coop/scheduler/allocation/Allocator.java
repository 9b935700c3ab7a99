package coop.scheduler.allocation;

import coop.scheduler.domain.Placement;
import java.util.AbstractList;
import java.util.ArrayList;
import java.util.Collection;
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
 *   <li><b>Operators' reserves.</b> A node's operator account has first claim on the GPUs the
 *       node reserves for it: its single-node jobs go there first, taking the reserve back from
 *       other accounts' preemptible attempts if needed. Reserves are not part of the
 *       cooperative's capacity, and what an operator runs on its own reserve is not charged to
 *       its share.</li>
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
 *       decayed usage over share (lowest first), then job priority, then age. An account's due
 *       jobs go strictly in its order: one that is not due, or cannot start, holds the later
 *       ones back to the rest.</li>
 *   <li><b>Admit.</b> A job whose GPUs are free starts; beyond its entitlement it starts on
 *       borrowed GPUs, unless it asked not to be preempted.</li>
 *   <li><b>Reclaim.</b> A job within its entitlement that fits only with GPUs held by other
 *       accounts' borrowed attempts preempts the fewest of them: most over-entitled account
 *       first, most recently started first. It waits for them to stop; nobody later in the
 *       cycle may take those GPUs.</li>
 *   <li><b>Reserve and backfill (EASY).</b> The oldest due job that can neither start nor
 *       reclaim (or, if none, the first other job) gets the nodes where it can start earliest,
 *       at the time running walltimes allow; later jobs may use those nodes' GPUs only if they
 *       end before then, or leave enough for it.</li>
 *   <li>Every other job waits with a named veto.</li>
 * </ol>
 * Multi-node jobs are placed all or nothing, on one site unless they allow crossing sites. A
 * job goes only on nodes whose availability window stays open until its walltime ends.
 *
 * <p>The cycle reads each pending job once or twice; jobs that surely cannot start once the
 * reservation is made are not decided one by one: {@link Plan} explains them on demand.
 */
public final class Allocator implements SchedulingPolicy {

    @Override
    public String name() {
        return "coop";
    }

    @Override
    public Plan plan(ClusterSnapshot snapshot) {
        return new Cycle(snapshot).run();
    }

    /** What placement depends on, so that what one job of a shape found holds for the next. */
    private record Shape(int gpusPerNode, int nodes, List<String> models, boolean crossSite) {
        static Shape of(JobRequest job) {
            return new Shape(job.gpusPerNode(), job.nodes(), job.models(), job.crossSite());
        }
    }

    /** The key under which a failed reclaim stays failed for the rest of a cycle. */
    private record ReclaimKey(Shape shape, String account, boolean endsAfterReservation) {
    }

    /**
     * A node and GPU model a rank could use, with how many of those GPUs it may take, and its
     * rank among candidates (lower first): the available count for a best fit; for reclaiming,
     * the GPUs still missing and then the newest borrowed attempt there (newest go first).
     */
    private record Candidate(NodeState state, String model, int available, long rank, long tieBreak) {
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

    /** An account during one cycle: what it is entitled to, its fair level, and what it holds. */
    private static final class Acct {
        final String name;
        final double entitled;
        final double fair;
        final boolean behind;
        final double priorityKey;
        int held;
        /** The why-pending prefix, while {@code held} is unchanged. */
        String standingText;

        Acct(String name, double entitled, double fair, boolean behind, double priorityKey, int held) {
            this.name = name;
            this.entitled = entitled;
            this.fair = fair;
            this.behind = behind;
            this.priorityKey = priorityKey;
            this.held = held;
        }
    }

    /** One allocation cycle's working state. */
    private static final class Cycle {
        private final ClusterSnapshot snapshot;
        private final Map<String, NodeState> nodes = new LinkedHashMap<>();
        /** Nodes with a free GPU when the cycle began, in snapshot order; only they can take work now. */
        private final List<NodeState> withFree = new ArrayList<>();
        private final Map<String, Acct> accounts = new HashMap<>();
        private final List<Decision> decisions = new ArrayList<>();
        private final Set<Long> preempted = new HashSet<>();
        private Reservation reservation;
        /** Per-cycle memos: whether a job shape can ever fit, and what was found about free GPUs. */
        private final Map<Shape, Boolean> fitsEver = new HashMap<>();
        private final Map<Shape, String> tooFewFreeText = new HashMap<>();
        private final Map<Shape, Boolean> fitsIgnoringReservation = new HashMap<>();
        /** Job shapes (with account) that failed to reclaim: within a cycle, failures stay failures. */
        private final Set<ReclaimKey> reclaimFailed = new HashSet<>();
        /** Whether some offered node's window closes: then the per-shape memos do not hold. */
        private boolean windowed;
        /** Shapes that found no place now, for jobs ending before the reservation starts or after. */
        private final Set<Shape> noFitNowEarly = new HashSet<>();
        private final Set<Shape> noFitNowLate = new HashSet<>();
        /** Free GPUs per model over all offered nodes, kept as GPUs are taken. */
        private final Map<String, Integer> freeTotal = new HashMap<>();
        private int freeSum;
        /** {@link #mostPerNode}'s figures; negative when GPUs were taken since they were counted. */
        private int mostPerNodeEarly = -1;
        private int mostPerNodeLate = -1;
        /** Each account's pending jobs, in queue order once sorted. */
        private final Map<String, Queue> queues = new HashMap<>();
        /** Offered nodes counted by site and GPUs per model: what "can it ever fit" depends on. */
        private Map<NodeClass, Integer> classes;
        /** Whether anything could be reclaimed this cycle: an attempt borrowing or already stopping. */
        private boolean mayReclaim;
        /** Accounts that operate a node with part of its reserve unused. */
        private final Set<String> operatorsWithRoom = new HashSet<>();
        /** Set by {@link #consider}: a due job that could be reserved for, left to the due pass. */
        private JobRequest blockedDue;
        /** Set by {@link #consider}: the job fits the cluster and waits only for GPUs to free up. */
        private boolean waitsForGpus;
        /** Set after the due pass: a due job still waits for GPUs, and will have them before any job that is not due. */
        private boolean dueWaiting;

        Cycle(ClusterSnapshot snapshot) {
            this.snapshot = snapshot;
            int offered = 0;
            for (NodeView n : snapshot.nodes()) {
                if (n.schedulable()) {
                    NodeState state = new NodeState(n);
                    nodes.put(n.name(), state);
                    windowed |= n.offeredUntil() != Long.MAX_VALUE;
                    offered += n.gpus().size() - n.reservedGpus();
                    if (state.anyFree()) {
                        withFree.add(state);
                    }
                }
            }
            Map<String, Integer> held = new HashMap<>();
            for (RunningAttempt a : snapshot.running()) {
                held.merge(a.account(), a.gpus(), Integer::sum);
                for (Placement p : a.placements()) {
                    NodeState n = nodes.get(p.node());
                    if (n != null) {
                        n.running.add(a);
                        n.earliestEnd = Math.min(n.earliestEnd, a.terminating() ? snapshot.now() : a.endsBy());
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
            double capacity = offered;
            // Demand: what accounts hold (an operator's own reserve left out) and what their queues want.
            Map<String, Double> demand = new HashMap<>();
            held.forEach((a, g) -> demand.merge(a, (double) g, Double::sum));
            if (snapshot.queues() != null) {
                for (AccountQueue given : snapshot.queues()) {
                    if (!given.jobs().isEmpty()) {
                        queues.put(given.account(), new Queue(given));
                    }
                }
            } else {
                // One pass over the queue to group it; the jobs are read again only where needed.
                Queue last = null;
                for (JobRequest j : snapshot.pending()) {
                    Queue q = last != null && last.account.equals(j.account()) ? last : queues.get(j.account());
                    if (q == null) {
                        q = new Queue(j.account());
                        queues.put(j.account(), q);
                    }
                    q.add(j);
                    last = q;
                }
            }
            for (Queue q : queues.values()) {
                demand.merge(q.account, (double) q.totalGpus, Double::sum);
            }
            Map<String, Double> fairLevel = FairLevels.waterFill(capacity, demand, snapshot.accounts());
            for (NodeState n : withFree) {
                for (int m = 0; m < n.models.length; m++) {
                    freeTotal.merge(n.models[m], n.free[m], Integer::sum);
                    freeSum += n.free[m];
                }
            }
            double totalUsage = 0;
            for (AccountStanding s : snapshot.accounts().values()) {
                totalUsage += s.usedGpuSeconds();
            }
            Set<String> names = new HashSet<>(snapshot.accounts().keySet());
            names.addAll(held.keySet());
            names.addAll(fairLevel.keySet());
            for (String a : names) {
                AccountStanding s = snapshot.accounts().get(a);
                double entitled = s == null ? 0 : s.shareBasisPoints() / 10_000.0 * capacity;
                accounts.put(a, new Acct(a, entitled, fairLevel.getOrDefault(a, 0.0), behind(s, totalUsage),
                        s == null ? Double.POSITIVE_INFINITY : s.priorityKey(), held.getOrDefault(a, 0)));
            }
        }

        /**
         * Whether an account is owed GPU time: it used less than its fair level would have given it
         * (decayed alike), or, where that is not tracked, less than its voted share of all usage.
         * An account owed time is due its next job while it holds less than its level, so it may
         * go beyond the level by one job (of any size), so that whole-GPU jobs and jobs larger
         * than the level still average out to the level, as in the ideal schedule where GPUs are
         * divisible: once beyond, it uses more than its level gives and soon is no longer owed.
         */
        private static boolean behind(AccountStanding s, double totalUsage) {
            if (s == null || s.shareBasisPoints() <= 0) {
                return false;
            }
            if (!Double.isNaN(s.fairGpuSeconds())) {
                return s.usedGpuSeconds() < s.fairGpuSeconds();
            }
            return totalUsage <= 0 || s.usedGpuSeconds() / totalUsage < s.shareBasisPoints() / 10_000.0;
        }

        private Acct acct(String name) {
            Acct a = accounts.get(name);
            if (a == null) {
                a = new Acct(name, 0, 0, false, Double.POSITIVE_INFINITY, 0);
                accounts.put(name, a);
            }
            return a;
        }

        Plan run() {
            for (RunningAttempt a : snapshot.running()) {
                mayReclaim |= a.terminating() || borrowed(a);
            }
            List<Queue> fairOrder = queuesInFairOrder();
            if (nodes.isEmpty()) {
                // No node is offered (none online, in window and not draining): no job can start,
                // fit, reserve or reclaim, so each one's wait depends only on its account's standing
                // and is told when asked. A fresh cooperative, or one whose nodes are all away, may
                // queue tens of thousands of jobs; its cycles must not read them.
                Joined behind = new Joined();
                fairOrder.forEach(q -> behind.addRun(q.jobs));
                return new Plan(decisions, behind, this::waitBehindFullCluster);
            }
            claimReserves(fairOrder);
            // Which jobs are due, judged by what accounts hold once operators' reserves are claimed:
            // each account's queue up to its first job that is not (jobs placed on a reserve are
            // decided already). Most accounts of a busy cluster have no job small enough to be due:
            // their jobs are not read here.
            List<Queue> dueIn = new ArrayList<>();
            for (Queue q : fairOrder) {
                if (guaranteed(q.minGpus, q.acct)) {
                    for (int i = 0; i < q.jobs.size(); i++) {
                        if (q.considered != null && q.considered[i]) {
                            continue;
                        }
                        if (!guaranteed(q.gpus(i), q.acct)) {
                            break;
                        }
                        q.due.add(i);
                    }
                    if (!q.due.isEmpty()) {
                        if (q.considered == null) {
                            q.considered = new boolean[q.jobs.size()];
                        }
                        dueIn.add(q);
                    }
                }
            }
            // Of the due jobs that cannot start on what is free now, nor by reclaiming, the oldest
            // gets the reservation before any due job starts: other accounts' due jobs then backfill
            // only if they end before it. Made after them, it would get only what they left, and a
            // gang due beside two accounts' streams of small due jobs would wait for their queues
            // to empty.
            reserveForOldestBlockedDue(dueIn);
            // Due jobs, in fair order, each account's strictly in its own order: a job its account is
            // not due, or that is due but cannot start, holds the account's later jobs back (they
            // may still borrow). Of the due jobs that cannot start, the oldest gets the reservation.
            // So a gang is not passed for ever by smaller jobs, its own account's or others'.
            Joined behind = new Joined();
            List<JobRequest> blocked = new ArrayList<>();
            for (Queue q : dueIn) {
                for (int i : q.due) {
                    // Jobs earlier in its account's order may have used up the fair level.
                    if (!guaranteed(q.gpus(i), q.acct)) {
                        break;
                    }
                    q.considered[i] = true;
                    JobRequest job = q.jobs.get(i);
                    waitsForGpus = false;
                    if (!consider(job, true) && waitsForGpus) {
                        if (blockedDue != null) {
                            blocked.add(blockedDue);
                            blockedDue = null;
                        }
                        break;
                    }
                }
            }
            blocked.sort(Comparator.comparingLong(JobRequest::submittedAt).thenComparingLong(JobRequest::id));
            dueWaiting = !blocked.isEmpty() || reservation != null;
            for (JobRequest job : blocked) {
                if (reservation == null) {
                    reserve(job);
                } else {
                    decisions.add(waitBehind(job, acct(job.account()), Shape.of(job)));
                }
            }
            // The rest, in the same fair order. Once the reservation is made, a job that wants more
            // GPUs than are free, or more per node than any node can give it, can neither start nor
            // change anything (it is not due, so it does not reclaim): it just waits, and why is
            // told when asked. A job that asked not to be preempted is judged at its turn, since
            // its veto depends on what its account holds then, unless no GPU is free at all.
            for (Queue q : fairOrder) {
                for (int i = 0; i < q.jobs.size(); i++) {
                    if (q.considered == null && reservation != null && freeSum == 0) {
                        // Nothing can change any more: the rest of this queue waits, copied at once.
                        behind.addRun(q.jobs.subList(i, q.jobs.size()));
                        break;
                    }
                    if (q.considered != null && q.considered[i]) {
                        continue;
                    }
                    if (waitsBehind(q, i)) {
                        behind.add(q.jobs.get(i));
                    } else {
                        consider(q.jobs.get(i), false);
                    }
                }
            }
            return new Plan(decisions, behind, this::waitBehindFullCluster);
        }

        /**
         * Operators' first claim: an operator account's single-node jobs go first onto the unused
         * reserve of the nodes it operates, taking it back from other accounts' preemptible
         * attempts if they sit on it. What this places is not borrowed and not counted against
         * the account's share.
         */
        private void claimReserves(List<Queue> fairOrder) {
            for (Queue q : fairOrder) {
                if (!operatorsWithRoom.contains(q.account)) {
                    continue;
                }
                for (int i = 0; i < q.jobs.size(); i++) {
                    JobRequest job = q.jobs.get(i);
                    if (job.nodes() != 1) {
                        continue;
                    }
                    NodeState home = null;
                    int homeFree = Integer.MAX_VALUE;
                    for (NodeState n : nodes.values()) {
                        if (n.reserve - n.ownUse >= job.gpusPerNode() && n.operator.equals(q.account)
                                && n.view.fitsWindow(snapshot.now(), job.walltimeSeconds())
                                && claimable(n, job) >= job.gpusPerNode() && n.freeAccepted(job) < homeFree) {
                            home = n;
                            homeFree = n.freeAccepted(job);
                        }
                    }
                    if (home == null) {
                        continue;
                    }
                    if (q.considered == null) {
                        q.considered = new boolean[q.jobs.size()];
                    }
                    q.considered[i] = true;
                    home.ownUse += job.gpusPerNode();
                    String model = home.modelFor(job, job.gpusPerNode());
                    if (model != null) {
                        admitOnReserve(job, home, model);
                    } else {
                        takeBackReserve(job, home);
                    }
                }
            }
        }

        /** GPUs of a model the job accepts that are free here or held by other accounts' preemptible attempts. */
        private int claimable(NodeState n, JobRequest job) {
            int most = 0;
            for (String model : n.models) {
                if (job.accepts(model)) {
                    int c = n.free(model) + n.terminating(model, preempted);
                    for (RunningAttempt a : n.othersPreemptible(model, job.account(), preempted)) {
                        c += n.here(a, model);
                    }
                    most = Math.max(most, c);
                }
            }
            return most;
        }

        private void admitOnReserve(JobRequest job, NodeState n, String model) {
            List<Integer> gpus = n.take(model, job.gpusPerNode(), endOf(job));
            took(model, job.gpusPerNode());
            // The reserve is not the cooperative's: the account's share is not charged for it.
            decisions.add(new Decision.Admit(job.id(), List.of(new Placement(n.view.name(), n.view.site(), model,
                    gpus)), false));
        }

        /** Preempts other accounts' newest attempts on the operator's node until the job fits. */
        private void takeBackReserve(JobRequest job, NodeState n) {
            String model = null;
            for (String m : n.models) {
                int c = n.free(m) + n.terminating(m, preempted);
                for (RunningAttempt a : n.othersPreemptible(m, job.account(), preempted)) {
                    c += n.here(a, m);
                }
                if (model == null && job.accepts(m) && c >= job.gpusPerNode()) {
                    model = m;
                }
            }
            int missing = job.gpusPerNode() - n.free(model) - n.terminating(model, preempted);
            List<RunningAttempt> others = new ArrayList<>(n.othersPreemptible(model, job.account(), preempted));
            others.sort(Comparator.comparingLong(RunningAttempt::startedAt).reversed()
                    .thenComparingLong(RunningAttempt::jobId));
            int victims = 0;
            for (RunningAttempt v : others) {
                if (missing <= 0) {
                    break;
                }
                missing -= n.here(v, model);
                stopping(v);
                holdMore(v.account(), -v.gpus());
                victims++;
                decisions.add(new Decision.Preempt(v.jobId(), v.attempt(), job.id(), "job " + job.id() + " of "
                        + job.account() + " claims the reserve its operator keeps on " + n.view.name()));
            }
            took(model, n.claim(model, job.gpusPerNode(), endOf(job)));
            decisions.add(new Decision.Wait(job.id(), Veto.RECLAIMING, standing(acct(job.account()))
                    + "taking back its operator's reserve on " + n.view.name() + " (preempting " + victims
                    + " attempt" + (victims == 1 ? "" : "s") + ")"));
        }

        /**
         * Whether a job, once the reservation is made, surely cannot start: it wants more GPUs
         * than are free, or more per node than any node can give it, and asked to be preemptible
         * (whose veto does not depend on what its account holds), unless no GPU is free at all.
         */
        private boolean waitsBehind(Queue q, int i) {
            return reservation != null && (freeSum == 0 || q.preemptible(i) && (q.gpus(i) > freeSum
                    || q.gpusPerNode(i) > mostPerNode(q.walltime(i))));
        }

        /**
         * The most GPUs of one node a job could take now, by whether it would end after the
         * reservation starts. Recomputed only after GPUs were taken.
         */
        private int mostPerNode(long walltimeSeconds) {
            if (mostPerNodeEarly < 0) {
                mostPerNodeEarly = 0;
                mostPerNodeLate = 0;
                for (NodeState n : withFree) {
                    int spare = reservation.nodes.contains(n.view.name())
                            ? Math.max(0, reservation.spare.getOrDefault(n.view.name(), 0)) : Integer.MAX_VALUE;
                    for (int f : n.free) {
                        mostPerNodeEarly = Math.max(mostPerNodeEarly, f);
                        mostPerNodeLate = Math.max(mostPerNodeLate, Math.min(f, spare));
                    }
                }
            }
            return snapshot.now() + walltimeSeconds * 1000 > reservation.startAt ? mostPerNodeLate : mostPerNodeEarly;
        }

        /**
         * What {@link #consider} decides for a job that cannot start once the reservation is made
         * (nor fit around it, nor, not being due, reclaim), told against the state the cycle
         * ended in.
         */
        private Decision.Wait waitBehindFullCluster(JobRequest job) {
            Acct acct = acct(job.account());
            if (reservation == null && !nodes.isEmpty()) {
                // Only a job the cycle did not see (it came later) is asked about without one,
                // unless no node was offered, when no job could have one.
                return new Decision.Wait(job.id(), Veto.TOO_FEW_FREE_GPUS,
                        standing(acct) + "queued since the last allocation cycle; the next one considers it");
            }
            Decision.Wait notPreemptible = notPreemptibleBeyond(job, acct);
            if (notPreemptible != null) {
                return notPreemptible;
            }
            Shape shape = Shape.of(job);
            return fits(job, shape) ? waitBehind(job, acct, shape) : neverFits(job, acct);
        }

        /**
         * Whether a job starts as its account's due: the account stays within its entitlement
         * with the job counted at half. Entitlements are fractional and jobs are not, so without
         * the half an account entitled to 3.2 GPUs could never be due a 4-GPU job and would only
         * ever borrow for it. Mirrors {@link #borrowed}: what one rule gives, the other cannot
         * take back.
         */
        private boolean guaranteed(JobRequest job) {
            return guaranteed(job, acct(job.account()));
        }

        private static boolean guaranteed(JobRequest job, Acct a) {
            return guaranteed(job.gpus(), a);
        }

        /** Whether a job of this many GPUs would be due; smaller jobs are due whenever larger ones are. */
        private static boolean guaranteed(int gpus, Acct a) {
            return a.held + gpus / 2.0 <= a.fair || (a.behind && (a.held == 0 || a.held < a.fair));
        }

        /**
         * Whether a due job may take GPUs back from borrowers: only within the level rounded up to
         * a whole GPU (or while its account holds nothing). Going beyond the level by one job is
         * for GPUs that free up by themselves; preempting for it would stop other accounts' work
         * to hand out more than the level, and churn as each account in turn crossed it.
         */
        private static boolean reclaimsFor(JobRequest job, Acct a) {
            return a.held + job.gpus() / 2.0 <= a.fair
                    || (a.behind && (a.held == 0 || a.held + job.gpus() <= Math.ceil(a.fair)));
        }

        /**
         * Account queues in fair-share order: by usage over share, lowest first; each
         * account's queue sorted by priority then age. A queue that already comes in that order is
         * not sorted again.
         */
        private List<Queue> queuesInFairOrder() {
            List<Queue> order = new ArrayList<>(queues.values());
            for (Queue q : order) {
                q.acct = acct(q.account);
                q.sortIfNeeded();
            }
            order.sort(Comparator.comparingDouble((Queue q) -> q.acct.priorityKey).thenComparing(q -> q.account));
            return order;
        }

        /** The oldest of the accounts' first due jobs that fits the cluster but neither now nor by reclaiming. */
        private void reserveForOldestBlockedDue(List<Queue> dueIn) {
            if (windowed) {
                // Where a job fits depends on its walltime and the windows: the due pass decides.
                return;
            }
            JobRequest oldest = null;
            for (Queue q : dueIn) {
                JobRequest job = q.jobs.get(q.due.get(0));
                if ((oldest != null && (job.submittedAt() > oldest.submittedAt()
                        || job.submittedAt() == oldest.submittedAt() && job.id() > oldest.id()))
                        || !job.preemptible() && notPreemptibleBeyond(job, q.acct) != null) {
                    continue;
                }
                Shape shape = Shape.of(job);
                if (choose(job, Free.NOW) == null && fits(job, shape)
                        && !(mayReclaim && reclaimsFor(job, q.acct) && choose(job, Free.RECLAIMABLE) != null)) {
                    oldest = job;
                }
            }
            if (oldest != null) {
                reserve(oldest, false);
            }
        }

        /** Decides one job; true if it starts now or GPUs are being reclaimed for it. */
        private boolean consider(JobRequest job, boolean due) {
            Acct acct = acct(job.account());
            Decision.Wait notPreemptible = notPreemptibleBeyond(job, acct);
            if (notPreemptible != null) {
                decisions.add(notPreemptible);
                return false;
            }
            // Free GPUs only shrink during a cycle, so a shape that found no place stays placeless.
            Shape shape = Shape.of(job);
            // With availability windows, where a job fits depends on its walltime, not on its shape alone.
            Set<Shape> noFitNow = windowed ? new HashSet<>() : reservation != null
                    && snapshot.now() + job.walltimeSeconds() * 1000 > reservation.startAt ? noFitNowLate : noFitNowEarly;
            List<Candidate> fit = noFitNow.contains(shape) ? null : choose(job, Free.NOW);
            if (fit != null) {
                admit(job, fit, acct.held + job.gpus() > acct.entitled);
                return true;
            }
            noFitNow.add(shape);
            if (!fits(job, shape)) {
                decisions.add(neverFits(job, acct));
                return false;
            }
            if (due && mayReclaim && reclaimsFor(job, acct) && reclaim(job, shape)) {
                return true;
            }
            waitsForGpus = true;
            if (reservation != null && reservation.jobId == job.id()) {
                return false;   // reserved for before the due pass; its decision is made
            }
            if (reservation == null) {
                if (due) {
                    // The due pass picks which blocked job gets the reservation once it is over.
                    blockedDue = job;
                    return false;
                }
                if (!dueWaiting) {
                    reserve(job);
                    return false;
                }
                // A due job waits too, and will take the GPUs first as they free up: GPUs held idle
                // for this one would stay idle, since the rules would not let it start.
            }
            decisions.add(waitBehind(job, acct, shape));
            return false;
        }

        /** A job that asked not to be preempted waits once it would go beyond the entitlement. */
        private Decision.Wait notPreemptibleBeyond(JobRequest job, Acct acct) {
            if (job.preemptible() || acct.held + job.gpus() <= acct.entitled) {
                return null;
            }
            return new Decision.Wait(job.id(), Veto.NOT_PREEMPTIBLE_BEYOND_ENTITLEMENT,
                    standing(acct) + "it asked not to be preempted, so it runs only within the entitlement");
        }

        private boolean fits(JobRequest job, Shape shape) {
            return fitsEver.computeIfAbsent(shape, s -> fitsEver(job));
        }

        private Decision.Wait neverFits(JobRequest job, Acct acct) {
            return new Decision.Wait(job.id(), Veto.NO_NODE_FITS, standing(acct) + neverFits(job));
        }

        /** A job that fits the cluster but not now, behind the reservation or for want of free GPUs. */
        private Decision.Wait waitBehind(JobRequest job, Acct acct, Shape shape) {
            if (reservation != null && fitsIgnoringReservation(job, shape)) {
                return new Decision.Wait(job.id(), Veto.RESERVED_FOR_EARLIER_JOB, standing(acct)
                        + "the GPUs it fits on are reserved for job " + reservation.jobId
                        + " and it would not end before that starts");
            }
            return new Decision.Wait(job.id(), Veto.TOO_FEW_FREE_GPUS, standing(acct)
                    + tooFewFreeText.computeIfAbsent(shape, s -> describeFree(job)));
        }

        private String standing(Acct a) {
            if (a.standingText == null) {
                a.standingText = String.format(Locale.ROOT, "%s holds %d GPUs of %.1f entitled; ", a.name, a.held,
                        a.entitled);
            }
            return a.standingText;
        }

        private void holdMore(String account, int gpus) {
            Acct a = acct(account);
            a.held += gpus;
            a.standingText = null;
        }

        private boolean fitsIgnoringReservation(JobRequest job, Shape shape) {
            if (freeAccepted(job) < job.gpus()) {
                return false;
            }
            return windowed ? choose(job, Free.IGNORING_RESERVATION) != null
                    : fitsIgnoringReservation.computeIfAbsent(shape, s -> choose(job, Free.IGNORING_RESERVATION) != null);
        }

        /** Free GPUs were taken: what was memoized about free GPUs no longer holds. */
        private void took(String model, int count) {
            freeTotal.merge(model, -count, Integer::sum);
            freeSum -= count;
            mostPerNodeEarly = -1;
            tooFewFreeText.clear();
            fitsIgnoringReservation.clear();
        }

        private void admit(JobRequest job, List<Candidate> chosen, boolean borrowed) {
            List<Placement> placements = new ArrayList<>();
            long end = snapshot.now() + job.walltimeSeconds() * 1000;
            for (Candidate c : chosen) {
                NodeState n = c.state();
                placements.add(new Placement(c.node(), c.site(), c.model(), n.take(c.model(), job.gpusPerNode(), end)));
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
        private boolean reclaim(JobRequest job, Shape shape) {
            ReclaimKey key = new ReclaimKey(shape, job.account(), reservation != null
                    && snapshot.now() + job.walltimeSeconds() * 1000 > reservation.startAt);
            if (!windowed && reclaimFailed.contains(key)) {
                return false;
            }
            List<Candidate> target = choose(job, Free.RECLAIMABLE);
            if (target == null) {
                reclaimFailed.add(key);
                return false;
            }
            List<RunningAttempt> victims = new ArrayList<>();
            for (Candidate c : target) {
                NodeState n = c.state();
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
                    stopping(v);
                    holdMore(v.account(), -v.gpus());
                }
            }
            for (Candidate c : target) {
                took(c.model(), c.state().claim(c.model(), job.gpusPerNode(), endOf(job)));
            }
            for (RunningAttempt v : victims) {
                decisions.add(new Decision.Preempt(v.jobId(), v.attempt(), job.id(), "job " + job.id() + " of "
                        + job.account() + " is within its entitlement and needs the GPUs " + v.account()
                        + " borrowed"));
            }
            decisions.add(new Decision.Wait(job.id(), Veto.RECLAIMING, standing(acct(job.account())) + "reclaiming "
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
            Acct acct = acct(a.account());
            return a.preemptible() && acct.held - a.gpus() / 2.0 > acct.fair
                    && !(acct.behind && (acct.held == a.gpus() || acct.held - a.gpus() < acct.fair));
        }

        /** An attempt is told to stop this cycle: its GPUs count as freeing now. */
        private void stopping(RunningAttempt v) {
            preempted.add(v.jobId());
            for (Placement p : v.placements()) {
                NodeState n = nodes.get(p.node());
                if (n != null) {
                    n.earliestEnd = snapshot.now();
                }
            }
        }

        private double overEntitlement(String account) {
            Acct a = acct(account);
            return a.entitled <= 0 ? Double.MAX_VALUE : a.held / a.entitled;
        }

        /** The first job that cannot start gets nodes at the earliest time walltimes allow. */
        private void reserve(JobRequest job) {
            reserve(job, true);
        }

        /**
         * As {@link #reserve(JobRequest)}; false if no node stays offered long enough, which is
         * the job's decision only when {@code explain}.
         */
        private boolean reserve(JobRequest job, boolean explain) {
            long bestStart = Long.MAX_VALUE;
            List<Candidate> best = null;
            for (List<Candidate> group : groups(job, Free.EVER)) {
                if (group.size() < job.nodes()) {
                    continue;
                }
                // The job.nodes() candidates ready first (then by name), kept in order as the
                // group is read once: a group can hold every node of a large cluster.
                List<Ready> first = new ArrayList<>(job.nodes() + 1);
                for (Candidate c : group) {
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
                if (explain) {
                    decisions.add(new Decision.Wait(job.id(), Veto.OUTSIDE_WINDOWS, standing(acct(job.account()))
                            + "no node it fits on stays offered long enough for its walltime of "
                            + job.walltimeSeconds() + " s"));
                }
                return false;
            }
            reservation = new Reservation(job.id(), bestStart);
            for (Candidate c : best) {
                reservation.nodes.add(c.node());
                reservation.spare.put(c.node(), c.state().freeAt(c.model(), bestStart)
                        - job.gpusPerNode());
            }
            String when = bestStart == Long.MAX_VALUE ? "when the running jobs end"
                    : "in " + Math.max(0, (bestStart - snapshot.now()) / 1000) + " s at the latest";
            decisions.add(new Decision.Reserve(job.id(), best.stream().map(Candidate::node).toList(),
                    bestStart, standing(acct(job.account())) + "first in line: " + job.shape() + " reserved on "
                    + String.join(",", reservation.nodes) + " " + when));
            return true;
        }

        /** When a job admitted now, or waiting now on GPUs it claimed, ends by its walltime. */
        private long endOf(JobRequest job) {
            return snapshot.now() + job.walltimeSeconds() * 1000;
        }

        /**
         * When a node will have {@code gpus} GPUs of the model free, by the walltimes of what runs
         * there and of what this cycle placed or claimed there. Every busy GPU is one of those, so
         * a node that has the GPUs at all always gets a time: a reservation "when the running jobs
         * end" would block nothing, and the job it is for would starve behind backfill.
         */
        private long readyAt(Candidate c, int gpus) {
            NodeState n = c.state();
            int free = n.free(c.model());
            if (free >= gpus) {
                return snapshot.now();
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
                    boolean stopping = a.terminating() || preempted.contains(a.jobId());
                    end = stopping ? snapshot.now() : a.endsBy();
                } else {
                    Hold hold = n.holds.get(i - n.running.size());
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
                    return Math.max(snapshot.now(), ends[i]);
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
            return new Candidate(n, model, avail, missing, -newest);
        }

        private boolean delaysReservation(NodeState n, JobRequest job) {
            return reservation != null && reservation.jobId != job.id() && reservation.nodes.contains(n.view.name())
                    && snapshot.now() + job.walltimeSeconds() * 1000 > reservation.startAt;
        }

        private int available(NodeState n, String model, JobRequest job, Free mode) {
            if (mode != Free.EVER && !n.view.fitsWindow(snapshot.now(), job.walltimeSeconds())) {
                return 0;
            }
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

        private Collection<List<Candidate>> groups(JobRequest job, Free mode) {
            Map<Group, List<Candidate>> groups = new HashMap<>();
            // Placing on free GPUs only looks at nodes that had any; candidates are sorted later,
            // so which nodes are visited matters, not in what order.
            Iterable<NodeState> visit = mode == Free.NOW || mode == Free.IGNORING_RESERVATION ? withFree
                    : nodes.values();
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
            for (List<Candidate> group : groups(job, mode)) {
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

        /**
         * Whether enough offered nodes could ever hold the job, all their GPUs idle: the same
         * rule as placing it on idle nodes, counted over classes of alike nodes instead of nodes.
         */
        private boolean fitsEver(JobRequest job) {
            if (classes == null) {
                classes = new HashMap<>();
                for (NodeState n : nodes.values()) {
                    if (n.models.length == 1) {
                        classes.merge(new NodeClass(n.view.site(), n.models[0], n.total[0], null), 1, Integer::sum);
                    } else if (n.models.length > 1) {
                        classes.put(new NodeClass(n.view.site(), null, 0, n), 1);
                    }
                }
            }
            Map<Group, Integer> groups = new HashMap<>();
            for (var e : classes.entrySet()) {
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

        private String describeFree(JobRequest job) {
            int most = 0;
            String where = null;
            for (NodeState n : withFree) {
                for (String model : n.models) {
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

    /**
     * One account's pending jobs during a cycle, with each job's GPU count and preemptibility
     * beside it, so that the passes after the first need not read the jobs themselves.
     */
    /**
     * The jobs waiting behind the reservation, kept as runs of the queues they come from rather
     * than copied: most of a large queue is one run. The queues are not changed after the cycle.
     */
    private static final class Joined extends AbstractList<JobRequest> {
        private final List<List<JobRequest>> runs = new ArrayList<>();
        /** Where each run ends, counted over all runs. */
        private int[] ends = new int[4];
        private List<JobRequest> loose;
        private int size;

        @Override
        public boolean add(JobRequest job) {
            if (loose == null) {
                loose = new ArrayList<>();
                append(loose, 0);
            }
            loose.add(job);
            ends[runs.size() - 1]++;
            size++;
            return true;
        }

        void addRun(List<JobRequest> run) {
            if (!run.isEmpty()) {
                loose = null;
                append(run, run.size());
            }
        }

        private void append(List<JobRequest> run, int length) {
            if (runs.size() == ends.length) {
                ends = java.util.Arrays.copyOf(ends, ends.length * 2);
            }
            size += length;
            ends[runs.size()] = size;
            runs.add(run);
        }

        @Override
        public JobRequest get(int index) {
            java.util.Objects.checkIndex(index, size);
            int r = java.util.Arrays.binarySearch(ends, 0, runs.size(), index);
            r = r < 0 ? -r - 1 : r + 1;
            return runs.get(r).get(index - (r == 0 ? 0 : ends[r - 1]));
        }

        @Override
        public int size() {
            return size;
        }
    }

    private static final class Queue {
        final String account;
        Acct acct;
        List<JobRequest> jobs;
        long totalGpus;
        int minGpus = Integer.MAX_VALUE;
        boolean inOrder = true;
        /** Each job's GPU count, GPUs per node, walltime and preemptibility: read from the jobs once, when needed. */
        private int[] gpus;
        private int[] gpusPerNode;
        private long[] walltimes;
        private boolean[] preemptible;
        /** Positions of jobs due when the cycle began, and which jobs the due pass considered. */
        final List<Integer> due = new ArrayList<>();
        boolean[] considered;

        Queue(String account) {
            this.account = account;
            this.jobs = new ArrayList<>();
        }

        /** A queue the snapshot brought already grouped and in order: its jobs are not read here. */
        Queue(AccountQueue given) {
            this.account = given.account();
            this.jobs = given.jobs();
            this.totalGpus = given.totalGpus();
            this.minGpus = given.minGpus();
        }

        void add(JobRequest j) {
            int n = jobs.size();
            if (inOrder && n > 0 && JobRequest.QUEUE_ORDER.compare(jobs.get(n - 1), j) > 0) {
                inOrder = false;
            }
            jobs.add(j);
            totalGpus += j.gpus();
            minGpus = Math.min(minGpus, j.gpus());
        }

        void sortIfNeeded() {
            if (!inOrder) {
                jobs.sort(JobRequest.QUEUE_ORDER);
                inOrder = true;
            }
        }

        private void read() {
            if (gpus != null) {
                return;
            }
            int n = jobs.size();
            gpus = new int[n];
            gpusPerNode = new int[n];
            walltimes = new long[n];
            preemptible = new boolean[n];
            for (int i = 0; i < n; i++) {
                JobRequest j = jobs.get(i);
                gpus[i] = j.gpus();
                gpusPerNode[i] = j.gpusPerNode();
                walltimes[i] = j.walltimeSeconds();
                preemptible[i] = j.preemptible();
            }
        }

        int gpus(int i) {
            read();
            return gpus[i];
        }

        int gpusPerNode(int i) {
            read();
            return gpusPerNode[i];
        }

        long walltime(int i) {
            read();
            return walltimes[i];
        }

        boolean preemptible(int i) {
            read();
            return preemptible[i];
        }
    }

    /** A candidate node for the reservation, with when it will have the GPUs. */
    private record Ready(Candidate candidate, long at) {
        /** Earlier first, then by node name. */
        boolean lessThan(Ready other) {
            return at != other.at ? at < other.at : candidate.node().compareTo(other.candidate.node()) < 0;
        }
    }

    /** Where a gang's nodes must all be: one site (any, for a job that crosses sites) and one model. */
    private record Group(String site, String model) implements Comparable<Group> {
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
    private record NodeClass(String site, String model, int total, NodeState mixed) {
    }

    /** The one reservation of a cycle: nodes, start time, and GPUs on them beyond its need then. */
    /** {@code count} GPUs of the model at index {@code model} of a node, busy until {@code endsBy} by walltime. */
    private record Hold(int model, int count, long endsBy) {
    }

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

    /**
     * A node during a cycle: its GPU models (sorted), how many of each it has and how many are
     * free, and the attempts running on it. Free GPU indices are listed only once something is
     * placed here, since most nodes of a large cluster are never touched in a cycle.
     */
    private static final class NodeState {
        final NodeView view;
        final String[] models;
        final int[] total;
        final int[] free;
        private TreeSet<Integer>[] freeIndices;
        final List<RunningAttempt> running = new ArrayList<>(2);
        /**
         * GPUs this cycle placed jobs on or claimed for jobs waiting on preemptions: busy from now
         * on, though no running attempt holds them.
         */
        final List<Hold> holds = new ArrayList<>(0);
        /** When the first attempt here ends by its walltime (now, for one told to stop). */
        long earliestEnd = Long.MAX_VALUE;
        /** The operator's account, its reserve here, and how much of the reserve its attempts use. */
        final String operator;
        final int reserve;
        int ownUse;

        NodeState(NodeView view) {
            this.view = view;
            this.operator = view.operatorAccount();
            this.reserve = view.reservedGpus();
            List<GpuSlot> gpus = view.gpus();
            if (!gpus.isEmpty() && oneModel(gpus)) {
                models = new String[] {gpus.get(0).model()};
                total = new int[] {gpus.size()};
                int f = 0;
                for (GpuSlot g : gpus) {
                    f += g.free() ? 1 : 0;
                }
                free = new int[] {f};
                return;
            }
            TreeMap<String, int[]> counts = new TreeMap<>();
            for (GpuSlot g : view.gpus()) {
                int[] c = counts.computeIfAbsent(g.model(), m -> new int[2]);
                c[0]++;
                if (g.free()) {
                    c[1]++;
                }
            }
            models = counts.keySet().toArray(new String[0]);
            total = new int[models.length];
            free = new int[models.length];
            int m = 0;
            for (int[] c : counts.values()) {
                total[m] = c[0];
                free[m++] = c[1];
            }
        }

        /** The free GPUs of models the job accepts, most of one model. */
        int freeAccepted(JobRequest job) {
            int most = 0;
            for (int m = 0; m < models.length; m++) {
                if (job.accepts(models[m])) {
                    most = Math.max(most, free[m]);
                }
            }
            return most;
        }

        /** The accepted model with the fewest free GPUs that still fits {@code gpus}, or null. */
        String modelFor(JobRequest job, int gpus) {
            String best = null;
            int bestFree = Integer.MAX_VALUE;
            for (int m = 0; m < models.length; m++) {
                if (job.accepts(models[m]) && free[m] >= gpus && free[m] < bestFree) {
                    best = models[m];
                    bestFree = free[m];
                }
            }
            return best;
        }

        private static boolean oneModel(List<GpuSlot> gpus) {
            String model = gpus.get(0).model();
            for (GpuSlot g : gpus) {
                if (!g.model().equals(model)) {
                    return false;
                }
            }
            return true;
        }

        boolean anyFree() {
            for (int f : free) {
                if (f > 0) {
                    return true;
                }
            }
            return false;
        }

        private int index(String model) {
            for (int m = 0; m < models.length; m++) {
                if (models[m].equals(model)) {
                    return m;
                }
            }
            return -1;
        }

        int total(String model) {
            int m = index(model);
            return m < 0 ? 0 : total[m];
        }

        int free(String model) {
            int m = index(model);
            return m < 0 ? 0 : free[m];
        }

        @SuppressWarnings("unchecked")
        private TreeSet<Integer> freeIndices(int m) {
            if (freeIndices == null) {
                freeIndices = new TreeSet[models.length];
            }
            if (freeIndices[m] == null) {
                freeIndices[m] = new TreeSet<>();
                for (GpuSlot g : view.gpus()) {
                    if (g.free() && g.model().equals(models[m])) {
                        freeIndices[m].add(g.index());
                    }
                }
            }
            return freeIndices[m];
        }

        List<Integer> take(String model, int count, long endsBy) {
            int m = index(model);
            hold(m, count, endsBy);
            TreeSet<Integer> s = freeIndices(m);
            List<Integer> out = new ArrayList<>(count);
            for (int i = 0; i < count; i++) {
                out.add(s.pollFirst());
            }
            free[m] -= count;
            return out;
        }

        /** Takes up to {@code count} free GPUs of the model off the table for this cycle; returns how many. */
        int claim(String model, int count, long endsBy) {
            int m = index(model);
            if (m < 0) {
                return 0;
            }
            TreeSet<Integer> s = freeIndices(m);
            int taken = 0;
            for (; taken < count && !s.isEmpty(); taken++) {
                s.pollFirst();
            }
            free[m] -= taken;
            hold(m, taken, endsBy);
            return taken;
        }

        private void hold(int model, int count, long endsBy) {
            if (count > 0) {
                holds.add(new Hold(model, count, endsBy));
                earliestEnd = Math.min(earliestEnd, endsBy);
            }
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
                        && !a.account().equals(exceptAccount) && !(reserve > 0 && a.account().equals(operator))
                        && here(a, model) > 0) {
                    out.add(a);
                }
            }
            return out;
        }

        /** GPUs of the model free at {@code time}, counting attempts and holds whose walltime ends by then. */
        int freeAt(String model, long time) {
            int n = free(model);
            for (RunningAttempt a : running) {
                if (a.terminating() || a.endsBy() <= time) {
                    n += here(a, model);
                }
            }
            int m = index(model);
            for (Hold hold : holds) {
                if (hold.model() == m && hold.endsBy() <= time) {
                    n += hold.count();
                }
            }
            return n;
        }
    }
}
