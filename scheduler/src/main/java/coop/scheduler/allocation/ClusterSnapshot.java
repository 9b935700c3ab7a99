package coop.scheduler.allocation;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Everything one allocation cycle looks at, captured by the event loop (or the simulator):
 * the time, the nodes, the pending jobs, the attempts holding GPUs, and each account's
 * standing. The allocator reads nothing else; "now" is a value here, never a clock read.
 * The pending jobs come in one shape to the allocator, {@code queues}: grouped by account, each
 * group in queue order. {@code pending} is the same jobs as one list, in the order the caller
 * keeps them (submission order, for the simulator's baselines); given only that list, the
 * snapshot groups it. {@code rules} are the policy's bounds on preemption, and {@code holds} the
 * GPUs earlier preemptions freed for jobs that have not started yet.
 */
public record ClusterSnapshot(long now, List<NodeView> nodes, List<JobRequest> pending, List<RunningAttempt> running,
                              Map<String, AccountStanding> accounts, List<AccountQueue> queues,
                              PreemptionRules rules, List<GpuHold> holds) {
    /** {@code queues} must hold exactly the jobs of {@code pending}. */
    public ClusterSnapshot {
        nodes = List.copyOf(nodes);
        pending = pending instanceof JobList given ? given : List.copyOf(pending);
        running = List.copyOf(running);
        // In name order, not Map.copyOf's, whose order changes from one JVM to the next: the
        // allocator sums over the accounts in fractions, and a replay must add them as the cycle did.
        accounts = sortedCopy(accounts);
        queues = List.copyOf(queues);
        holds = List.copyOf(holds);
    }

    private static Map<String, AccountStanding> sortedCopy(Map<String, AccountStanding> accounts) {
        Map<String, AccountStanding> sorted = new LinkedHashMap<>(accounts.size() * 2);
        new TreeMap<>(accounts).forEach((name, standing) -> sorted.put(
                java.util.Objects.requireNonNull(name), java.util.Objects.requireNonNull(standing)));
        return Collections.unmodifiableMap(sorted);
    }

    /** A snapshot under no preemption bounds, with nothing held. */
    public ClusterSnapshot(long now, List<NodeView> nodes, List<JobRequest> pending, List<RunningAttempt> running,
                           Map<String, AccountStanding> accounts, List<AccountQueue> queues) {
        this(now, nodes, pending, running, accounts, queues, PreemptionRules.NONE, List.of());
    }

    public ClusterSnapshot(long now, List<NodeView> nodes, List<JobRequest> pending, List<RunningAttempt> running,
                           Map<String, AccountStanding> accounts) {
        this(now, nodes, pending, running, accounts, AccountQueue.byAccount(pending));
    }

    /** A snapshot with nothing running, at time 0. */
    public ClusterSnapshot(List<NodeView> nodes, List<JobRequest> pending, Map<String, AccountStanding> accounts) {
        this(0, nodes, pending, List.of(), accounts);
    }
}
