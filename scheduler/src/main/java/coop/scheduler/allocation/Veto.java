package coop.scheduler.allocation;

/** A named reason a job cannot start now; the allocator's "why pending". */
public enum Veto {
    /** No offered node has enough GPUs of the model, even when idle. */
    NO_NODE_FITS,
    /** Enough nodes could hold it, but not enough of their GPUs are free now. */
    TOO_FEW_FREE_GPUS,
    /** The free GPUs it fits on are reserved for a job earlier in line, and it would not end before that starts. */
    RESERVED_FOR_EARLIER_JOB,
    /** It is within its account's entitlement; borrowed GPUs it needs are being taken back for it. */
    RECLAIMING,
    /** It asked not to be preempted, and its account has no entitlement left for it. */
    NOT_PREEMPTIBLE_BEYOND_ENTITLEMENT,
    /** Every node it fits on closes its availability window before the job's walltime would end. */
    OUTSIDE_WINDOWS
}
