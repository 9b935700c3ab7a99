package coop.scheduler.domain;

/** An account GPU time is charged to; its share of the cooperative is set by vote. */
public record Account(String name, long createdAt) {
}
