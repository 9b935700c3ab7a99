package coop.scheduler.engine;

import coop.scheduler.domain.JobEvent;
import coop.scheduler.store.Batch;
import java.util.ArrayList;
import java.util.List;

/**
 * What one turn of the event loop changes: the records to write (one synced batch) and the
 * messages to send once they are on disk. Orders to agents are never sent before the state
 * that explains them is durable; nor are the job events its submitters may be told of.
 */
public final class Tx {
    private final Batch batch;
    private final List<Runnable> afterCommit = new ArrayList<>();
    private final List<JobEvent> jobEvents = new ArrayList<>();
    private boolean allocationDue;
    /** Whether something other than a job joining a queue made the cycle due. */
    private boolean moreThanQueued;

    Tx(Batch batch) {
        this.batch = batch;
    }

    public Batch batch() {
        return batch;
    }

    public void afterCommit(Runnable action) {
        afterCommit.add(action);
    }

    /** A job event to hand to the notifier once the turn is on disk. */
    public void jobEvent(JobEvent event) {
        jobEvents.add(event);
    }

    /** Something changed that may let a pending job start. */
    public void allocationDue() {
        allocationDue = true;
        moreThanQueued = true;
    }

    /**
     * A job joined a queue, and nothing else changed for it: it may start if a node has room, but
     * the nodes, the running attempts and the policy are as the last cycle saw them.
     */
    public void jobQueued() {
        allocationDue = true;
    }

    /** Whether the cycle is due only because jobs joined queues this turn. */
    boolean onlyJobsQueued() {
        return allocationDue && !moreThanQueued;
    }

    boolean isAllocationDue() {
        return allocationDue;
    }

    List<JobEvent> jobEvents() {
        return jobEvents;
    }

    List<Runnable> afterCommitActions() {
        return afterCommit;
    }
}
