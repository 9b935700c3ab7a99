package coop.scheduler.domain;

import java.time.Duration;
import java.util.SortedMap;
import java.util.TreeMap;

/**
 * The allocation policy in force from {@code enactedAt} until the next version: account
 * shares in basis points (10000 = 100 %). Version 1 is the founding policy.
 */
public record Policy(long version, SortedMap<String, Integer> shares, long enactedAt, long proposalId) {

    /** Walltime given to jobs that do not ask for one. */
    public static final Duration DEFAULT_WALLTIME = Duration.ofHours(24);
    /** Longest walltime a job may ask for. */
    public static final Duration MAX_WALLTIME = Duration.ofDays(14);
    /** Voting period of proposals that do not set one. */
    public static final Duration DEFAULT_VOTING_PERIOD = Duration.ofDays(2);
    /** Half-life of the usage that orders accounts for fair share. */
    public static final Duration DEFAULT_HALF_LIFE = Duration.ofDays(7);
    /** Time a preempted attempt gets between the checkpoint signal (SIGTERM) and SIGKILL. */
    public static final Duration DEFAULT_PREEMPTION_GRACE = Duration.ofSeconds(60);
    /** Longest voting period. */
    public static final Duration MAX_VOTING_PERIOD = Duration.ofDays(60);

    public Policy {
        shares = java.util.Collections.unmodifiableSortedMap(new TreeMap<>(shares));
    }

    public int share(String account) {
        return shares.getOrDefault(account, 0);
    }
}
