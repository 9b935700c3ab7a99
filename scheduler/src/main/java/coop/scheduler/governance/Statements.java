package coop.scheduler.governance;

import coop.scheduler.domain.Choice;
import coop.scheduler.domain.ProposalKind;
import coop.scheduler.domain.Topic;
import coop.scheduler.ledger.EventType;
import java.util.Locale;
import java.util.Map;
import java.util.SortedMap;
import java.util.TreeMap;

/**
 * The statements members sign: what a client signs and what the scheduler checks are the
 * same canonical maps, built here from the same values on both sides. Each names its type,
 * the member, and the member's clock when signing ({@code signed_at}), which orders a
 * member's statements so that an old ballot cannot be replayed over a newer one.
 */
public final class Statements {
    private Statements() {
    }

    public static SortedMap<String, Object> propose(String member, long signedAt, ProposalKind kind, String title,
                                                    long closesInSeconds, Map<String, Object> change) {
        SortedMap<String, Object> s = head(EventType.PROPOSE.label(), member, signedAt);
        s.put("kind", kind.label());
        s.put("title", title == null ? "" : title);
        s.put("closes_in_s", closesInSeconds);
        s.put("change", new TreeMap<>(change));
        return s;
    }

    /** A yes, no or abstain ballot; on a share-budget, a split (choice YES with a non-empty split) or abstain. */
    public static SortedMap<String, Object> ballot(String member, long signedAt, long proposal, Choice choice,
                                                   Map<String, Integer> split) {
        SortedMap<String, Object> s = head(EventType.BALLOT.label(), member, signedAt);
        s.put("proposal", proposal);
        if (split != null && !split.isEmpty()) {
            s.put("choice", "split");
            s.put("split", new TreeMap<>(split));
        } else {
            s.put("choice", choice.name().toLowerCase(Locale.ROOT));
        }
        return s;
    }

    /** Delegates the member's vote on a topic to {@code to}; an empty {@code to} revokes. */
    public static SortedMap<String, Object> delegate(String member, long signedAt, Topic topic, String to) {
        SortedMap<String, Object> s = head(EventType.DELEGATE.label(), member, signedAt);
        s.put("topic", topic.label());
        s.put("to", to == null ? "" : to);
        return s;
    }

    /** A member's request for a TLS certificate for its own key; not a governance event, never in the ledger. */
    public static SortedMap<String, Object> certify(String member, long signedAt, String tlsPublicKey) {
        SortedMap<String, Object> s = head("certify", member, signedAt);
        s.put("tls_public_key", tlsPublicKey);
        return s;
    }

    public static SortedMap<String, Object> review(String member, long signedAt, long job, boolean approve,
                                                   String reason) {
        SortedMap<String, Object> s = head(EventType.REVIEW.label(), member, signedAt);
        s.put("job", job);
        s.put("decision", approve ? "approve" : "reject");
        s.put("reason", reason == null ? "" : reason);
        return s;
    }

    /** The answer of the member a removal proposal names. */
    public static SortedMap<String, Object> respond(String member, long signedAt, long proposal, String text) {
        SortedMap<String, Object> s = head(EventType.RESPOND.label(), member, signedAt);
        s.put("proposal", proposal);
        s.put("text", text == null ? "" : text);
        return s;
    }

    /** A member's resignation, effective at once. */
    public static SortedMap<String, Object> resign(String member, long signedAt, String reason) {
        SortedMap<String, Object> s = head(EventType.RESIGN.label(), member, signedAt);
        s.put("reason", reason == null ? "" : reason);
        return s;
    }

    /** A member's concern about a job, which opens a review panel on it. */
    public static SortedMap<String, Object> report(String member, long signedAt, long job, String concern) {
        SortedMap<String, Object> s = head(EventType.REPORT.label(), member, signedAt);
        s.put("job", job);
        s.put("concern", concern == null ? "" : concern);
        return s;
    }

    private static SortedMap<String, Object> head(String type, String member, long signedAt) {
        SortedMap<String, Object> s = new TreeMap<>();
        s.put("type", type);
        s.put("member", member == null ? "" : member);
        s.put("signed_at", signedAt);
        return s;
    }
}
