package coop.scheduler.allocation;

/**
 * An account's place in fair-share order: its voted share (basis points), its usage in
 * GPU-seconds, and the GPU-seconds its fair level would have given it over the same time (both
 * decayed with the policy's half-life; NaN when not tracked). Lower usage per unit of share goes
 * first; an account that used less than its fair GPU-seconds is owed time.
 */
public record AccountStanding(String account, int shareBasisPoints, double usedGpuSeconds, double fairGpuSeconds) {

    /** A standing without fair-level history: owed time is then judged against the voted share. */
    public AccountStanding(String account, int shareBasisPoints, double usedGpuSeconds) {
        this(account, shareBasisPoints, usedGpuSeconds, Double.NaN);
    }

    /** Usage over entitlement, up to the constant factor of capacity; +inf with no share. */
    public double priorityKey() {
        return shareBasisPoints <= 0 ? Double.POSITIVE_INFINITY : usedGpuSeconds / shareBasisPoints;
    }
}
