package coop.scheduler.allocation;

import java.util.AbstractList;
import java.util.Collections;
import java.util.List;
import java.util.function.Function;

/**
 * An allocation cycle's decisions as one list: first those the cycle took (admits, preemptions,
 * the reservation, and the waits it decided on the way), then a wait for each job that, once the
 * reservation was made, surely could not start: it wanted more GPUs than were free, or more per
 * node than any node could give it, and had nothing to reclaim; or every pending job, when no node
 * was offered at all. Such a job changes nothing, so
 * its wait is explained when asked, as of the end of the cycle, instead of being built for every
 * pending job in every cycle. Read it on the thread that planned it.
 */
public final class Plan extends AbstractList<Decision> {
    private final List<Decision> taken;
    private final List<JobRequest> behind;
    private final Function<JobRequest, Decision.Wait> explain;

    /** {@code behind} is kept, not copied: the cycle hands it over. */
    Plan(List<Decision> taken, List<JobRequest> behind, Function<JobRequest, Decision.Wait> explain) {
        this.taken = List.copyOf(taken);
        this.behind = Collections.unmodifiableList(behind);
        this.explain = explain;
    }

    /** The decisions the cycle took, in order; every admit, preemption and reservation is here. */
    public List<Decision> taken() {
        return taken;
    }

    /**
     * The decisions a policy took: for a plan, without the waits explained on demand; any
     * other list as it is.
     */
    public static List<Decision> taken(List<Decision> decisions) {
        return decisions instanceof Plan p ? p.taken() : decisions;
    }

    /**
     * The jobs that wait behind the reservation for want of free GPUs (or for want of any node
     * offered), in the order they were met.
     */
    public List<JobRequest> behind() {
        return behind;
    }

    /**
     * Why such a job waits, as of the end of the cycle. A pending job the cycle did not see is
     * told that the next cycle will consider it, if the cycle made no reservation (and some node
     * was offered).
     */
    public Decision.Wait explain(JobRequest job) {
        return explain.apply(job);
    }

    @Override
    public Decision get(int index) {
        return index < taken.size() ? taken.get(index) : explain.apply(behind.get(index - taken.size()));
    }

    @Override
    public int size() {
        return taken.size() + behind.size();
    }
}
