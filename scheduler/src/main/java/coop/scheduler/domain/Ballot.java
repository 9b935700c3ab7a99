package coop.scheduler.domain;

/** One member's current ballot on a proposal; a later ballot by the same member replaces it. */
public record Ballot(String member, Choice choice, long castAt) {
}
