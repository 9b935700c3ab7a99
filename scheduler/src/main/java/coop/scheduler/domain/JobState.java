package coop.scheduler.domain;

import java.util.EnumSet;
import java.util.Set;

/**
 * Lifecycle of a job. A job that needs review waits in REVIEW until its panel approves it
 * (pending) or rejects it (cancelled). A pending job is placed (running) or cancelled; a
 * running job ends, is cancelled, or is requeued to pending as a new attempt when its node is lost.
 * A job whose last attempt was stopped at its walltime ends TIMEOUT whatever its exit code: a
 * program that exits 0 on the stop signal did not finish its work.
 */
public enum JobState {
    PENDING, RUNNING, SUCCEEDED, FAILED, CANCELLED, REVIEW, TIMEOUT;

    private Set<JobState> next() {
        return switch (this) {
            case REVIEW -> EnumSet.of(PENDING, CANCELLED);
            case PENDING -> EnumSet.of(RUNNING, CANCELLED);
            case RUNNING -> EnumSet.of(PENDING, SUCCEEDED, FAILED, CANCELLED, TIMEOUT);
            case SUCCEEDED, FAILED, CANCELLED, TIMEOUT -> EnumSet.noneOf(JobState.class);
        };
    }

    public boolean canBecome(JobState to) {
        return next().contains(to);
    }

    public boolean isFinal() {
        return next().isEmpty();
    }
}
