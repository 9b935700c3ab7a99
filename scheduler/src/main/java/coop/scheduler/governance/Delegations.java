package coop.scheduler.governance;

import coop.scheduler.domain.Constitution;
import coop.scheduler.domain.CoopException;
import coop.scheduler.domain.Member;
import coop.scheduler.domain.ProposalKind;
import coop.scheduler.domain.Role;
import coop.scheduler.domain.Topic;
import coop.scheduler.ledger.Event;
import java.util.EnumMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SortedMap;
import java.util.TreeMap;

/**
 * Whom each member has delegated its vote to, per topic: a directed graph kept free of cycles,
 * so that a member's weight follows its chain up to the first member who cast a ballot.
 */
final class Delegations {
    private final Cooperative coop;
    private final Map<Topic, Map<String, String>> edges = new EnumMap<>(Topic.class);

    Delegations(Cooperative coop) {
        this.coop = coop;
        for (Topic t : Topic.values()) {
            edges.put(t, new TreeMap<>());
        }
    }

    Map<String, String> on(Topic topic) {
        return edges.get(topic);
    }

    /** Every topic's delegations as a canonical map ({@link Image}). */
    SortedMap<String, Object> image() {
        SortedMap<String, Object> o = new TreeMap<>();
        edges.forEach((t, on) -> o.put(t.label(), new TreeMap<>(on)));
        return o;
    }

    /** Fills empty delegations from their {@link #image()}. */
    void restore(Map<String, Object> o) {
        o.forEach((t, on) -> Fields.mapOrEmpty(on, t).forEach((from, to) ->
                edges.get(Topic.parse("delegations", t)).put(from, (String) to)));
    }

    List<Event> delegate(Member m, Statement.Delegate s, SortedMap<String, Object> body, Constitution c) {
        coop.requireVoter(m, "delegate");
        Topic topic = s.topic();
        coop.requireNewer(m.name(), "delegate/" + topic.label(), s.signedAt());
        String to = s.to();
        Map<String, String> on = edges.get(topic);
        if (!to.isEmpty()) {
            List<String> carried = topic.kinds().stream().filter(c::delegable).map(ProposalKind::label).toList();
            if (carried.isEmpty()) {
                throw CoopException.invalid("topic", "the constitution makes every kind under " + topic.label() + " ("
                        + String.join(", ", topic.kinds().stream().map(ProposalKind::label).toList())
                        + ") non-delegable: only a member's own ballot counts on them");
            }
            Member target = coop.members.get(to);
            if (target == null || !target.has(Role.MEMBER)) {
                throw CoopException.invalid("to", "'" + to + "' is not a member with a vote");
            }
            if (to.equals(m.name())) {
                throw CoopException.invalid("to", "a member cannot delegate to itself");
            }
            for (String at = to; at != null; at = on.get(at)) {
                if (at.equals(m.name())) {
                    throw CoopException.invalid("to", "delegating " + topic.label() + " to " + to
                            + " would make a cycle (" + chain(on, to) + " → " + m.name() + ")");
                }
            }
            on.put(m.name(), to);
        } else {
            if (!on.containsKey(m.name())) {
                throw CoopException.precondition(m.name() + " has no delegation on " + topic.label() + " to revoke");
            }
            on.remove(m.name());
        }
        coop.accepted(m.name(), "delegate/" + topic.label(), s.signedAt());
        return List.of(Event.of(s.type(), body));
    }

    /** Delegations to and from a removed member lapse: a delegator to it counts again only by its own ballot. */
    void lapse(String name) {
        for (Map<String, String> on : edges.values()) {
            on.remove(name);
            on.values().removeIf(name::equals);
        }
    }

    private static String chain(Map<String, String> edges, String from) {
        StringBuilder sb = new StringBuilder(from);
        Set<String> seen = new HashSet<>();
        for (String at = edges.get(from); at != null && seen.add(at); at = edges.get(at)) {
            sb.append(" → ").append(at);
        }
        return sb.toString();
    }
}
