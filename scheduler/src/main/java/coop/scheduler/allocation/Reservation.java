package coop.scheduler.allocation;

import java.util.HashMap;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * The one reservation of a cycle: the job it is for, its nodes, when it starts, and the GPUs on
 * those nodes beyond its need then, which later jobs ending after the start may still take.
 */
final class Reservation {
    final long jobId;
    final long startAt;
    final Set<String> nodes = new TreeSet<>();
    final Map<String, Integer> spare = new HashMap<>();

    Reservation(long jobId, long startAt) {
        this.jobId = jobId;
        this.startAt = startAt;
    }

    /** Whether a job started at {@code now} would still run when the reservation starts. */
    boolean endsAfterStart(long now, JobRequest job) {
        return now + job.walltimeSeconds() * 1000 > startAt;
    }

    /** Whether placing the job on the node would take GPUs the reservation needs there. */
    boolean delays(long now, NodeState n, JobRequest job) {
        return jobId != job.id() && nodes.contains(n.view.name()) && endsAfterStart(now, job);
    }

    /** GPUs of one of its nodes that a job still running at the start may take: what the reservation leaves. */
    int spareOn(String node) {
        return Math.max(0, spare.getOrDefault(node, 0));
    }
}
