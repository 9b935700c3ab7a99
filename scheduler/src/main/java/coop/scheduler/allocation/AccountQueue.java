package coop.scheduler.allocation;

import java.util.List;

/**
 * One account's pending jobs in queue order ({@link JobRequest#QUEUE_ORDER}), with their GPUs in
 * total and the fewest any of them wants. The event loop keeps these across cycles and hands
 * them over with the snapshot, so that a cycle need not read every pending job to group them.
 */
public record AccountQueue(String account, List<JobRequest> jobs, long totalGpus, int minGpus) {
    public AccountQueue {
        jobs = jobs instanceof JobList given ? given : List.copyOf(jobs);
    }
}
