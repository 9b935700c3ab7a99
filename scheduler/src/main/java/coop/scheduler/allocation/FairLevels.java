package coop.scheduler.allocation;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Weighted max-min ("water-filling") division of capacity: every account with demand gets GPUs
 * in proportion to its voted share, capped by its demand, and what capped accounts leave flows
 * to the others. This is the ideal that achieved shares are judged against (DESIGN.md), so the
 * allocator uses it as each account's fair level at this instant.
 */
public final class FairLevels {
    private FairLevels() {
    }

    /**
     * Each account's level for the GPUs its running attempts hold plus those its pending jobs want,
     * on {@code capacity} GPUs.
     */
    public static Map<String, Double> forDemand(double capacity, Map<String, Integer> held, List<JobRequest> pending,
                                                Map<String, AccountStanding> accounts) {
        Map<String, Double> demand = new HashMap<>();
        held.forEach((a, g) -> demand.merge(a, (double) g, Double::sum));
        for (JobRequest j : pending) {
            demand.merge(j.account(), (double) j.gpus(), Double::sum);
        }
        return waterFill(capacity, demand, accounts);
    }

    /** Each account's level, in GPUs; accounts without demand get 0. */
    public static Map<String, Double> waterFill(double capacity, Map<String, Double> demand,
                                                Map<String, AccountStanding> accounts) {
        Map<String, Double> level = new HashMap<>();
        Map<String, Double> active = new TreeMap<>();
        demand.forEach((a, d) -> {
            AccountStanding s = accounts.get(a);
            if (d > 0 && s != null && s.shareBasisPoints() > 0) {
                active.put(a, (double) s.shareBasisPoints());
            } else {
                level.put(a, 0.0);
            }
        });
        double left = capacity;
        boolean capped = true;
        while (capped && !active.isEmpty()) {
            capped = false;
            double weights = active.values().stream().mapToDouble(Double::doubleValue).sum();
            double perWeight = left / weights;
            for (var it = active.entrySet().iterator(); it.hasNext(); ) {
                var e = it.next();
                double d = demand.get(e.getKey());
                if (d <= perWeight * e.getValue()) {
                    level.put(e.getKey(), d);
                    left -= d;
                    it.remove();
                    capped = true;
                }
            }
            if (!capped) {
                active.forEach((a, w) -> level.put(a, perWeight * w));
            }
        }
        return level;
    }
}
