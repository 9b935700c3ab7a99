package coop.scheduler.domain;

import java.util.ArrayList;
import java.util.List;

/**
 * Something that happened to a job that its submitter may be told of ({@link NotifyEvent}): the
 * job as it is just after, and when, epoch ms. Made by comparing a job's two versions
 * ({@link #between}), so that every change the scheduler saves is seen the same way.
 */
public record JobEvent(NotifyEvent event, Job job, long at) {

    /**
     * The events between a job's stored version and its next: BEGIN when a new attempt runs,
     * PREEMPT when the running attempt is told to stop for another job, REQUEUE when the job goes
     * from running back to pending, and at a final state END, or FAIL for FAILED and TIMEOUT.
     */
    public static List<JobEvent> between(Job before, Job after, long now) {
        if (before == null) {
            return List.of();
        }
        List<JobEvent> events = new ArrayList<>(1);
        if (after.attemptNumber() > before.attemptNumber() && after.state() == JobState.RUNNING) {
            events.add(new JobEvent(NotifyEvent.BEGIN, after, now));
        }
        Attempt was = before.current();
        Attempt is = after.current();
        if (is != null && was != null && is.number() == was.number() && is.isPreempted() && !was.isPreempted()) {
            events.add(new JobEvent(NotifyEvent.PREEMPT, after, now));
        }
        if (before.state() == JobState.RUNNING && after.state() == JobState.PENDING) {
            events.add(new JobEvent(NotifyEvent.REQUEUE, after, now));
        }
        if (!before.state().isFinal() && after.state().isFinal()) {
            boolean failed = after.state() == JobState.FAILED || after.state() == JobState.TIMEOUT;
            events.add(new JobEvent(failed ? NotifyEvent.FAIL : NotifyEvent.END, after, now));
        }
        return events;
    }

    /** The exit code of the job's last attempt once it is over, else 0. */
    public int exitCode() {
        Attempt a = job.current();
        return a != null && a.isOver() ? a.exitCode() : 0;
    }

    /** Why it ended, was preempted or requeued: the scheduler's reason, else its last attempt's outcome. */
    public String reason() {
        if (!job.endReason().isEmpty()) {
            return job.endReason();
        }
        Attempt a = job.current();
        return a == null ? "" : a.outcome();
    }

    /** One line a person reads: "job 42 (train) of alice in lab-a failed: exit code 3". */
    public String text() {
        String who = "job " + job.id() + (job.name().isEmpty() ? "" : " (" + job.name() + ")") + " of " + job.member()
                + " in " + job.account();
        String why = reason();
        String state = job.state().name();
        return switch (event) {
            case BEGIN -> who + " started" + (job.current() == null ? "" : " attempt " + job.current().number()
                    + " on " + String.join(",", job.current().placements().stream().map(Placement::node)
                    .distinct().toList()));
            case PREEMPT -> who + " is being preempted" + (why.isEmpty() ? "" : ": " + why);
            case REQUEUE -> who + " was requeued" + (why.isEmpty() ? "" : ": " + why);
            case END, FAIL -> who + " ended " + state + (job.current() == null || !job.current().isOver() ? ""
                    : " with exit code " + exitCode()) + (why.isEmpty() || why.equals("exited") ? "" : " (" + why + ")");
        };
    }
}
