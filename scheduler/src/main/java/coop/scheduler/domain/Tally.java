package coop.scheduler.domain;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The count of a proposal: weights of yes, no and abstain (each eligible member counts once,
 * through its own ballot or its delegate's), how many members cast their own ballot, how much
 * weight came through delegation, and how much delegated weight the cap on one delegate's
 * weight left uncounted.
 */
public record Tally(int yes, int no, int abstain, int eligible, int direct, int delegated, int capped) {
    public Tally(int yes, int no, int abstain, int eligible, int direct, int delegated) {
        this(yes, no, abstain, eligible, direct, delegated, 0);
    }

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
        // Only where the cap took something, so that tallies recorded before the cap read the same.
        if (capped > 0) {
            m.put("capped", (long) capped);
        }
        return m;
    }

    public String describe() {
        return "yes " + yes + ", no " + no + ", abstain " + abstain + " of " + eligible + " eligible"
                + (delegated > 0 ? " (" + delegated + " by delegation)" : "")
                + (capped > 0 ? " (" + capped + " delegated over the cap not counted)" : "");
    }
}
