package coop.scheduler.allocation;

import coop.scheduler.domain.Placement;
import coop.scheduler.domain.WaitTime;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/**
 * Operators' first claim: an operator account's single-node jobs go first onto the unused
 * reserve of the nodes it operates, taking it back from other accounts' preemptible attempts if
 * they sit on it. What this places is not borrowed and not counted against the account's share.
 * Taking back costs the borrowers little: it waits instead when borrowers there end by walltime
 * within the policy's reserve wait; a job shorter than the minimum run preempts no one (it waits
 * for the borrowers' walltimes); attempts younger than the minimum run are not preempted; and victims are
 * those with the least at stake ({@link RunningAttempt#victimKey}).
 */
final class OperatorReserves {
    private final Cluster cluster;
    private final Accounts accounts;
    private final List<Decision> decisions;

    OperatorReserves(Cluster cluster, Accounts accounts, List<Decision> decisions) {
        this.cluster = cluster;
        this.accounts = accounts;
        this.decisions = decisions;
    }

    /** Places operators' jobs on their reserves, in fair order; the jobs placed are marked considered. */
    void claim(List<Queue> fairOrder) {
        for (Queue q : fairOrder) {
            if (!cluster.operatorsWithRoom.contains(q.account)) {
                continue;
            }
            for (int i = 0; i < q.jobs.size(); i++) {
                JobRequest job = q.jobs.get(i);
                if (job.nodes() != 1) {
                    continue;
                }
                NodeState home = null;
                int homeFree = Integer.MAX_VALUE;
                for (NodeState n : cluster.nodes.values()) {
                    if (n.reserve - n.ownUse >= job.gpusPerNode() && n.operator.equals(q.account)
                            && n.view.fitsWindow(cluster.now, job.walltimeSeconds())
                            && job.servedBy(n.view)
                            && claimable(n, job) >= job.gpusPerNode() && n.freeAccepted(job) < homeFree) {
                        home = n;
                        homeFree = n.freeAccepted(job);
                    }
                }
                if (home == null) {
                    continue;
                }
                q.consider(i);
                home.ownUse += job.gpusPerNode();
                String model = home.modelFor(job, job.gpusPerNode());
                if (model != null) {
                    admit(job, home, model);
                } else {
                    takeBack(job, home);
                }
            }
        }
    }

    /** GPUs of a model the job accepts that are free here or held by other accounts' preemptible attempts. */
    private int claimable(NodeState n, JobRequest job) {
        int most = 0;
        for (String model : n.models) {
            if (job.accepts(model)) {
                most = Math.max(most, reclaimable(n, job, model));
            }
        }
        return most;
    }

    private int reclaimable(NodeState n, JobRequest job, String model) {
        int c = n.free(model) + n.terminating(model, cluster.preempted, job.id());
        for (RunningAttempt a : n.othersPreemptible(model, job.account(), cluster.preempted)) {
            c += n.here(a, model);
        }
        return c;
    }

    private void admit(JobRequest job, NodeState n, String model) {
        List<Integer> gpus = n.take(model, job.gpusPerNode(), cluster.endOf(job));
        cluster.took(model, job.gpusPerNode());
        // The reserve is not the cooperative's: the account's share is not charged for it.
        decisions.add(new Decision.Admit(job.id(), List.of(new Placement(n.view.name(), n.view.site(), model,
                gpus)), false));
    }

    /**
     * Why the job waits rather than preempts for the GPUs it misses here, or null if it may
     * preempt: borrowers ending by walltime within the reserve wait would free enough, or the job
     * is shorter than the minimum run (it would run less than what its victims lose).
     */
    private String reasonToWait(JobRequest job, NodeState n, String model, int missing) {
        long bound = cluster.now + cluster.rules.reserveWaitMs();
        int endingSoon = 0;
        long freedBy = cluster.now;
        List<RunningAttempt> soonest = new ArrayList<>(n.running);
        soonest.sort(Comparator.comparingLong(RunningAttempt::endsBy));
        for (RunningAttempt a : soonest) {
            if (endingSoon >= missing) {
                break;
            }
            int here = n.here(a, model);
            if (!a.terminating() && !a.account().equals(job.account()) && a.endsBy() <= bound && here > 0) {
                endingSoon += here;
                freedBy = a.endsBy();
            }
        }
        if (endingSoon >= missing) {
            return "borrowers there end by walltime " + WaitTime.from(freedBy, cluster.now)
                    + ", within the policy's reserve wait";
        }
        if (!cluster.rules.mayPreemptFor(job)) {
            return "a job shorter than the policy's minimum run (" + WaitTime.duration(cluster.rules.minRunMs())
                    + ") preempts no one";
        }
        return null;
    }

    /** Preempts other accounts' cheapest attempts on the operator's node until the job fits. */
    private void takeBack(JobRequest job, NodeState n) {
        String model = null;
        for (String m : n.models) {
            if (job.accepts(m) && reclaimable(n, job, m) >= job.gpusPerNode()) {
                model = m;
                break;
            }
        }
        int missing = job.gpusPerNode() - n.free(model) - n.terminating(model, cluster.preempted, job.id());
        String wait = missing <= 0 ? null : reasonToWait(job, n, model, missing);
        if (wait != null) {
            cluster.took(model, n.claim(model, job.gpusPerNode(), cluster.endOf(job)));
            decisions.add(new Decision.Wait(job.id(), Veto.RECLAIMING, accounts.of(job.account()).standing()
                    + "taking back its operator's reserve on " + n.view.name() + ": " + wait));
            return;
        }
        List<RunningAttempt> others = new ArrayList<>(n.othersPreemptible(model, job.account(), cluster.preempted));
        others.sort(Comparator.comparingLong((RunningAttempt a) -> RunningAttempt.victimKey(a, cluster.now))
                .thenComparing(Comparator.comparingLong(RunningAttempt::startedAt).reversed())
                .thenComparingLong(RunningAttempt::jobId));
        int victims = 0;
        for (RunningAttempt v : others) {
            if (missing <= 0) {
                break;
            }
            missing -= n.here(v, model);
            cluster.stopping(v, job.id());
            accounts.of(v.account()).hold(-v.gpus());
            victims++;
            decisions.add(new Decision.Preempt(v.jobId(), v.attempt(), job.id(), job.account()
                    + " taking back the reserve its operator keeps on " + n.view.name() + " for job " + job.id()));
        }
        cluster.took(model, n.claim(model, job.gpusPerNode(), cluster.endOf(job)));
        if (victims > 0 && cluster.rules.holdMs() > 0) {
            decisions.add(new Decision.Hold(job.id(), List.of(cluster.holdFor(job, n.view.name(), model))));
        }
        decisions.add(new Decision.Wait(job.id(), Veto.RECLAIMING, accounts.of(job.account()).standing()
                + "taking back its operator's reserve on " + n.view.name() + " (preempting " + victims
                + " attempt" + (victims == 1 ? "" : "s") + ")"));
    }
}
