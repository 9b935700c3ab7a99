package coop.scheduler.allocation;

import coop.scheduler.domain.Placement;
import coop.scheduler.domain.WaitTime;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * One allocation cycle: the snapshot read once into the cycle's working state, then the steps
 * of {@link #run} in order. Each mechanism is a class of its own: {@link Placer} (where a job
 * fits), {@link Reclaim} and {@link OperatorReserves} (preemption), {@link Backfill} (the
 * reservation), {@link Entitlement} (what accounts are due), {@link WhyPending} (the waits'
 * text), and {@link Memos} (what the cycle found out once).
 */
final class Cycle {
    private final Cluster cluster;
    private final Accounts accounts;
    private final List<Decision> decisions = new ArrayList<>();
    private final Placer placer;
    private final WhyPending why;
    private final Backfill backfill;
    private final Reclaim reclaim;
    private final OperatorReserves reserves;
    /** Each account's pending jobs, in queue order. */
    private final List<Queue> queues = new ArrayList<>();
    /** Whether anything could be reclaimed this cycle: an attempt borrowing or already stopping. */
    private final boolean mayReclaim;
    /** Set after the due pass: a due job still waits for GPUs, and will have them before any job that is not due. */
    private boolean dueWaiting;
    /** The GPU holds of the snapshot still in force, by the job they are held for. */
    private final Map<Long, List<GpuHold>> holds = new LinkedHashMap<>();

    Cycle(ClusterSnapshot snapshot) {
        cluster = new Cluster(snapshot);
        accounts = new Accounts(snapshot, cluster.capacity, cluster.held);
        placer = new Placer(cluster, accounts);
        why = new WhyPending(cluster, accounts, placer, snapshot.nodes());
        backfill = new Backfill(cluster, placer, why);
        reclaim = new Reclaim(cluster, accounts, placer, decisions);
        reserves = new OperatorReserves(cluster, accounts, decisions);
        for (AccountQueue given : snapshot.queues()) {
            if (!given.jobs().isEmpty()) {
                queues.add(new Queue(given, accounts.of(given.account())));
            }
        }
        boolean any = false;
        for (RunningAttempt a : snapshot.running()) {
            any |= a.terminating() || accounts.borrowed(a);
        }
        mayReclaim = any;
        for (GpuHold h : snapshot.holds()) {
            if (h.until() > cluster.now) {
                holds.computeIfAbsent(h.jobId(), id -> new ArrayList<>()).add(h);
            }
        }
    }

    /** The steps of a cycle, as {@link Allocator} describes them. */
    Plan run() {
        List<Queue> fairOrder = inFairOrder();
        if (cluster.nodes.isEmpty()) {
            return nothingOffered(fairOrder);
        }
        startHeld();
        reserves.claim(fairOrder);
        List<Queue> dueIn = markDue(fairOrder);
        reserveForOldestBlockedDue(dueIn);
        List<JobRequest> blocked = admitDue(dueIn);
        reserveForOldestBlocked(blocked);
        return new Plan(decisions, admitRestOrBackfill(fairOrder), why::atEnd);
    }

    /**
     * Account queues in fair-share order: by usage over share, lowest first. Each queue is in
     * its own order already.
     */
    private List<Queue> inFairOrder() {
        List<Queue> order = new ArrayList<>(queues);
        order.sort(Comparator.comparingDouble((Queue q) -> q.acct.priorityKey).thenComparing(q -> q.account));
        return order;
    }

    /**
     * No node is offered (none online, in window and not draining): no job can start, fit,
     * reserve or reclaim, so each one's wait depends only on its account's standing and is told
     * when asked. A fresh cooperative, or one whose nodes are all away, may queue tens of
     * thousands of jobs; its cycles must not read them.
     */
    private Plan nothingOffered(List<Queue> fairOrder) {
        Joined behind = new Joined();
        fairOrder.forEach(q -> behind.addRun(q.jobs));
        return new Plan(decisions, behind, why::atEnd);
    }

    /** A pending job found in its account's queue, at its position there. */
    private record Queued(Queue queue, int index, JobRequest job) {
    }

    /**
     * A preemption is a commitment: the jobs GPUs were preempted for come first. Every hold's
     * GPUs that are free are set aside; then each such job, its own held GPUs given back to it,
     * starts if it fits now, or waits for its victims to stop with its held GPUs kept aside for
     * the rest of the cycle. Neither kind is considered again in this cycle (it must not reclaim
     * twice), and no other job takes what is held.
     */
    private void startHeld() {
        if (holds.isEmpty()) {
            return;
        }
        Map<Long, Queued> holders = new LinkedHashMap<>();
        for (Queue q : queues) {
            for (int i = 0; i < q.jobs.size() && holders.size() < holds.size(); i++) {
                JobRequest job = q.jobs.get(i);
                if (holds.containsKey(job.id())) {
                    holders.put(job.id(), new Queued(q, i, job));
                }
            }
        }
        Map<Long, List<List<Integer>>> aside = new LinkedHashMap<>();
        for (Queued h : holders.values()) {
            aside.put(h.job.id(), setAside(h.job));
        }
        for (Queued h : holders.values()) {
            List<GpuHold> held = holds.get(h.job.id());
            List<List<Integer>> gpus = aside.get(h.job.id());
            long end = heldUntilEnd(h.job);
            for (int k = 0; k < held.size(); k++) {
                NodeState n = cluster.nodes.get(held.get(k).node());
                if (n != null) {
                    n.putBack(held.get(k).model(), gpus.get(k), end);
                    cluster.putBack(held.get(k).model(), gpus.get(k).size());
                }
            }
            h.queue.consider(h.index);
            List<Placer.Candidate> fit = placer.choose(h.job, Placer.Free.NOW);
            if (fit != null) {
                admit(h.job, fit, accounts.of(h.job.account()).borrows(h.job.gpus()));
                continue;
            }
            setAside(h.job);
            long until = heldUntil(h.job);
            decisions.add(new Decision.Wait(h.job.id(), Veto.RECLAIMING, WhyPending.standing(accounts.of(
                    h.job.account()), h.job) + "waiting for the attempts preempted for it to stop: GPUs on "
                    + String.join(",", held.stream().map(GpuHold::node).distinct().toList())
                    + " are held for it for " + WaitTime.duration(until - cluster.now) + " more"));
        }
    }

    /** Sets aside what is free of the GPUs held for the job, one list of indices per hold. */
    private List<List<Integer>> setAside(JobRequest job) {
        List<List<Integer>> out = new ArrayList<>();
        for (GpuHold h : holds.get(job.id())) {
            NodeState n = cluster.nodes.get(h.node());
            List<Integer> taken = n == null ? List.of() : n.setAside(h.model(), h.gpus(), heldUntilEnd(job));
            cluster.took(h.model(), taken.size());
            out.add(taken);
        }
        return out;
    }

    /** When the last of the job's holds lapses. */
    private long heldUntil(JobRequest job) {
        return holds.get(job.id()).stream().mapToLong(GpuHold::until).max().orElse(cluster.now);
    }

    /** When GPUs held for a job are free again at the latest: the hold lapses, or the job ends by walltime. */
    private long heldUntilEnd(JobRequest job) {
        return heldUntil(job) + job.walltimeSeconds() * 1000;
    }

    /**
     * Which jobs are due, judged by what accounts hold once operators' reserves are claimed:
     * each account's queue up to its first job that is not (jobs placed on a reserve are
     * decided already). Most accounts of a busy cluster have no job small enough to be due:
     * their jobs are not read here.
     */
    private List<Queue> markDue(List<Queue> fairOrder) {
        List<Queue> dueIn = new ArrayList<>();
        for (Queue q : fairOrder) {
            if (q.acct.due(q.minGpus)) {
                for (int i = 0; i < q.jobs.size(); i++) {
                    if (q.considered(i)) {
                        continue;
                    }
                    if (!q.acct.due(q.gpus(i))) {
                        break;
                    }
                    q.due.add(i);
                }
                if (!q.due.isEmpty()) {
                    q.touch();
                    dueIn.add(q);
                }
            }
        }
        return dueIn;
    }

    /**
     * Of the due jobs that cannot start on what is free now, nor by reclaiming, the oldest gets
     * the reservation before any due job starts: other accounts' due jobs then backfill only if
     * they end before it. Made after them, it would get only what they left, and a gang due
     * beside two accounts' streams of small due jobs would wait for their queues to empty. Not
     * when an older due job can reclaim: the reservation would bar it from the nodes it reclaims.
     */
    private void reserveForOldestBlockedDue(List<Queue> dueIn) {
        if (cluster.windowed) {
            // Where a job fits depends on its walltime and the windows: the due pass decides.
            return;
        }
        JobRequest oldest = null;
        JobRequest oldestReclaiming = null;
        for (Queue q : dueIn) {
            JobRequest job = q.jobs.get(q.due.get(0));
            if (older(job, oldest) != job && older(job, oldestReclaiming) != job) {
                continue;   // younger than both: whatever it is, it changes neither
            }
            if (!q.acct.admitsNotPreemptible(job) || placer.choose(job, Placer.Free.NOW) != null
                    || !placer.fits(job, Shape.of(job))) {
                continue;
            }
            boolean reclaims = mayReclaim && q.acct.reclaimsFor(job.gpus()) && cluster.rules.mayPreemptFor(job)
                    && placer.choose(job, Placer.Free.RECLAIMABLE) != null;
            if (reclaims) {
                oldestReclaiming = older(oldestReclaiming, job);
            } else {
                oldest = older(oldest, job);
            }
        }
        // An older due job that can reclaim goes first: the reservation, made now, would bar it from the nodes.
        if (oldest != null && oldestReclaiming != null && older(oldest, oldestReclaiming) == oldestReclaiming) {
            oldest = null;
        }
        if (oldest != null && backfill.reserve(oldest) instanceof Decision.Reserve made) {
            decisions.add(made);
        }
    }

    /** The older of two jobs (by submission, then id); either may be null. */
    private static JobRequest older(JobRequest a, JobRequest b) {
        if (a == null || b == null) {
            return a == null ? b : a;
        }
        return b.submittedAt() < a.submittedAt() || b.submittedAt() == a.submittedAt() && b.id() < a.id() ? b : a;
    }

    /**
     * Due jobs, in fair order, each account's strictly in its own order: a job its account is
     * not due, or that is due but cannot start, holds the account's later jobs back (they may
     * still borrow). Returns the due jobs that wait for GPUs, one per account at most.
     */
    private List<JobRequest> admitDue(List<Queue> dueIn) {
        List<JobRequest> blocked = new ArrayList<>();
        for (Queue q : dueIn) {
            for (int i : q.due) {
                // Jobs earlier in its account's order may have used up the fair level.
                if (!q.acct.due(q.gpus(i))) {
                    break;
                }
                q.consider(i);
                JobRequest job = q.jobs.get(i);
                Outcome outcome = consider(job, true);
                if (outcome == Outcome.BLOCKED_DUE) {
                    blocked.add(job);
                }
                if (outcome == Outcome.BLOCKED_DUE || outcome == Outcome.WAITS_FOR_GPUS) {
                    break;
                }
            }
        }
        return blocked;
    }

    /**
     * Of the due jobs that cannot start, the oldest gets the reservation (if none was made
     * before the due pass); the others wait behind it. So a gang is not passed for ever by
     * smaller jobs, its own account's or others'.
     */
    private void reserveForOldestBlocked(List<JobRequest> blocked) {
        blocked.sort(Comparator.comparingLong(JobRequest::submittedAt).thenComparingLong(JobRequest::id));
        dueWaiting = !blocked.isEmpty() || cluster.reservation() != null;
        for (JobRequest job : blocked) {
            if (cluster.reservation() == null) {
                decisions.add(backfill.reserve(job));
            } else {
                decisions.add(why.waitBehind(job, accounts.of(job.account()), Shape.of(job)));
            }
        }
    }

    /**
     * The rest, in the same fair order: each starts if it fits now, borrowing beyond its
     * entitlement, or else gets the reservation if none is made. Once the reservation is made,
     * a job that wants more GPUs than are free, or more per node than any node can give it, can
     * neither start nor change anything (it is not due, so it does not reclaim): it just waits,
     * and why is told when asked. A job that asked not to be preempted is judged at its turn,
     * since its veto depends on what its account holds then, unless no GPU is free at all.
     */
    private Joined admitRestOrBackfill(List<Queue> fairOrder) {
        Joined behind = new Joined();
        for (Queue q : fairOrder) {
            for (int i = 0; i < q.jobs.size(); i++) {
                if (!q.touched() && cluster.reservation() != null && cluster.freeSum() == 0) {
                    // Nothing can change any more: the rest of this queue waits, handed over at once.
                    behind.addRun(q.jobs.subList(i, q.jobs.size()));
                    break;
                }
                if (q.considered(i)) {
                    continue;
                }
                if (backfill.waitsBehind(q, i)) {
                    behind.add(q.jobs.get(i));
                } else {
                    consider(q.jobs.get(i), false);
                }
            }
        }
        return behind;
    }

    /** What considering a job came to. */
    private enum Outcome {
        /** It starts now, or GPUs are being reclaimed for it. */
        STARTS,
        /** It waits, and not only for GPUs to free up (it never fits, or it may not borrow). */
        WAITS,
        /** It fits the cluster and waits only for GPUs to free up; its wait is decided. */
        WAITS_FOR_GPUS,
        /** A due job that waits only for GPUs, left to the due pass to reserve for or not. */
        BLOCKED_DUE
    }

    /** Decides one job, or leaves a blocked due job to its pass. */
    private Outcome consider(JobRequest job, boolean due) {
        Entitlement acct = accounts.of(job.account());
        Decision.Wait notPreemptible = why.notPreemptibleBeyond(job, acct);
        if (notPreemptible != null) {
            decisions.add(notPreemptible);
            return Outcome.WAITS;
        }
        Shape shape = Shape.of(job);
        // Free GPUs only shrink during a cycle, so a shape that found no place stays placeless;
        // with availability windows, where a job fits depends on its walltime, not on its shape alone.
        Set<Shape> noFitNow = cluster.windowed ? new HashSet<>() : cluster.endsAfterReservation(job)
                ? cluster.memos.noFitNowLate : cluster.memos.noFitNowEarly;
        List<Placer.Candidate> fit = noFitNow.contains(shape) ? null : placer.choose(job, Placer.Free.NOW);
        if (fit != null) {
            admit(job, fit, acct.borrows(job.gpus()));
            return Outcome.STARTS;
        }
        noFitNow.add(shape);
        if (!placer.fits(job, shape)) {
            decisions.add(why.neverFits(job, acct));
            return Outcome.WAITS;
        }
        if (due && mayReclaim && acct.reclaimsFor(job.gpus()) && cluster.rules.mayPreemptFor(job)
                && reclaim.forJob(job, shape)) {
            return Outcome.STARTS;
        }
        Reservation reservation = cluster.reservation();
        if (reservation != null && reservation.jobId == job.id()) {
            return Outcome.WAITS_FOR_GPUS;   // reserved for before the due pass; its decision is made
        }
        if (reservation == null) {
            if (due) {
                return Outcome.BLOCKED_DUE;
            }
            if (!dueWaiting) {
                decisions.add(backfill.reserve(job));
                return Outcome.WAITS_FOR_GPUS;
            }
            // A due job waits too, and will take the GPUs first as they free up: GPUs held idle
            // for this one would stay idle, since the rules would not let it start.
        }
        decisions.add(why.waitBehind(job, acct, shape));
        return Outcome.WAITS_FOR_GPUS;
    }

    private void admit(JobRequest job, List<Placer.Candidate> chosen, boolean borrowed) {
        List<Placement> placements = new ArrayList<>();
        long end = cluster.endOf(job);
        Reservation reservation = cluster.reservation();
        for (Placer.Candidate c : chosen) {
            NodeState n = c.state();
            placements.add(new Placement(c.node(), c.site(), c.model(), n.take(c.model(), job.gpusPerNode(), end)));
            cluster.took(c.model(), job.gpusPerNode());
            if (reservation != null && end > reservation.startAt && reservation.nodes.contains(c.node())) {
                reservation.spare.merge(c.node(), -job.gpusPerNode(), Integer::sum);
            }
        }
        accounts.of(job.account()).hold(job.gpus());
        decisions.add(new Decision.Admit(job.id(), placements, borrowed));
    }
}
