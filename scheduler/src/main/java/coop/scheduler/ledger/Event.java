package coop.scheduler.ledger;

import java.util.Map;
import java.util.SortedMap;
import java.util.TreeMap;

/** What happened, as it goes into the ledger: a type and a canonical body. */
public record Event(EventType type, SortedMap<String, Object> body) {
    public Event {
        java.util.Objects.requireNonNull(type, "type");
        body = java.util.Collections.unmodifiableSortedMap(new TreeMap<>(body));
    }

    public static Event of(EventType type, Map<String, Object> body) {
        return new Event(type, new TreeMap<>(body));
    }
}
