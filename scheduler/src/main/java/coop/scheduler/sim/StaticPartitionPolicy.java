package coop.scheduler.sim;

import coop.scheduler.allocation.AccountStanding;
import coop.scheduler.allocation.ClusterSnapshot;
import coop.scheduler.allocation.Decision;
import coop.scheduler.allocation.JobRequest;
import coop.scheduler.allocation.RunningAttempt;
import coop.scheduler.allocation.SchedulingPolicy;
import coop.scheduler.allocation.Veto;
import coop.scheduler.domain.Placement;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;

/**
 * Baseline: each account owns a fixed partition of {@code round(share × C)} GPUs
 * (largest-remainder rounding, so the partitions sum to C) and never borrows. Within an
 * account, jobs start in submit order, first-fit, and the first that does not fit blocks that
 * account only; other accounts carry on.
 *
 * <p>A job larger than its account's whole partition could never run under a strict partition.
 * With {@code oversizeRunsAlone} (the default) such a job may start when its account holds no
 * GPUs at all, and then runs alone beyond the partition; without it, it waits forever.
 */
public final class StaticPartitionPolicy implements SchedulingPolicy {
    private final boolean oversizeRunsAlone;

    public StaticPartitionPolicy() {
        this(true);
    }

    public StaticPartitionPolicy(boolean oversizeRunsAlone) {
        this.oversizeRunsAlone = oversizeRunsAlone;
    }

    @Override
    public String name() {
        return "static";
    }

    /**
     * Partitions of {@code capacity} GPUs by basis points: each account gets the floor of its
     * quota, and the GPUs left go one each to the largest remainders (ties: larger share, then name).
     */
    public static Map<String, Integer> partitions(Map<String, Integer> basisPoints, int capacity) {
        Map<String, Integer> parts = new TreeMap<>();
        List<String> byRemainder = new ArrayList<>(basisPoints.keySet());
        int given = 0;
        for (String a : byRemainder) {
            int q = (int) ((long) basisPoints.get(a) * capacity / Shares.WHOLE);
            parts.put(a, q);
            given += q;
        }
        byRemainder.sort(Comparator.comparingLong((String a) -> -((long) basisPoints.get(a) * capacity % Shares.WHOLE))
                .thenComparing(a -> -basisPoints.get(a)).thenComparing(a -> a));
        for (int i = 0; i < capacity - given && i < byRemainder.size(); i++) {
            parts.merge(byRemainder.get(i), 1, Integer::sum);
        }
        return parts;
    }

    @Override
    public List<Decision> plan(ClusterSnapshot snapshot) {
        Map<String, Integer> basisPoints = new HashMap<>();
        for (AccountStanding s : snapshot.accounts().values()) {
            basisPoints.put(s.account(), s.shareBasisPoints());
        }
        Map<String, Integer> partition = new HashMap<>(partitions(basisPoints, FirstFit.capacity(snapshot.nodes())));
        Map<String, Integer> held = new HashMap<>();
        for (RunningAttempt r : snapshot.running()) {
            held.merge(r.account(), r.gpus(), Integer::sum);
        }
        List<JobRequest> queue = new ArrayList<>(snapshot.pending());
        queue.sort(FifoPolicy.SUBMIT_ORDER);
        FirstFit free = new FirstFit(snapshot.nodes(), false);
        FirstFit idle = new FirstFit(snapshot.nodes(), true);
        Map<String, String> blocked = new HashMap<>();
        Map<FirstFit.Shape, Boolean> everFits = new HashMap<>();
        List<Decision> decisions = new ArrayList<>(queue.size());
        for (JobRequest job : queue) {
            String account = job.account();
            String behind = blocked.get(account);
            if (behind != null) {
                decisions.add(new Decision.Wait(job.id(), Veto.TOO_FEW_FREE_GPUS, behind));
                continue;
            }
            int part = partition.getOrDefault(account, 0);
            int holds = held.getOrDefault(account, 0);
            if (!everFits.computeIfAbsent(FirstFit.Shape.of(job), s -> idle.fits(job))) {
                decisions.add(new Decision.Wait(job.id(), Veto.NO_NODE_FITS, "no node set fits " + job.shape()));
                continue;
            }
            boolean oversize = job.gpus() > part;
            boolean room = oversize ? oversizeRunsAlone && holds == 0 : holds + job.gpus() <= part;
            Optional<List<Placement>> placed = room ? free.take(job) : Optional.empty();
            if (placed.isPresent()) {
                held.merge(account, job.gpus(), Integer::sum);
                decisions.add(new Decision.Admit(job.id(), placed.get()));
            } else {
                blocked.put(account, "behind job " + job.id() + " of " + account);
                String why = !room
                        ? (oversize ? "larger than " + account + "'s partition of " + part + " GPUs"
                                + (oversizeRunsAlone ? "; runs only when the account holds none" : "")
                                : account + "'s partition of " + part + " GPUs has " + (part - holds) + " free")
                        : "too few free GPUs for " + job.shape();
                decisions.add(new Decision.Wait(job.id(), Veto.TOO_FEW_FREE_GPUS, why));
            }
        }
        return decisions;
    }
}
