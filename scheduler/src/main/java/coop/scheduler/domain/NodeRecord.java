package coop.scheduler.domain;

/**
 * An enrolled node: where it is, the account of the operator who enrolled it (its own jobs go
 * there), who enrolled it, the SHA-256 of the secret its agent proves itself with, and whether
 * its operator is draining it (no new work), and why.
 */
public record NodeRecord(String name, String site, String account, String operator, String tokenSha256,
                         long enrolledAt, boolean draining, String drainReason) {
    public NodeRecord {
        drainReason = drainReason == null ? "" : drainReason;
    }

    public NodeRecord drained(boolean drain, String reason) {
        return new NodeRecord(name, site, account, operator, tokenSha256, enrolledAt, drain, drain ? reason : "");
    }
}
