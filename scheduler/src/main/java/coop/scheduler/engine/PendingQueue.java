package coop.scheduler.engine;

import coop.scheduler.allocation.AccountQueue;
import coop.scheduler.allocation.JobRequest;
import coop.scheduler.domain.Job;
import java.util.ArrayList;
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
         * Sorted by {@link JobRequest#QUEUE_ORDER}. A list rather than a sorted set, so that handing
         * it out is one array copy, not a walk over a tree: with tens of thousands of jobs queued
         * that walk was most of a cycle's cost. New jobs mostly sort last, so adding is cheap too.
         */
        final ArrayList<JobRequest> order = new ArrayList<>();
        /** How many jobs want each GPU count: the smallest is the first key. */
        final TreeMap<Integer, Integer> sizes = new TreeMap<>();
        long totalGpus;
        /** The queue as last handed out; null once it changed. */
        AccountQueue handedOut;

        Queue(String account) {
            this.account = account;
        }

        void add(JobRequest r) {
            int n = order.size();
            if (n == 0 || JobRequest.QUEUE_ORDER.compare(order.get(n - 1), r) < 0) {
                order.add(r);
            } else {
                int at = Collections.binarySearch(order, r, JobRequest.QUEUE_ORDER);
                order.add(at < 0 ? -at - 1 : at, r);
            }
            sizes.merge(r.gpus(), 1, Integer::sum);
            totalGpus += r.gpus();
            handedOut = null;
        }

        void remove(JobRequest r) {
            int at = Collections.binarySearch(order, r, JobRequest.QUEUE_ORDER);
            if (at >= 0) {
                order.remove(at);
            }
            sizes.computeIfPresent(r.gpus(), (g, n) -> n == 1 ? null : n - 1);
            totalGpus -= r.gpus();
            handedOut = null;
        }

        AccountQueue handOut() {
            if (handedOut == null) {
                handedOut = new AccountQueue(account, List.copyOf(order), totalGpus, sizes.firstKey());
            }
            return handedOut;
        }
    }

    /** Queues the job, or re-queues it with its current terms if it was already pending. */
    void add(Job j) {
        remove(j.id());
        Queue q = byAccount.computeIfAbsent(j.account(), Queue::new);
        // One String per account, shared by its requests.
        JobRequest r = new JobRequest(j.id(), q.account, j.gpusPerNode(), j.nodes(), j.models(), j.priority(),
                j.submittedAt(), j.crossSite(), j.walltimeSeconds(), !j.noPreempt());
        byId.put(j.id(), r);
        q.add(r);
    }

    void remove(long id) {
        JobRequest r = byId.remove(id);
        if (r != null) {
            Queue q = byAccount.get(r.account());
            q.remove(r);
            if (q.order.isEmpty()) {
                byAccount.remove(r.account());
            }
        }
    }

    /** The request of a pending job, or null. */
    JobRequest get(long id) {
        return byId.get(id);
    }

    /** How many jobs of the account are pending. */
    int count(String account) {
        Queue q = byAccount.get(account);
        return q == null ? 0 : q.order.size();
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
