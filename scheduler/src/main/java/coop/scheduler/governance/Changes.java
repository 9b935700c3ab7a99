package coop.scheduler.governance;

import coop.scheduler.domain.Account;
import coop.scheduler.domain.Constitution;
import coop.scheduler.domain.CoopException;
import coop.scheduler.domain.Member;
import coop.scheduler.domain.Names;
import coop.scheduler.domain.Params;
import coop.scheduler.domain.Policy;
import coop.scheduler.domain.Proposal;
import coop.scheduler.domain.ProposalKind;
import coop.scheduler.domain.Role;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.SortedMap;
import java.util.TreeMap;

/**
 * The changes proposals make, per kind: checked against the state when proposed and again at
 * close (the state may have moved meanwhile), then put into effect when passed.
 */
final class Changes {
    /** Most accounts one admitted member may submit to. */
    static final int MAX_MEMBER_ACCOUNTS = 64;

    private final Cooperative coop;
    private final Delegations delegations;

    Changes(Cooperative coop, Delegations delegations) {
        this.coop = coop;
        this.delegations = delegations;
    }

    /**
     * Checks a proposed change against the state now.
     *
     * @param prefix "" when proposing; "no longer valid: " when re-checked at close
     */
    void validate(ProposalKind kind, Map<String, Object> change, String prefix) {
        Policy policy = coop.policy();
        switch (kind) {
            case SHARES -> {
                SortedMap<String, Integer> shares = Fields.intMap(Fields.mapOrEmpty(change.get("shares"), "shares"));
                Rules.validateShares(shares, coop.openAccounts());
                Rules.checkFloors("shares", shares, policy.constitution());
            }
            case SHARE_BUDGET -> {
                if (!change.isEmpty()) {
                    throw CoopException.invalid("change", "a share-budget proposal takes no change: members "
                            + "vote with their splits");
                }
            }
            case PARAM -> policy.params().with(Fields.mapOrEmpty(change.get("params"), "params"));
            case AMEND -> {
                Constitution next = policy.constitution().with(change, coop.openAccounts());
                Rules.checkFloors("amend.floors", policy.shares(), next);
            }
            case ADMIT -> validateAdmit(change, policy);
            case REMOVE -> {
                String name = Names.require("name", Fields.string(change, "name"));
                Member target = coop.members.get(name);
                if (target == null || !target.active()) {
                    throw CoopException.invalid("name", "'" + name + "' is not a member");
                }
                if (coop.lastVoter(target)) {
                    throw CoopException.invalid("name", "cannot remove the last member with a vote");
                }
            }
            case ACCOUNT -> validateAccount(change, prefix, policy);
            default -> throw new IllegalStateException(kind.toString());
        }
    }

    private void validateAdmit(Map<String, Object> change, Policy policy) {
        String name = Names.require("name", Fields.string(change, "name"));
        if (change.get("accounts") instanceof List<?> l
                && (l.size() > MAX_MEMBER_ACCOUNTS || new HashSet<>(l).size() != l.size())) {
            throw CoopException.invalid("accounts", "at most " + MAX_MEMBER_ACCOUNTS
                    + " accounts, each named once");
        }
        if (change.get("roles") instanceof List<?> l
                && (l.size() > Role.values().length || new HashSet<>(l).size() != l.size())) {
            throw CoopException.invalid("roles", "each of member, researcher, operator at most once");
        }
        if (coop.members.containsKey(name)) {
            throw new CoopException(CoopException.Kind.ALREADY_EXISTS, "name: '" + name
                    + "' is or was already a member");
        }
        Member candidate = coop.memberFrom("admit", change, 0);
        if (policy.constitution().everyMemberVotes() && !candidate.roles().contains(Role.MEMBER)) {
            throw CoopException.invalid("roles", "the constitution gives every member a vote: include the "
                    + "member role");
        }
    }

    private void validateAccount(Map<String, Object> change, String prefix, Policy policy) {
        String action = Fields.string(change, "action");
        String name = Names.require("name", Fields.string(change, "name"));
        if (action.equals("create")) {
            if (coop.accounts.containsKey(name)) {
                throw new CoopException(CoopException.Kind.ALREADY_EXISTS, "name: account '" + name
                        + "' already exists");
            }
        } else if (action.equals("close")) {
            Account a = coop.accounts.get(name);
            if (a == null || !a.open()) {
                throw CoopException.invalid("name", "no open account named '" + name + "'");
            }
            if (coop.openAccounts().size() <= 1) {
                throw CoopException.invalid("name", "cannot close the last open account");
            }
            if (!prefix.isEmpty() && policy.share(name) > 0) {
                throw CoopException.precondition("account " + name + " still holds "
                        + Rules.percent(policy.share(name)) + "; pass a shares proposal giving it 0% first");
            }
        } else {
            throw CoopException.invalid("action", "must be create or close, got '" + action + "'");
        }
    }

    /**
     * A member leaves, removed by a vote or of its own will: its record stays, so its past
     * statements still verify, and its delegations lapse.
     */
    void depart(String name, long now) {
        coop.members.put(name, coop.members.get(name).removed(now));
        delegations.lapse(name);
    }

    /** Puts a passed proposal into effect; returns the new policy version, or null when the policy is unchanged. */
    @SuppressWarnings("unchecked")
    Policy enact(Proposal p, SortedMap<String, Integer> aggregate, long now) {
        Policy cur = coop.policy();
        SortedMap<String, Integer> shares = new TreeMap<>(cur.shares());
        Params params = cur.params();
        Constitution constitution = cur.constitution();
        Map<String, Object> change = p.change();
        switch (p.kind()) {
            case SHARES -> shares = p.shares();
            case SHARE_BUDGET -> shares = aggregate;
            case PARAM -> params = params.with((Map<String, Object>) change.get("params"));
            case AMEND -> constitution = constitution.with(change, coop.openAccounts());
            case ACCOUNT -> {
                String name = Fields.string(change, "name");
                if (Fields.string(change, "action").equals("create")) {
                    coop.accounts.put(name, new Account(name, now, 0));
                    shares.put(name, 0);
                } else {
                    coop.accounts.put(name, new Account(name, coop.accounts.get(name).createdAt(), now));
                    shares.remove(name);
                    constitution = constitution.withoutFloor(name);
                }
            }
            case ADMIT -> {
                Member m = coop.memberFrom("admit", change, now);
                coop.members.put(m.name(), m);
                return null;
            }
            case REMOVE -> {
                depart(Fields.string(change, "name"), now);
                return null;
            }
            default -> throw new IllegalStateException(p.kind().toString());
        }
        boolean sharesChanged = !shares.equals(cur.shares());
        Policy next = new Policy(cur.version() + 1, shares, params, constitution, now, p.id(),
                sharesChanged ? now : cur.sharesSince());
        coop.policies.add(next);
        return next;
    }
}
