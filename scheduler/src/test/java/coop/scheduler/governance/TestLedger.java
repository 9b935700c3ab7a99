package coop.scheduler.governance;

import coop.scheduler.ledger.Entry;
import coop.scheduler.ledger.Event;
import java.util.List;

/** A ledger in a list, as the governance tests keep one: each event chained to the entry before. */
final class TestLedger {
    private TestLedger() {
    }

    /** Appends {@code events}, dated {@code now}, to {@code ledger}; returns them. */
    static List<Event> append(List<Entry> ledger, long now, List<Event> events) {
        for (Event e : events) {
            String prev = ledger.isEmpty() ? Entry.ORIGIN : ledger.get(ledger.size() - 1).hash();
            ledger.add(Entry.make(ledger.size(), now, e.type(), e.body(), prev));
        }
        return events;
    }
}
