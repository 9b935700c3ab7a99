package coop.scheduler.allocation;

import java.util.List;
import java.util.Map;

/**
 * Everything one allocation cycle looks at, captured by the event loop: the offered nodes,
 * the pending jobs, and each account's standing. The allocator reads nothing else.
 */
public record ClusterSnapshot(List<NodeView> nodes, List<JobRequest> pending, Map<String, AccountStanding> accounts) {
    public ClusterSnapshot {
        nodes = List.copyOf(nodes);
        pending = List.copyOf(pending);
        accounts = Map.copyOf(accounts);
    }
}
