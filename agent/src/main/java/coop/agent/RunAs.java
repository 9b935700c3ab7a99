package coop.agent;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * Which local user runs each account's ranks: the operator's map ({@code --run-as
 * lab-a=coop-lab-a,*=coop-job}), or, with no map, the agent's own user. A rank never runs as
 * root unless the operator said so ({@code --allow-root-jobs}): lending a node must not mean
 * handing it over.
 */
public final class RunAs {

    /** The map's key for every account it does not name. */
    public static final String ANY = "*";

    private final Map<String, LocalUser> byAccount;
    private final LocalUser agentUser;
    private final boolean allowRoot;

    private RunAs(Map<String, LocalUser> byAccount, LocalUser agentUser, boolean allowRoot) {
        this.byAccount = Collections.unmodifiableMap(new LinkedHashMap<>(byAccount));
        this.agentUser = agentUser;
        this.allowRoot = allowRoot;
    }

    /** Ranks run as the agent's own user, whoever that is: for tests, the demo and embedded agents. */
    public static RunAs agentUser() {
        return new RunAs(Map.of(), LocalUser.current(), true);
    }

    /**
     * Reads the operator's map and checks it against this host.
     *
     * @param map {@code ACCOUNT=USER,...} with {@code *} for every other account; null or empty for none
     * @param allowRoot whether ranks may run as root ({@code --allow-root-jobs})
     * @param agent the user the agent runs as
     * @param users the host's user database
     * @throws IllegalArgumentException naming the flag and the rule, for a map that is malformed or
     *     names an unknown user, for a map on an agent that cannot switch users, and for a root agent
     *     with no map that was not allowed to run jobs as root
     */
    public static RunAs parse(String map, boolean allowRoot, LocalUser agent,
            java.util.function.Function<String, Optional<LocalUser>> users) {
        Map<String, LocalUser> byAccount = new LinkedHashMap<>();
        if (map != null && !map.isBlank()) {
            if (!agent.isRoot()) {
                throw new IllegalArgumentException("--run-as: switching users needs an agent running as root; "
                        + "this one runs as " + agent.name() + ", and its jobs run as " + agent.name());
            }
            for (String entry : map.split(",")) {
                String e = entry.strip();
                int eq = e.indexOf('=');
                if (eq <= 0 || eq == e.length() - 1) {
                    throw new IllegalArgumentException("--run-as: '" + e + "' is not ACCOUNT=USER (use * for "
                            + "every other account, e.g. --run-as lab-a=coop-lab-a,*=coop-job)");
                }
                String account = e.substring(0, eq).strip();
                String name = e.substring(eq + 1).strip();
                if (byAccount.containsKey(account)) {
                    throw new IllegalArgumentException("--run-as: account " + account + " is mapped twice");
                }
                LocalUser user = users.apply(name).orElseThrow(() -> new IllegalArgumentException(
                        "--run-as: no local user '" + name + "' on this host (create it, e.g. useradd --system "
                                + "--no-create-home " + name + ")"));
                if (user.isRoot() && !allowRoot) {
                    throw new IllegalArgumentException("--run-as: " + account + "=" + name
                            + " would run jobs as root; map it to an unprivileged user, or add --allow-root-jobs");
                }
                byAccount.put(account, user);
            }
        } else if (agent.isRoot() && !allowRoot) {
            throw new IllegalArgumentException("the agent runs as root, and its jobs would too: say which local user "
                    + "runs each account's jobs with --run-as ACCOUNT=USER,*=USER, or add --allow-root-jobs");
        }
        return new RunAs(byAccount, agent, allowRoot);
    }

    /** The accounts the map names, without {@code *}. */
    public Set<String> accounts() {
        Set<String> named = new java.util.TreeSet<>(byAccount.keySet());
        named.remove(ANY);
        return named;
    }

    /** Whether the operator gave a map. */
    public boolean mapped() {
        return !byAccount.isEmpty();
    }

    /**
     * The user an account's ranks run as.
     *
     * @throws IllegalArgumentException if the map names neither the account nor {@code *}
     */
    public LocalUser userFor(String account) {
        if (byAccount.isEmpty()) {
            return agentUser;
        }
        LocalUser user = byAccount.get(account == null ? "" : account);
        if (user == null) {
            user = byAccount.get(ANY);
        }
        if (user == null) {
            throw new IllegalArgumentException("no local user for account " + account + " in this node's --run-as map");
        }
        return user;
    }

    /** The user the agent runs as. */
    public LocalUser agent() {
        return agentUser;
    }

    @Override
    public String toString() {
        if (byAccount.isEmpty()) {
            return "as the agent's user (" + agentUser.name() + ")";
        }
        StringBuilder s = new StringBuilder();
        byAccount.forEach((a, u) -> s.append(s.length() == 0 ? "" : ",").append(a).append('=').append(u.name()));
        return s.toString();
    }
}
