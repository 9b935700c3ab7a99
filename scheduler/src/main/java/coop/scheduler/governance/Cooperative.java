package coop.scheduler.governance;

import coop.scheduler.domain.Account;
import coop.scheduler.domain.CoopException;
import coop.scheduler.domain.Member;
import coop.scheduler.domain.Names;
import coop.scheduler.domain.Policy;
import coop.scheduler.domain.Role;
import coop.scheduler.ledger.Keys;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * Who the cooperative is now: its members, its accounts, every policy version it has had, and
 * the latest {@code signed_at} it accepted from each member on each target, so that an old
 * statement cannot be replayed over a newer one.
 */
final class Cooperative {
    final Map<String, Member> members = new TreeMap<>();
    final Map<String, Account> accounts = new TreeMap<>();
    final List<Policy> policies = new ArrayList<>();
    /** Members who left of their own will, as against those a vote removed. */
    final Set<String> resigned = new TreeSet<>();
    /** Latest signed_at accepted per member and target ("propose", "ballot/7", "delegate/shares", "review/12"). */
    private final Map<String, Long> lastSigned = new HashMap<>();

    Policy policy() {
        return policies.get(policies.size() - 1);
    }

    Set<String> openAccounts() {
        Set<String> out = new TreeSet<>();
        accounts.values().stream().filter(Account::open).forEach(a -> out.add(a.name()));
        return out;
    }

    /** Members who may vote: active, with the member role. */
    List<String> voters() {
        List<String> out = new ArrayList<>();
        members.values().stream().filter(m -> m.has(Role.MEMBER)).forEach(m -> out.add(m.name()));
        return out;
    }

    /** Reads a member record (a founder, or one an admit proposal names) whose accounts must be open. */
    Member memberFrom(String field, Map<String, Object> o, long at) {
        String name = Names.require(field + ".name", Fields.string(o, "name"));
        List<String> accts = new ArrayList<>();
        if (o.get("accounts") instanceof List<?> l) {
            for (Object a : l) {
                String acc = String.valueOf(a);
                Account account = accounts.get(acc);
                if (account == null || !account.open()) {
                    throw CoopException.invalid(field + ".accounts", "no open account named '" + acc + "'");
                }
                accts.add(acc);
            }
        }
        Set<Role> roles = EnumSet.noneOf(Role.class);
        if (o.get("roles") instanceof List<?> l) {
            for (Object r : l) {
                roles.add(Role.parse(field + ".roles", String.valueOf(r)));
            }
        }
        if (roles.isEmpty()) {
            throw CoopException.invalid(field + ".roles", "name at least one role (member, researcher, operator)");
        }
        String key = Fields.string(o, "public_key");
        try {
            Keys.publicKey(key);
        } catch (IllegalArgumentException e) {
            throw CoopException.invalid(field + ".public_key", e.getMessage());
        }
        String token = Fields.string(o, "token_sha256");
        if (!token.matches("[0-9a-f]{64}")) {
            throw CoopException.invalid(field + ".token_sha256", "must be 64 lower-case hex digits (SHA-256)");
        }
        return new Member(name, accts, roles, key, token, at, 0);
    }

    /** Whether {@code m} is the only member left with a vote. */
    boolean lastVoter(Member m) {
        return m.has(Role.MEMBER) && voters().size() <= 1;
    }

    void requireVoter(Member m, String what) {
        if (!m.has(Role.MEMBER)) {
            throw CoopException.denied("member " + m.name() + " has no vote, so cannot " + what);
        }
    }

    void requireNewer(String member, String target, long signedAt) {
        Long last = lastSigned.get(member + "/" + target);
        if (last != null && signedAt <= last) {
            throw CoopException.precondition("signed_at: " + member + " already signed a later or equal " + target
                    + " statement; an old statement cannot be replayed");
        }
    }

    /** Records that {@code member}'s statement on {@code target} signed at {@code signedAt} was accepted. */
    void accepted(String member, String target, long signedAt) {
        lastSigned.put(member + "/" + target, signedAt);
    }

    /** Everything above as a canonical map ({@link Image}). */
    SortedMap<String, Object> image() {
        SortedMap<String, Object> o = new TreeMap<>();
        o.put("members", Image.list(members.values(), Image::member));
        o.put("accounts", Image.list(accounts.values(), Image::account));
        o.put("policies", Image.list(policies, Image::policy));
        o.put("resigned", List.copyOf(resigned));
        o.put("last_signed", new TreeMap<>(lastSigned));
        return o;
    }

    /** Fills an empty cooperative from its {@link #image()}. */
    void restore(Map<String, Object> o) {
        Image.list(o, "members", Image::member).forEach(m -> members.put(m.name(), m));
        Image.list(o, "accounts", Image::account).forEach(a -> accounts.put(a.name(), a));
        policies.addAll(Image.list(o, "policies", Image::policy));
        resigned.addAll(Fields.strings(o, "resigned"));
        Fields.map(o, "last_signed").forEach((k, v) -> lastSigned.put(k, ((Number) v).longValue()));
    }
}
