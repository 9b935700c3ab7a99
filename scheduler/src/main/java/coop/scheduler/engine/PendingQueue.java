package coop.scheduler.engine;

import coop.scheduler.allocation.JobRequest;
import coop.scheduler.domain.Job;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;

/**
 * The pending jobs as the allocator reads them, kept in queue order (priority, then age) across
 * cycles: a cycle neither rebuilds nor sorts a request per pending job, it copies this list.
 */
final class PendingQueue {
    private final TreeSet<JobRequest> order = new TreeSet<>(JobRequest.QUEUE_ORDER);
    private final Map<Long, JobRequest> byId = new HashMap<>();
    /** One String per account name, shared by its requests, so that a cycle compares them by identity. */
    private final Map<String, String> accountNames = new HashMap<>();

    /** Queues the job, or re-queues it with its current terms if it was already pending. */
    void add(Job j) {
        String account = accountNames.computeIfAbsent(j.account(), a -> a);
        JobRequest r = new JobRequest(j.id(), account, j.gpusPerNode(), j.nodes(), j.models(), j.priority(),
                j.submittedAt(), j.crossSite(), j.walltimeSeconds(), !j.noPreempt());
        JobRequest old = byId.put(j.id(), r);
        if (old != null) {
            order.remove(old);
        }
        order.add(r);
    }

    void remove(long id) {
        JobRequest r = byId.remove(id);
        if (r != null) {
            order.remove(r);
        }
    }

    /** The request of a pending job, or null. */
    JobRequest get(long id) {
        return byId.get(id);
    }

    /** Every pending request, in queue order. */
    Collection<JobRequest> requests() {
        return Collections.unmodifiableCollection(order);
    }

    /** A copy in queue order, for a snapshot. */
    List<JobRequest> inOrder() {
        return new ArrayList<>(order);
    }
}
