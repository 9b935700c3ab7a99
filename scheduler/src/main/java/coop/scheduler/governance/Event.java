package coop.scheduler.governance;

import java.util.Map;
import java.util.SortedMap;
import java.util.TreeMap;

/** What the governance rules decided happened, as it goes into the ledger: a type and a canonical body. */
public record Event(String type, SortedMap<String, Object> body) {
    public Event {
        body = java.util.Collections.unmodifiableSortedMap(new TreeMap<>(body));
    }

    public static Event of(String type, Map<String, Object> body) {
        return new Event(type, new TreeMap<>(body));
    }
}
