package coop.scheduler.ledger;

import java.util.Optional;

/**
 * The kinds of ledger entry, each spelled in the ledger as its label: the founding, the kinds
 * of signed statement (proposals, ballots, delegations, reviews, resignations, responses,
 * reports), what the governance rules derive from them (closes, withdrawals, struck ballots,
 * panels, verdicts, cancelled reviews), the GPU time of ended attempts, what the scheduler
 * decided on its own (submissions, cancellations, nodes, preemptions, certificates), its signing
 * key, members' witnesses of its heads, its beacon commitments and the allocation cycles recorded
 * for audit. The labels are hashed into every entry, so they never change; new kinds go at the end.
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
    // What the scheduler decides on its own authority, recorded so that members can check it.
    SUBMIT("submit"),
    CANCEL("cancel"),
    NODE_ENROL("node-enrol"),
    NODE_DRAIN("node-drain"),
    NODE_TERMS("node-terms"),
    NODE_REMOVE("node-remove"),
    PREEMPT("preempt"),
    CERTIFICATE("certificate"),
    /** The public key the scheduler signs ledger heads with, announced so receipts check from the ledger alone. */
    SCHEDULER_KEY("scheduler-key"),
    /** A member's signed statement that it saw the ledger's head at a sequence number. */
    WITNESS("witness"),
    /** The scheduler's commitment to a chain of reveals that seed review panels ({@code Beacon}). */
    BEACON("beacon"),
    /** A member's signed concern about a job, which opens a review panel on it after the fact. */
    REPORT("report"),
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
