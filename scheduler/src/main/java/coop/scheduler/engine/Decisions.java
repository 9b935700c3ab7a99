package coop.scheduler.engine;

import coop.scheduler.domain.Attempt;
import coop.scheduler.domain.Job;
import coop.scheduler.domain.NodeRecord;
import coop.scheduler.domain.Placement;
import coop.scheduler.ledger.Canonical;
import coop.scheduler.ledger.Entry;
import coop.scheduler.ledger.Event;
import coop.scheduler.ledger.EventType;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SortedMap;
import java.util.TreeMap;

/**
 * The ledger's record of what the scheduler decides on its own authority: who submitted which job
 * for which account and purpose, who cancelled it and why, what was enrolled, drained, offered or
 * removed, which attempt was preempted for which job, and which certificates were issued. The
 * scheduler is the one actor whose choices the governance rules do not derive; recording them
 * beside the ballots lets any member hold it to account from the ledger alone. A job's command
 * stays private: a submission records the SHA-256 of its spec, which its submitter can match.
 */
final class Decisions {
    private Decisions() {
    }

    /** A job, or an array whose {@code tasks} tasks are the jobs after {@code first - 1}. */
    static Event submit(Job first, long arrayId, int tasks, String array) {
        SortedMap<String, Object> b = new TreeMap<>();
        b.put("job", first.id());
        b.put("member", first.member());
        b.put("account", first.account());
        b.put("gpus", (long) first.gpus());
        b.put("nodes", (long) first.nodes());
        b.put("purpose", first.purpose());
        b.put("spec", specDigest(first, array));
        if (tasks > 0) {
            b.put("array", arrayId);
            b.put("tasks", (long) tasks);
        }
        return Event.of(EventType.SUBMIT, b);
    }

    /**
     * The SHA-256 of what a job asks to run, in canonical form: its command, name, model,
     * walltime, environment, folder, container image and array indices. Enough for a submitter to
     * show which spec was recorded, without putting the command in a ledger everyone reads.
     */
    static String specDigest(Job j, String array) {
        SortedMap<String, Object> spec = new TreeMap<>();
        spec.put("command", j.command());
        spec.put("name", j.name());
        spec.put("gpu_model", j.gpuModel());
        spec.put("gpus_per_node", (long) j.gpusPerNode());
        spec.put("nodes", (long) j.nodes());
        spec.put("walltime_s", j.walltimeSeconds());
        spec.put("env", new TreeMap<String, Object>(j.env()));
        spec.put("chdir", j.chdir());
        spec.put("image", j.container().image());
        spec.put("workdir", j.workdir());
        spec.put("array", array == null ? "" : array);
        return Entry.sha256(Canonical.encode(spec));
    }

    static Event cancel(long job, String by, String reason) {
        return Event.of(EventType.CANCEL, Map.of("job", job, "by", by, "reason", reason));
    }

    static Event enrol(NodeRecord r, String by) {
        return Event.of(EventType.NODE_ENROL, Map.of("node", r.name(), "site", r.site(), "account", r.account(),
                "by", by));
    }

    /** A drain or undrain; {@code by} is the operator, or {@link #HEALTH_CHECK} for the node's own check. */
    static Event drain(String node, boolean drain, String reason, String by) {
        return Event.of(EventType.NODE_DRAIN, Map.of("node", node, "drain", drain, "reason", reason, "by", by));
    }

    /** Who drains a node that failed its own health check. */
    static final String HEALTH_CHECK = "health-check";

    static Event terms(NodeRecord r, String by) {
        return Event.of(EventType.NODE_TERMS, Map.of("node", r.name(), "by", by,
                "reserved_gpus", (long) r.reservedGpus(), "windows", List.copyOf(r.windows()),
                "time_zone", r.timeZone() == null ? "" : r.timeZone()));
    }

    static Event removeNode(String node, String by) {
        return Event.of(EventType.NODE_REMOVE, Map.of("node", node, "by", by));
    }

    static Event preempt(Job victim, int attempt, long forJob, String reason) {
        return Event.of(EventType.PREEMPT, Map.of("job", victim.id(), "attempt", (long) attempt,
                "account", victim.account(), "for_job", forJob, "reason", reason));
    }

    static Event certificate(String kind, String name, String serial) {
        return Event.of(EventType.CERTIFICATE, Map.of("holder", kind, "name", name, "serial", serial));
    }

    /**
     * Where an attempt ran, for its ledger entry: each rank's node and GPU indices, and whether
     * the GPUs were borrowed (idle ones of other accounts, which may be reclaimed) or the
     * account's own.
     */
    static void placements(Attempt a, Map<String, Object> body) {
        List<Object> ranks = new ArrayList<>(a.placements().size());
        for (Placement p : a.placements()) {
            ranks.add(Map.of("node", p.node(), "gpu_indices", List.copyOf(p.gpuIndices().stream()
                    .map(Integer::longValue).toList())));
        }
        body.put("placements", ranks);
        body.put("borrowed", a.borrowed());
    }
}
