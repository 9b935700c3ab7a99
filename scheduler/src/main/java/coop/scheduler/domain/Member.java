package coop.scheduler.domain;

import java.util.List;

/**
 * A member of the cooperative: one vote, the accounts it may submit to, and the SHA-256 of
 * the secret token in its identity file (the token itself is never stored).
 */
public record Member(String name, List<String> accounts, String tokenSha256, long admittedAt) {
    public Member {
        accounts = List.copyOf(accounts);
    }

    public boolean belongsTo(String account) {
        return accounts.contains(account);
    }
}
