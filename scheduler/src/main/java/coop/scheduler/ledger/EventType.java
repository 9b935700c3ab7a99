package coop.scheduler.ledger;

import java.util.Optional;

/**
 * The kinds of ledger entry, each spelled in the ledger as its label: the founding, the four
 * kinds of signed statement, what the governance rules derive from them (closes, withdrawals,
 * struck ballots, panels, verdicts, cancelled reviews), the GPU time of ended attempts, and the
 * allocation cycles recorded for audit. The
 * labels are hashed into every entry, so they never change.
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
    RESIGN("resign"),
    RESPOND("respond"),
    /** An allocation cycle the audit can re-run: the hashes of its snapshot and decisions (see coop audit replay). */
    CYCLE("cycle");

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
