package coop.scheduler.allocation;

/** A named reason a job cannot start now; the allocator's "why pending". */
public enum Veto {
    /** No offered node has enough GPUs of the model, even when idle. */
    NO_NODE_FITS,
    /** Enough nodes could hold it, but not enough of their GPUs are free now. */
    TOO_FEW_FREE_GPUS,
    /** The free GPUs it could use are held for a job earlier in fair-share order. */
    HELD_FOR_EARLIER_JOB
}
