package coop.scheduler.domain;

import java.util.EnumSet;
import java.util.Set;

/**
 * Lifecycle of a job. A job that needs review waits in REVIEW until its panel approves it
 * (pending) or rejects it (cancelled). A pending job is placed (running) or cancelled; a
 * running job ends, is cancelled, or is requeued to pending as a new attempt when its node is lost.
 */
public enum JobState {
    PENDING, RUNNING, SUCCEEDED, FAILED, CANCELLED, REVIEW;

    private Set<JobState> next() {
        return switch (this) {
            case REVIEW -> EnumSet.of(PENDING, CANCELLED);
            case PENDING -> EnumSet.of(RUNNING, CANCELLED);
            case RUNNING -> EnumSet.of(PENDING, SUCCEEDED, FAILED, CANCELLED);
            case SUCCEEDED, FAILED, CANCELLED -> EnumSet.noneOf(JobState.class);
        };
    }

    public boolean canBecome(JobState to) {
        return next().contains(to);
    }

    public boolean isFinal() {
        return next().isEmpty();
    }
}
