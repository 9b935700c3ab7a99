package coop.scheduler.governance;

import coop.scheduler.domain.CoopException;
import coop.scheduler.domain.ProposalKind;
import coop.scheduler.domain.Topic;
import coop.scheduler.ledger.EventType;
import java.util.SortedMap;
import java.util.TreeMap;

/**
 * A member's signed statement, read once at the gate: each field is typed and checked for form
 * here, with an error naming the field, so the rules that follow work on values rather than on
 * maps. What was signed, and what the ledger records, stays the map as the member signed it
 * ({@link #signed}); the fields are only read from it.
 */
public sealed interface Statement {
    int MAX_TITLE = 200;
    int MAX_REASON = 500;
    int MAX_RESPONSE = 8_000;

    /** The ledger entry this statement becomes. */
    EventType type();

    String member();

    /** The member's clock when signing: orders a member's statements on one target. */
    long signedAt();

    /** The canonical map the member signed, exactly as received. */
    SortedMap<String, Object> signed();

    /** Opens a vote on {@code change}, closing after {@code closesInS} seconds (0: the policy's period). */
    record Propose(String member, long signedAt, ProposalKind kind, String title, long closesInS,
                   SortedMap<String, Object> change, SortedMap<String, Object> signed) implements Statement {
        @Override
        public EventType type() {
            return EventType.PROPOSE;
        }
    }

    /**
     * A ballot: {@code choice} as written (yes, no, abstain or split), read against the proposal's
     * kind by the rules. {@code split} is read only for the choice split (empty when absent);
     * {@code carriesSplit} says whether the statement has a split field at all, which only a
     * share-budget ballot may.
     */
    record Ballot(String member, long signedAt, long proposal, String choice, SortedMap<String, Integer> split,
                  boolean carriesSplit, SortedMap<String, Object> signed) implements Statement {
        @Override
        public EventType type() {
            return EventType.BALLOT;
        }
    }

    /** Delegates the member's vote on {@code topic} to {@code to}; an empty {@code to} revokes. */
    record Delegate(String member, long signedAt, Topic topic, String to, SortedMap<String, Object> signed)
            implements Statement {
        @Override
        public EventType type() {
            return EventType.DELEGATE;
        }
    }

    /** A panel member's decision on a job under review. */
    record Review(String member, long signedAt, long job, boolean approve, String reason,
                  SortedMap<String, Object> signed) implements Statement {
        @Override
        public EventType type() {
            return EventType.REVIEW;
        }
    }

    /** The answer of the member a removal proposal names, shown beside the ballot. */
    record Respond(String member, long signedAt, long proposal, String text, SortedMap<String, Object> signed)
            implements Statement {
        @Override
        public EventType type() {
            return EventType.RESPOND;
        }
    }

    /** A member leaving the cooperative of its own will, at once. */
    record Resign(String member, long signedAt, String reason, SortedMap<String, Object> signed) implements Statement {
        @Override
        public EventType type() {
            return EventType.RESIGN;
        }
    }

    /** A member's concern about a job running or waiting without a panel: one is drawn to judge it. */
    record Report(String member, long signedAt, long job, String concern, SortedMap<String, Object> signed)
            implements Statement {
        @Override
        public EventType type() {
            return EventType.REPORT;
        }
    }

    /**
     * Reads a signed statement.
     *
     * @throws CoopException INVALID_ARGUMENT naming the field whose form is wrong
     */
    static Statement parse(SortedMap<String, Object> s) {
        String type = Fields.string(s, "type");
        String member = Fields.string(s, "member");
        long signedAt = Fields.number(s, "signed_at");
        // Members sign only the kinds below; any other label, an entry type or none, is no statement.
        return switch (EventType.of(type).orElse(EventType.GENESIS)) {
            case PROPOSE -> propose(member, signedAt, s);
            case BALLOT -> ballot(member, signedAt, s);
            case DELEGATE -> new Delegate(member, signedAt, Topic.parse("topic", Fields.string(s, "topic")),
                    Fields.string(s, "to"), s);
            case REVIEW -> new Review(member, signedAt, Fields.number(s, "job"), decision(s),
                    printable(s, "reason", MAX_REASON), s);
            case RESPOND -> new Respond(member, signedAt, Fields.number(s, "proposal"), text(s, "text", MAX_RESPONSE), s);
            case RESIGN -> new Resign(member, signedAt, printable(s, "reason", MAX_REASON), s);
            case REPORT -> new Report(member, signedAt, Fields.number(s, "job"), concern(s), s);
            default -> throw CoopException.invalid("type", "unknown statement type '" + type + "'");
        };
    }

    private static Propose propose(String member, long signedAt, SortedMap<String, Object> s) {
        ProposalKind kind = ProposalKind.parse("kind", Fields.string(s, "kind"));
        SortedMap<String, Object> change = Fields.map(s, "change");
        String title = printable(s, "title", MAX_TITLE);
        return new Propose(member, signedAt, kind, title, Fields.number(s, "closes_in_s"), change, s);
    }

    private static Ballot ballot(String member, long signedAt, SortedMap<String, Object> s) {
        long proposal = Fields.number(s, "proposal");
        String choice = Fields.string(s, "choice");
        SortedMap<String, Integer> split = choice.equals("split")
                ? Fields.intMap(Fields.mapOrEmpty(s.get("split"), "split")) : new TreeMap<>();
        return new Ballot(member, signedAt, proposal, choice, split, s.containsKey("split"), s);
    }

    private static boolean decision(SortedMap<String, Object> s) {
        String decision = Fields.string(s, "decision");
        if (!decision.equals("approve") && !decision.equals("reject")) {
            throw CoopException.invalid("decision", "must be approve or reject");
        }
        return decision.equals("approve");
    }

    /** Text of several lines: printable characters, line breaks and tabs. */
    private static String text(SortedMap<String, Object> s, String field, int max) {
        String text = Fields.string(s, field);
        if (text.isBlank() || text.length() > max
                || text.chars().anyMatch(ch -> Character.isISOControl(ch) && ch != '\n' && ch != '\t')) {
            throw CoopException.invalid(field, "must be 1 to " + max + " printable characters (line breaks and tabs "
                    + "allowed)");
        }
        return text;
    }

    private static String concern(SortedMap<String, Object> s) {
        String concern = printable(s, "concern", MAX_REASON);
        if (concern.isBlank()) {
            throw CoopException.invalid("concern", "say what concerns you about the job, in a sentence");
        }
        return concern;
    }

    private static String printable(SortedMap<String, Object> s, String field, int max) {
        String text = Fields.string(s, field);
        if (text.length() > max || text.chars().anyMatch(Character::isISOControl)) {
            throw CoopException.invalid(field, "must be at most " + max + " printable characters");
        }
        return text;
    }
}
