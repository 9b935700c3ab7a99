package coop.scheduler.ledger;

import java.util.Optional;

/**
 * The kinds of ledger entry, each spelled in the ledger as its label: the founding, the kinds
 * of signed statement (proposals, ballots, delegations, reviews, reports), what the governance
 * rules derive from them (closes, withdrawals, struck ballots, panels, verdicts, cancelled
 * reviews), the GPU time of ended attempts, and the scheduler's beacon commitments. The labels
 * are hashed into every entry, so they never change.
 */
public enum EventType {
    GENESIS("genesis"),
    PROPOSE("propose"),
    BALLOT("ballot"),
    DELEGATE("delegate"),
    REVIEW("review"),
    CLOSE("close"),
    WITHDRAW("withdraw"),
    INELIGIBLE("ineligible"),
    PANEL("panel"),
    VERDICT("verdict"),
    CANCEL_REVIEW("cancel-review"),
    ATTEMPT("attempt"),
    /** The scheduler's commitment to a chain of reveals that seed review panels ({@code Beacon}). */
    BEACON("beacon"),
    /** A member's signed concern about a job, which opens a review panel on it after the fact. */
    REPORT("report");

    private final String label;

    EventType(String label) {
        this.label = label;
    }

    /** The type as the ledger spells it. */
    public String label() {
        return label;
    }

    /** The type a ledger label names, if any. */
    public static Optional<EventType> of(String label) {
        for (EventType t : values()) {
            if (t.label.equals(label)) {
                return Optional.of(t);
            }
        }
        return Optional.empty();
    }

    @Override
    public String toString() {
        return label;
    }
}
