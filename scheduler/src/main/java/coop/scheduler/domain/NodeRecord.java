package coop.scheduler.domain;

/**
 * An enrolled node: where it is, the account of the operator who enrolled it (its own jobs go
 * there), who enrolled it, and the SHA-256 of the secret its agent proves itself with.
 */
public record NodeRecord(String name, String site, String account, String operator, String tokenSha256,
                         long enrolledAt) {
}
