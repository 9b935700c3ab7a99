package coop.scheduler.sim;

import coop.scheduler.allocation.ClusterSnapshot;
import coop.scheduler.allocation.Decision;
import coop.scheduler.allocation.JobRequest;
import coop.scheduler.allocation.SchedulingPolicy;
import coop.scheduler.allocation.Veto;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;

/**
 * Baseline: one global queue in submit order with strict head-of-line blocking. Jobs start
 * first-fit, gangs all or nothing, until the first one that does not fit; it and everything
 * behind it wait. Shares play no part, and nothing is preempted. A job that could not run even
 * on the idle cluster is skipped rather than blocking the queue forever.
 */
public final class FifoPolicy implements SchedulingPolicy {
    static final Comparator<JobRequest> SUBMIT_ORDER =
            Comparator.comparingLong(JobRequest::submittedAt).thenComparingLong(JobRequest::id);

    @Override
    public String name() {
        return "fifo";
    }

    @Override
    public List<Decision> plan(ClusterSnapshot snapshot) {
        List<JobRequest> queue = new ArrayList<>(snapshot.pending());
        queue.sort(SUBMIT_ORDER);
        FirstFit free = new FirstFit(snapshot.nodes(), false);
        FirstFit idle = new FirstFit(snapshot.nodes(), true);
        List<Decision> decisions = new ArrayList<>(queue.size());
        String behindHead = null;
        for (JobRequest job : queue) {
            if (behindHead != null) {
                decisions.add(new Decision.Wait(job.id(), Veto.TOO_FEW_FREE_GPUS, behindHead));
                continue;
            }
            Optional<List<coop.scheduler.domain.Placement>> placed = free.take(job);
            if (placed.isPresent()) {
                decisions.add(new Decision.Admit(job.id(), placed.get()));
            } else if (!idle.fits(job)) {
                decisions.add(new Decision.Wait(job.id(), Veto.NO_NODE_FITS, "no node set fits " + job.shape()));
            } else {
                behindHead = "behind job " + job.id() + ", first in the queue";
                decisions.add(new Decision.Wait(job.id(), Veto.TOO_FEW_FREE_GPUS,
                        "first in the queue; too few free GPUs for " + job.shape()));
            }
        }
        return decisions;
    }
}
