package coop.scheduler.domain;

/** An account GPU time is charged to; its share of the cooperative is set by vote. Closed by vote, never deleted. */
public record Account(String name, long createdAt, long closedAt) {
    public boolean open() {
        return closedAt == 0;
    }
}
