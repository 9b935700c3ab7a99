package coop.scheduler.domain;

import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.SortedMap;
import java.util.TreeMap;

/**
 * The allocation policy in force from {@code enactedAt} until the next version: account
 * shares in basis points (10000 = 100 %), the parameters and the constitution. Version 1 is
 * the founding policy; each passed proposal that changes any of them enacts the next.
 * {@code sharesSince} is when the shares last changed: usage periods run from there.
 */
public record Policy(long version, SortedMap<String, Integer> shares, Params params, Constitution constitution,
                     long enactedAt, long proposalId, long sharesSince) {

    /** Walltime given to jobs that do not ask for one (capped by the policy's maximum). */
    public static final Duration DEFAULT_WALLTIME = Duration.ofHours(24);

    public Policy {
        shares = java.util.Collections.unmodifiableSortedMap(new TreeMap<>(shares));
    }

    /** A founding-style policy with default parameters and constitution (tests and tools). */
    public Policy(long version, SortedMap<String, Integer> shares, long enactedAt, long proposalId) {
        this(version, shares, Params.DEFAULTS, Constitution.DEFAULTS, enactedAt, proposalId, enactedAt);
    }

    public int share(String account) {
        return shares.getOrDefault(account, 0);
    }

    public Map<String, Object> toMap() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("version", version);
        m.put("shares", new TreeMap<>(shares));
        m.put("params", params.toMap());
        m.put("constitution", constitution.toMap());
        m.put("enacted_at", enactedAt);
        m.put("proposal", proposalId);
        m.put("shares_since", sharesSince);
        return m;
    }
}
