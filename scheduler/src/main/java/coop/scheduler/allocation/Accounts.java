package coop.scheduler.allocation;

import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;

/** The accounts of one cycle by name; an account the snapshot does not know has no entitlement. */
final class Accounts {
    private final Map<String, Entitlement> byName = new HashMap<>();

    /**
     * Each account's entitlement on {@code capacity} GPUs and its fair level for the demand: what
     * it holds (an operator's own reserve left out) and what its queue wants.
     */
    Accounts(ClusterSnapshot snapshot, double capacity, Map<String, Integer> held) {
        Map<String, Double> demand = new HashMap<>();
        held.forEach((a, g) -> demand.merge(a, (double) g, Double::sum));
        for (AccountQueue q : snapshot.queues()) {
            if (!q.jobs().isEmpty()) {
                demand.merge(q.account(), (double) q.totalGpus(), Double::sum);
            }
        }
        Map<String, Double> fairLevel = FairLevels.waterFill(capacity, demand, snapshot.accounts());
        double totalUsage = 0;
        for (AccountStanding s : snapshot.accounts().values()) {
            totalUsage += s.usedGpuSeconds();
        }
        Set<String> names = new HashSet<>(snapshot.accounts().keySet());
        names.addAll(held.keySet());
        names.addAll(fairLevel.keySet());
        for (String a : names) {
            AccountStanding s = snapshot.accounts().get(a);
            double entitled = s == null ? 0 : s.shareBasisPoints() / 10_000.0 * capacity;
            byName.put(a, new Entitlement(a, entitled, fairLevel.getOrDefault(a, 0.0),
                    Entitlement.behind(s, totalUsage), s == null ? Double.POSITIVE_INFINITY : s.priorityKey(),
                    held.getOrDefault(a, 0)));
        }
    }

    Entitlement of(String name) {
        Entitlement a = byName.get(name);
        if (a == null) {
            a = new Entitlement(name, 0, 0, false, Double.POSITIVE_INFINITY, 0);
            byName.put(name, a);
        }
        return a;
    }

    /** Whether an attempt runs on GPUs its account borrowed, and so may be preempted to give them back. */
    boolean borrowed(RunningAttempt a) {
        return of(a.account()).lends(a);
    }
}
