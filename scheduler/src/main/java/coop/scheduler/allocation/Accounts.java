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

    /**
     * Whether a borrowed attempt may be preempted for a job of another account: its account holds
     * more of its entitlement than the job's account will once the job runs (Kueue's fair-sharing
     * rule). Otherwise the preemption would only move the excess from one account to the other,
     * and a later cycle could move it back: two accounts' large jobs would take a node from each
     * other every minimum run.
     */
    boolean yields(RunningAttempt a, JobRequest job) {
        Entitlement victim = of(a.account());
        return victim.lends(a) && victim.overEntitlement() > of(job.account()).overEntitlementWith(job.gpus());
    }
}
