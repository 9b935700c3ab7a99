package coop.scheduler.allocation;

/**
 * An account's place in fair-share order: its voted share (basis points) and its usage in
 * GPU-seconds, decayed with the policy's half-life. Lower usage per unit of share goes first.
 */
public record AccountStanding(String account, int shareBasisPoints, double usedGpuSeconds) {

    /** Usage over entitlement, up to the constant factor of capacity; +inf with no share. */
    public double priorityKey() {
        return shareBasisPoints <= 0 ? Double.POSITIVE_INFINITY : usedGpuSeconds / shareBasisPoints;
    }
}
