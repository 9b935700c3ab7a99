package coop.scheduler.view;

import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;

/**
 * The colour each account is drawn in, the same on the dashboard and in the demo's report: the
 * Tableau 10 palette given out in account-name order. The dashboard's script holds the same list
 * ({@code PALETTE} in dashboard.js); a test keeps the two alike.
 */
public final class AccountColours {
    /** Tableau 10, in its order. */
    public static final List<String> PALETTE = List.of("#4e79a7", "#f28e2b", "#59a14f", "#e15759", "#76b7b2",
            "#edc948", "#b07aa1", "#ff9da7", "#9c755f", "#bab0ac");

    private AccountColours() {
    }

    /** Each account's colour, in account-name order; past ten accounts the palette repeats. */
    public static Map<String, String> of(Collection<String> accounts) {
        Map<String, String> colours = new LinkedHashMap<>();
        for (String a : new TreeSet<>(accounts)) {
            colours.put(a, PALETTE.get(colours.size() % PALETTE.size()));
        }
        return colours;
    }
}
