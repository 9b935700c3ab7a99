package coop.scheduler.allocation;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/**
 * Taking GPUs back, as Kueue's preemption does for a workload within its nominal quota: a job
 * within its entitlement that fits only with GPUs held by other accounts' borrowed attempts
 * preempts the fewest of them, on the nodes where they cost least. Victims are chosen by
 * {@link RunningAttempt#victimKey}: a job preempted fewer times first, then the least work lost
 * since its last checkpoint; among equals, the most over-entitled account's, the newest. Attempts
 * younger than the policy's minimum run are not victims, and a job shorter than that preempts no
 * one. It waits for them to stop; nobody later in the cycle may take those GPUs, no other job
 * counts GPUs being freed for it, in this cycle or a later one, and (under a policy that holds)
 * the GPUs stay held for it as they come free, until it starts or the hold lapses.
 */
final class Reclaim {
    private final Cluster cluster;
    private final Accounts accounts;
    private final Placer placer;
    private final List<Decision> decisions;

    Reclaim(Cluster cluster, Accounts accounts, Placer placer, List<Decision> decisions) {
        this.cluster = cluster;
        this.accounts = accounts;
        this.placer = placer;
        this.decisions = decisions;
    }

    /**
     * Frees GPUs for the job by preempting borrowed attempts, and claims them for it. False when
     * borrowers do not hold enough GPUs where the job could run.
     */
    boolean forJob(JobRequest job, Shape shape) {
        Memos.ReclaimKey key = new Memos.ReclaimKey(shape, job.account(), cluster.endsAfterReservation(job));
        if (!cluster.windowed && cluster.memos.reclaimFailed.contains(key)) {
            return false;
        }
        List<Placer.Candidate> target = placer.choose(job, Placer.Free.RECLAIMABLE);
        if (target == null) {
            cluster.memos.reclaimFailed.add(key);
            return false;
        }
        List<RunningAttempt> victims = new ArrayList<>();
        for (Placer.Candidate c : target) {
            NodeState n = c.state();
            int missing = job.gpusPerNode() - n.free(c.model()) - n.terminating(c.model(), cluster.preempted, job.id());
            while (missing > 0) {
                // Re-ranked after every pick: each preemption lowers its account's excess.
                RunningAttempt v = n.othersPreemptible(c.model(), job.account(), cluster.preempted).stream()
                        .filter(a -> accounts.yields(a, job))
                        .min(Comparator.comparingLong((RunningAttempt a) -> RunningAttempt.victimKey(a, cluster.now))
                                .thenComparingDouble(a -> -accounts.of(a.account()).overEntitlement())
                                .thenComparing(Comparator.comparingLong(RunningAttempt::startedAt).reversed())
                                .thenComparingLong(RunningAttempt::jobId))
                        .orElse(null);
                if (v == null) {
                    // Each attempt looked borrowed alone, but not all of them together: give up.
                    for (RunningAttempt undo : victims) {
                        cluster.preempted.remove(undo.jobId());
                        accounts.of(undo.account()).hold(undo.gpus());
                    }
                    cluster.memos.reclaimFailed.add(key);
                    return false;
                }
                missing -= n.here(v, c.model());
                victims.add(v);
                cluster.stopping(v, job.id());
                accounts.of(v.account()).hold(-v.gpus());
            }
        }
        for (Placer.Candidate c : target) {
            cluster.took(c.model(), c.state().claim(c.model(), job.gpusPerNode(), cluster.endOf(job)));
            // Attempts stopping for no job in particular that this job counted on: its own from now on,
            // so that no later reclaim in the cycle counts their GPUs too.
            for (RunningAttempt a : c.state().running) {
                if (a.terminating() && a.stoppingFor() == 0 && !cluster.preempted.containsKey(a.jobId())
                        && c.state().here(a, c.model()) > 0) {
                    cluster.preempted.put(a.jobId(), job.id());
                }
            }
        }
        if (cluster.rules.holdMs() > 0) {
            decisions.add(new Decision.Hold(job.id(), target.stream()
                    .map(c -> cluster.holdFor(job, c.node(), c.model())).toList()));
        }
        for (RunningAttempt v : victims) {
            decisions.add(new Decision.Preempt(v.jobId(), v.attempt(), job.id(), job.account()
                    + " reclaiming its share for job " + job.id() + " (" + v.account() + " had borrowed the GPUs)"));
        }
        decisions.add(new Decision.Wait(job.id(), Veto.RECLAIMING, WhyPending.standing(accounts.of(job.account()), job)
                + "reclaiming " + job.gpus() + " GPUs from borrowers on " + String.join(",", target.stream()
                .map(Placer.Candidate::node).toList()) + (victims.isEmpty() ? " (already stopping)"
                : " (preempting " + victims.size() + " borrowed attempt" + (victims.size() > 1 ? "s" : "") + ")")));
        return true;
    }
}
