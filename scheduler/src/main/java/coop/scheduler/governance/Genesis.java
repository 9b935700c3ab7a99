package coop.scheduler.governance;

import coop.scheduler.domain.Account;
import coop.scheduler.domain.Constitution;
import coop.scheduler.domain.CoopException;
import coop.scheduler.domain.Member;
import coop.scheduler.domain.Names;
import coop.scheduler.domain.Params;
import coop.scheduler.domain.Policy;
import coop.scheduler.domain.Role;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * The founding of a cooperative: the genesis entry's body (founders, accounts, and the founding
 * policy of equal shares) and the state it founds.
 */
final class Genesis {
    private Genesis() {
    }

    static SortedMap<String, Object> body(List<Member> founders, List<String> accountNames, Params params,
                                          Constitution constitution) {
        if (founders.isEmpty()) {
            throw CoopException.invalid("members", "a cooperative needs at least one founding member");
        }
        if (accountNames.isEmpty()) {
            throw CoopException.invalid("accounts", "a cooperative needs at least one account");
        }
        List<Object> ms = new ArrayList<>();
        founders.forEach(m -> ms.add(memberMap(m)));
        SortedMap<String, Object> shares = new TreeMap<>();
        List<String> sorted = new ArrayList<>(new TreeSet<>(accountNames));
        long each = Rules.WHOLE / sorted.size();
        long rest = Rules.WHOLE - each * sorted.size();
        for (String a : sorted) {
            shares.put(a, each + (rest-- > 0 ? 1 : 0));
        }
        SortedMap<String, Object> policy = new TreeMap<>();
        policy.put("shares", shares);
        policy.put("params", params.toMap());
        policy.put("constitution", constitution.toMap());
        SortedMap<String, Object> body = new TreeMap<>();
        body.put("members", ms);
        body.put("accounts", sorted);
        body.put("policy", policy);
        return body;
    }

    private static SortedMap<String, Object> memberMap(Member m) {
        SortedMap<String, Object> o = new TreeMap<>();
        o.put("name", m.name());
        o.put("accounts", m.accounts());
        List<String> roles = new ArrayList<>();
        EnumSet.copyOf(m.roles().isEmpty() ? EnumSet.noneOf(Role.class) : m.roles()).forEach(r -> roles.add(r.label()));
        o.put("roles", roles);
        o.put("public_key", m.publicKey());
        o.put("token_sha256", m.tokenSha256());
        return o;
    }

    /** Fills an empty cooperative from a genesis body dated {@code at}. */
    @SuppressWarnings("unchecked")
    static void found(Map<String, Object> body, long at, Cooperative coop) {
        for (Object a : (List<Object>) body.get("accounts")) {
            coop.accounts.put(Names.require("accounts", (String) a), new Account((String) a, at, 0));
        }
        for (Object o : (List<Object>) body.get("members")) {
            Member m = coop.memberFrom("members", (Map<String, Object>) o, at);
            coop.members.put(m.name(), m);
        }
        Map<String, Object> p = (Map<String, Object>) body.get("policy");
        SortedMap<String, Integer> shares = Fields.intMap((Map<String, Object>) p.get("shares"));
        Rules.validateShares(shares, coop.accounts.keySet());
        coop.policies.add(new Policy(1, shares, Params.fromMap((Map<String, Object>) p.get("params")),
                Constitution.fromMap((Map<String, Object>) p.get("constitution")), at, 0, at));
    }
}
