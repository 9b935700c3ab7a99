package coop.scheduler.engine;

import coop.scheduler.allocation.AccountQueue;
import coop.scheduler.allocation.JobList;
import coop.scheduler.allocation.JobRequest;
import coop.scheduler.domain.Job;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The pending jobs as the allocator reads them, kept across cycles: per account in queue order
 * (priority, then age), with the account's GPUs in total and its smallest job. A cycle reuses
 * the queues of accounts whose jobs did not change, so it neither rebuilds, sorts nor reads a
 * request per pending job.
 */
final class PendingQueue {
    private final Map<Long, JobRequest> byId = new HashMap<>();
    private final Map<String, Queue> byAccount = new TreeMap<>();

    private static final class Queue {
        final String account;
        /**
         * The first {@code size} slots, sorted by {@link JobRequest#QUEUE_ORDER}. Handed out as a
         * {@link JobList} over the same array, not copied: with tens of thousands of jobs queued,
         * copying them for every cycle was most of a cycle's cost. New jobs mostly sort last and
         * are appended past what was handed out; any other change first moves to a fresh array
         * if the current one was handed out, so what a cycle was given never changes.
         */
        private JobRequest[] order = new JobRequest[16];
        private int size;
        private boolean shared;
        /** How many jobs want each GPU count: the smallest is the first key. */
        final TreeMap<Integer, Integer> sizes = new TreeMap<>();
        long totalGpus;
        /** The queue as last handed out; null once it changed. */
        AccountQueue handedOut;

        Queue(String account) {
            this.account = account;
        }

        void add(JobRequest r) {
            if (size == 0 || JobRequest.QUEUE_ORDER.compare(order[size - 1], r) < 0) {
                if (size == order.length) {
                    order = Arrays.copyOf(order, size * 2);
                    shared = false;
                }
                order[size++] = r;
            } else {
                int at = Arrays.binarySearch(order, 0, size, r, JobRequest.QUEUE_ORDER);
                at = at < 0 ? -at - 1 : at;
                unshare(size + 1);
                System.arraycopy(order, at, order, at + 1, size - at);
                order[at] = r;
                size++;
            }
            sizes.merge(r.gpus(), 1, Integer::sum);
            totalGpus += r.gpus();
            handedOut = null;
        }

        void remove(JobRequest r) {
            int at = Arrays.binarySearch(order, 0, size, r, JobRequest.QUEUE_ORDER);
            if (at >= 0) {
                unshare(size);
                System.arraycopy(order, at + 1, order, at, size - at - 1);
                order[--size] = null;
            }
            sizes.computeIfPresent(r.gpus(), (g, n) -> n == 1 ? null : n - 1);
            totalGpus -= r.gpus();
            handedOut = null;
        }

        /** Makes the array safe to change in place, with room for {@code capacity} jobs. */
        private void unshare(int capacity) {
            if (shared || capacity > order.length) {
                order = Arrays.copyOf(order, Math.max(16, capacity > order.length ? order.length * 2 : order.length));
                shared = false;
            }
        }

        boolean isEmpty() {
            return size == 0;
        }

        int count() {
            return size;
        }

        AccountQueue handOut() {
            if (handedOut == null) {
                handedOut = new AccountQueue(account, JobList.prefix(order, size), totalGpus, sizes.firstKey());
                shared = true;
            }
            return handedOut;
        }
    }

    /** Queues the job, or re-queues it with its current terms if it was already pending. */
    void add(Job j) {
        remove(j.id());
        Queue q = byAccount.computeIfAbsent(j.account(), Queue::new);
        // One String per account, shared by its requests.
        // A requeued job whose last attempt kept its checkpoints on a site's shared root prefers that site.
        String checkpointSite = j.current() == null ? "" : j.current().checkpointSite();
        JobRequest r = new JobRequest(j.id(), q.account, j.gpusPerNode(), j.nodes(), j.models(), j.priority(),
                j.submittedAt(), j.crossSite(), j.walltimeSeconds(), !j.noPreempt(), checkpointSite, j.container(),
                j.options().memMb(), j.purpose());
        byId.put(j.id(), r);
        q.add(r);
    }

    void remove(long id) {
        JobRequest r = byId.remove(id);
        if (r != null) {
            Queue q = byAccount.get(r.account());
            q.remove(r);
            if (q.isEmpty()) {
                byAccount.remove(r.account());
            }
        }
    }

    /** The request of a pending job, or null. */
    JobRequest get(long id) {
        return byId.get(id);
    }

    /** Every pending job's request, in no particular order; a live view. */
    Collection<JobRequest> all() {
        return Collections.unmodifiableCollection(byId.values());
    }

    /** How many jobs of the account are pending. */
    int count(String account) {
        Queue q = byAccount.get(account);
        return q == null ? 0 : q.count();
    }

    /** Each account's queue, for a snapshot; unchanged accounts give the same object as last time. */
    List<AccountQueue> queues() {
        List<AccountQueue> out = new ArrayList<>(byAccount.size());
        for (Queue q : byAccount.values()) {
            out.add(q.handOut());
        }
        return out;
    }

    /** The GPUs each account's pending jobs want in total. */
    Map<String, Long> demand() {
        Map<String, Long> out = new HashMap<>();
        byAccount.forEach((a, q) -> out.put(a, q.totalGpus));
        return out;
    }
}
