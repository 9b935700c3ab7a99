package coop.scheduler.allocation;

import java.util.List;

/**
 * The text a waiting job's submitter reads: its account's standing, then, where the job waits
 * for a place, the nodes counted by why each cannot take it ({@link NodeVetoes}), then the
 * reason in a sentence.
 */
final class WhyPending {
    private final Cluster cluster;
    private final Accounts accounts;
    private final Placer placer;
    private final List<NodeView> allNodes;

    WhyPending(Cluster cluster, Accounts accounts, Placer placer, List<NodeView> allNodes) {
        this.cluster = cluster;
        this.accounts = accounts;
        this.placer = placer;
        this.allNodes = allNodes;
    }

    /**
     * Why a job waits that the cycle left to be explained on demand: it cannot start once the
     * reservation is made (nor fit around it, nor, not being due, reclaim), told against the
     * state the cycle ended in.
     */
    Decision.Wait atEnd(JobRequest job) {
        Entitlement acct = accounts.of(job.account());
        if (cluster.reservation() == null && !cluster.nodes.isEmpty()) {
            // Only a job the cycle did not see (it came later) is asked about without one,
            // unless no node was offered, when no job could have one.
            return new Decision.Wait(job.id(), Veto.TOO_FEW_FREE_GPUS,
                    standing(acct, job) + "queued since the last allocation cycle; the next one considers it");
        }
        Decision.Wait notPreemptible = notPreemptibleBeyond(job, acct);
        if (notPreemptible != null) {
            return notPreemptible;
        }
        Shape shape = Shape.of(job);
        return placer.fits(job, shape) ? waitBehind(job, acct, shape) : neverFits(job, acct);
    }

    /** A job that asked not to be preempted waits once it would go beyond the entitlement; null if it need not. */
    Decision.Wait notPreemptibleBeyond(JobRequest job, Entitlement acct) {
        if (acct.admitsNotPreemptible(job)) {
            return null;
        }
        return new Decision.Wait(job.id(), Veto.NOT_PREEMPTIBLE_BEYOND_ENTITLEMENT,
                standing(acct, job) + "it asked not to be preempted, so it runs only within the entitlement");
    }

    /** No set of offered nodes could hold the job, even idle. */
    Decision.Wait neverFits(JobRequest job, Entitlement acct) {
        // A rank's GPUs are all of one model: said wherever the job would take more than one.
        String gpus = job.gpusEach() + (job.models().size() == 1 ? "" : " of one model");
        String sentence = job.nodes() == 1 ? "no offered node has " + gpus
                : "no " + (job.crossSite() ? "set of" : "site has") + " " + job.nodes() + " offered nodes with "
                + gpus + " each";
        sentence += needs(job);
        return new Decision.Wait(job.id(), Veto.NO_NODE_FITS, standing(acct, job) + vetoes(job) + sentence);
    }

    /**
     * What a job asks of a node besides GPUs, as a clause: " that runs containers and allows /data",
     * " giving each rank 64 GiB"; "" for nothing.
     */
    private static String needs(JobRequest job) {
        String clause = "";
        if (job.container().present()) {
            List<String> sources = job.container().sources();
            clause = " that runs containers" + (sources.isEmpty() ? "" : " and allows mounting "
                    + String.join(", ", sources));
        }
        if (job.memMib() > 0) {
            clause += (clause.isEmpty() ? " giving" : " and gives") + " each rank " + mebibytes(job.memMib())
                    + " of memory";
        }
        return clause;
    }

    /** MiB as people read them: "512 MiB", "16 GiB", "1.5 TiB". */
    static String mebibytes(long mib) {
        double amount = mib;
        String[] units = {"MiB", "GiB", "TiB"};
        int unit = 0;
        while (amount >= 1024 && unit < units.length - 1) {
            amount /= 1024;
            unit++;
        }
        String number = amount == Math.rint(amount) ? Long.toString((long) amount)
                : String.format(java.util.Locale.ROOT, "%.1f", amount);
        return number + " " + units[unit];
    }

    /** A job that fits the cluster but not now, behind the reservation or for want of free GPUs. */
    Decision.Wait waitBehind(JobRequest job, Entitlement acct, Shape shape) {
        Reservation reservation = cluster.reservation();
        if (reservation != null && placer.fitsIgnoringReservation(job, shape)) {
            return new Decision.Wait(job.id(), Veto.RESERVED_FOR_EARLIER_JOB, standing(acct, job) + vetoes(job)
                    + "the GPUs it fits on are reserved for job " + reservation.jobId
                    + " and it would not end before that starts");
        }
        return new Decision.Wait(job.id(), Veto.TOO_FEW_FREE_GPUS, standing(acct, job) + vetoes(job)
                + cluster.memos.tooFewFreeText.computeIfAbsent(shape, s -> describeFree(job)));
    }

    /** No node the job fits on stays offered until its walltime would end. */
    Decision.Wait outsideWindows(JobRequest job) {
        return new Decision.Wait(job.id(), Veto.OUTSIDE_WINDOWS, standing(accounts.of(job.account()), job)
                + vetoes(job) + "no node it fits on stays offered long enough for its walltime of "
                + job.walltimeSeconds() + " s");
    }

    /**
     * The job is first in line: what is reserved for it, where. From when is the reservation's
     * start, kept as data: whoever shows the text adds it as of the time of reading
     * ({@code WaitTime.from}), so that it counts down; only a start no walltime bounds is words here.
     */
    Decision.Reserve reserved(JobRequest job, Reservation reservation, List<String> nodes) {
        long start = reservation.startAt;
        return new Decision.Reserve(job.id(), nodes, start, standing(accounts.of(job.account()), job) + "first in line: "
                + job.shape() + " reserved on " + String.join(",", reservation.nodes)
                + (start == Long.MAX_VALUE ? " when the running jobs end" : ""));
    }

    /**
     * The account's standing, then the site the job prefers when it has one: a requeued job whose
     * checkpoints are on that site's shared file system resumes from them only there, which the
     * submitter should know while it waits.
     */
    static String standing(Entitlement acct, JobRequest job) {
        return acct.standing() + (job.prefersSite() ? "prefers site " + job.preferredSite()
                + ", where its checkpoints are; " : "");
    }

    /** The node vetoes as a clause of their own, or nothing when the snapshot has no node. */
    private String vetoes(JobRequest job) {
        String counts = placer.vetoes(job, allNodes).toString();
        return counts.isEmpty() ? "" : counts + "; ";
    }

    private String describeFree(JobRequest job) {
        int most = 0;
        String where = null;
        for (NodeState n : cluster.withFree) {
            for (String model : n.models) {
                if (job.accepts(model) && n.free(model) > most) {
                    most = n.free(model);
                    where = n.view.name();
                }
            }
        }
        return "needs " + job.gpusEach() + (job.nodes() > 1 ? " on each of " + job.nodes() + " nodes" : "") + "; "
                + (where == null ? "no GPU it can use is idle" : "most idle: " + most + " on " + where);
    }
}
