package coop.scheduler.governance;

import coop.scheduler.domain.Choice;
import coop.scheduler.domain.Member;
import coop.scheduler.domain.ProposalKind;
import coop.scheduler.domain.Role;
import coop.scheduler.domain.Topic;
import coop.scheduler.ledger.Canonical;
import coop.scheduler.ledger.Entry;
import coop.scheduler.ledger.Keys;
import java.security.KeyPair;
import java.util.EnumSet;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SortedMap;

/** Members with real Ed25519 keys, and their signed statements, for governance tests. */
public final class TestMembers {
    private final Map<String, KeyPair> keys = new HashMap<>();

    /** A member with every role and a fresh key; its token is "token-NAME". */
    public Member member(String name, List<String> accounts) {
        return member(name, accounts, EnumSet.allOf(Role.class));
    }

    public Member member(String name, List<String> accounts, java.util.Set<Role> roles) {
        KeyPair kp = keys.computeIfAbsent(name, n -> Keys.generate());
        return new Member(name, accounts, roles, Keys.encode(kp.getPublic()), Entry.sha256("token-" + name), 0, 0);
    }

    public String publicKey(String name) {
        return Keys.encode(keys.computeIfAbsent(name, n -> Keys.generate()).getPublic());
    }

    public String sign(SortedMap<String, Object> statement) {
        return Keys.sign(keys.get((String) statement.get("member")).getPrivate(), Canonical.encode(statement));
    }

    /** A signed statement, ready for {@link Governance#submit}. */
    public record Signed(SortedMap<String, Object> statement, String signature) {
    }

    public Signed signed(SortedMap<String, Object> statement) {
        return new Signed(statement, sign(statement));
    }

    public Signed propose(String member, long now, ProposalKind kind, long closesIn, Map<String, Object> change) {
        return signed(Statements.propose(member, now, kind, "", closesIn, change));
    }

    public Signed shares(String member, long now, long closesIn, Map<String, Long> shares) {
        return propose(member, now, ProposalKind.SHARES, closesIn, Map.of("shares", new java.util.TreeMap<>(shares)));
    }

    public Signed vote(String member, long now, long proposal, Choice choice) {
        return signed(Statements.ballot(member, now, proposal, choice, Map.of()));
    }

    public Signed split(String member, long now, long proposal, Map<String, Integer> split) {
        return signed(Statements.ballot(member, now, proposal, Choice.YES, split));
    }

    public Signed delegate(String member, long now, Topic topic, String to) {
        return signed(Statements.delegate(member, now, topic, to));
    }

    public Signed review(String member, long now, long job, boolean approve) {
        return signed(Statements.review(member, now, job, approve, approve ? "fine" : "too risky"));
    }
}
