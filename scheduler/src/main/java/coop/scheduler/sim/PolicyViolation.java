package coop.scheduler.sim;

/**
 * A policy decided something impossible (a job on busy GPUs, the wrong number of GPUs, a
 * preemption of an attempt that does not run). That is a bug in the policy, so the replay
 * stops rather than paper over it.
 */
public final class PolicyViolation extends IllegalStateException {
    public PolicyViolation(String message) {
        super(message);
    }
}
