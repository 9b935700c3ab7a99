package coop.scheduler.domain;

import java.util.Map;
import java.util.SortedMap;
import java.util.TreeMap;

/**
 * One member's current ballot on a proposal; a later ballot by the same member replaces it.
 * On a share-budget proposal the ballot is a split (a distribution over accounts, basis
 * points) and its choice is YES, or it is an abstention with no split.
 */
public record Ballot(String member, Choice choice, SortedMap<String, Integer> split, long castAt, long signedAt) {
    public Ballot {
        split = java.util.Collections.unmodifiableSortedMap(new TreeMap<>(split));
    }

    public Ballot(String member, Choice choice, long castAt) {
        this(member, choice, new TreeMap<>(), castAt, castAt);
    }

    public static Ballot split(String member, Map<String, Integer> split, long castAt, long signedAt) {
        return new Ballot(member, Choice.YES, new TreeMap<>(split), castAt, signedAt);
    }
}
