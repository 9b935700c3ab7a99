package coop.scheduler.domain;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The count of a proposal: weights of yes, no and abstain (each eligible member counts once,
 * through its own ballot or its delegate's), how many members cast their own ballot, and how
 * much weight came through delegation.
 */
public record Tally(int yes, int no, int abstain, int eligible, int direct, int delegated) {
    public int participated() {
        return yes + no + abstain;
    }

    public Map<String, Object> toMap() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("yes", (long) yes);
        m.put("no", (long) no);
        m.put("abstain", (long) abstain);
        m.put("eligible", (long) eligible);
        m.put("direct", (long) direct);
        m.put("delegated", (long) delegated);
        return m;
    }

    public String describe() {
        return "yes " + yes + ", no " + no + ", abstain " + abstain + " of " + eligible + " eligible"
                + (delegated > 0 ? " (" + delegated + " by delegation)" : "");
    }
}
