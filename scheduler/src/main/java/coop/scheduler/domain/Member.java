package coop.scheduler.domain;

import java.util.List;
import java.util.Set;

/**
 * A member of the cooperative: its roles, the accounts it may submit to, its Ed25519 public
 * key (base64 of X.509), which checks its signed ballots and proposals, and the SHA-256 of the
 * secret token in its identity file (the token itself is never stored). A removed member keeps
 * its record, so its past ballots still verify, but can no longer act.
 */
public record Member(String name, List<String> accounts, Set<Role> roles, String publicKey, String tokenSha256,
                     long admittedAt, long removedAt) {
    public Member {
        accounts = List.copyOf(accounts);
        roles = roles.isEmpty() ? Set.of() : java.util.Collections.unmodifiableSet(java.util.EnumSet.copyOf(roles));
    }

    public boolean belongsTo(String account) {
        return accounts.contains(account);
    }

    public boolean active() {
        return removedAt == 0;
    }

    public boolean has(Role role) {
        return active() && roles.contains(role);
    }

    public Member removed(long at) {
        return new Member(name, accounts, roles, publicKey, tokenSha256, admittedAt, at);
    }
}
