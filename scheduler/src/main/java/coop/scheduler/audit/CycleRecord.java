package coop.scheduler.audit;

import coop.scheduler.allocation.AccountQueue;
import coop.scheduler.allocation.AccountStanding;
import coop.scheduler.allocation.ClusterSnapshot;
import coop.scheduler.allocation.Decision;
import coop.scheduler.allocation.GpuHold;
import coop.scheduler.allocation.GpuSlot;
import coop.scheduler.allocation.JobList;
import coop.scheduler.allocation.JobRequest;
import coop.scheduler.allocation.NodeView;
import coop.scheduler.allocation.PreemptionRules;
import coop.scheduler.allocation.RunningAttempt;
import coop.scheduler.domain.JobContainer;
import coop.scheduler.domain.NodeFeatures;
import coop.scheduler.domain.Placement;
import coop.scheduler.ledger.Canonical;
import coop.scheduler.ledger.Entry;
import coop.scheduler.ledger.Event;
import coop.scheduler.ledger.EventType;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SortedMap;
import java.util.TreeMap;

/**
 * One allocation cycle as the audit keeps it: the allocator's input ({@link ClusterSnapshot})
 * and the decisions it took, each as canonical JSON, and the {@code cycle} ledger entry that
 * holds their SHA-256. The bytes go into the store beside the entry (keyed by its sequence
 * number), so that {@link AllocatorReplay} can run the allocator again on the very input and
 * compare; the ledger's chain makes the hashes, and so the records, tamper-evident.
 *
 * <p>The snapshot is the event loop's shape: its pending jobs are its queues laid end to end, so
 * only the queues are written, each job as the list of its {@link #JOB_FIELDS}. Fractions (decayed
 * usage) are written as text ({@link Double#toString}), which reads back to the same double, since
 * canonical JSON holds integers only.
 */
public record CycleRecord(byte[] snapshot, byte[] decisions, long policyVersion, int nodes, int pending,
                          int running, int taken) {

    /** The record of a cycle the allocator planned from {@code s}, under policy {@code policyVersion}. */
    public static CycleRecord of(ClusterSnapshot s, List<Decision> taken, long policyVersion) {
        return new CycleRecord(Canonical.encode(encode(s)), Canonical.encode(encode(taken)), policyVersion,
                s.nodes().size(), s.pending().size(), s.running().size(), taken.size());
    }

    /** The ledger's {@code cycle} entry: the two hashes, the policy in force and how big the cycle was. */
    public Event event() {
        SortedMap<String, Object> b = new TreeMap<>();
        b.put("snapshot_sha256", Entry.sha256(snapshot));
        b.put("decisions_sha256", Entry.sha256(decisions));
        b.put("policy_version", policyVersion);
        b.put("nodes", (long) nodes);
        b.put("pending", (long) pending);
        b.put("running", (long) running);
        b.put("decisions", (long) taken);
        return Event.of(EventType.CYCLE, b);
    }

    /**
     * What the store keeps for the entry: {@code {"decisions":…,"snapshot":…}}, the two canonical
     * parts joined as canonical JSON joins them (keys in order), without encoding them again.
     */
    public byte[] stored() {
        byte[] open = "{\"decisions\":".getBytes(java.nio.charset.StandardCharsets.UTF_8);
        byte[] middle = ",\"snapshot\":".getBytes(java.nio.charset.StandardCharsets.UTF_8);
        byte[] out = new byte[open.length + decisions.length + middle.length + snapshot.length + 1];
        int at = 0;
        for (byte[] part : List.of(open, decisions, middle, snapshot)) {
            System.arraycopy(part, 0, out, at, part.length);
            at += part.length;
        }
        out[at] = '}';
        return out;
    }

    // ------------------------------------------------------------------ snapshot

    static SortedMap<String, Object> encode(ClusterSnapshot s) {
        SortedMap<String, Object> m = new TreeMap<>();
        m.put("now", s.now());
        m.put("nodes", s.nodes().stream().map(CycleRecord::node).toList());
        m.put("job_fields", JOB_FIELDS);
        m.put("queues", s.queues().stream().map(CycleRecord::queue).toList());
        m.put("running", s.running().stream().map(CycleRecord::running).toList());
        SortedMap<String, Object> accounts = new TreeMap<>();
        s.accounts().forEach((name, a) -> accounts.put(name, standing(a)));
        m.put("accounts", accounts);
        m.put("rules", obj("min_run_ms", s.rules().minRunMs(), "reserve_wait_ms", s.rules().reserveWaitMs(),
                "hold_ms", s.rules().holdMs()));
        m.put("holds", s.holds().stream().map(CycleRecord::hold).toList());
        return m;
    }

    /**
     * The snapshot a record's canonical bytes ({@link #snapshot()}) hold.
     *
     * @throws IllegalArgumentException when they are not such a snapshot
     */
    @SuppressWarnings("unchecked")
    public static ClusterSnapshot readSnapshot(byte[] canonical) {
        return snapshot((Map<String, Object>) Canonical.parseObject(canonical));
    }

    /**
     * The snapshot written by {@link #encode(ClusterSnapshot)}.
     *
     * @throws IllegalArgumentException when a field is missing or of the wrong type
     */
    static ClusterSnapshot snapshot(Map<String, Object> m) {
        if (!JOB_FIELDS.equals(field(m, "job_fields"))) {
            throw new IllegalArgumentException("its jobs' fields are " + m.get("job_fields") + ", not " + JOB_FIELDS);
        }
        List<AccountQueue> queues = new ArrayList<>();
        for (Map<String, Object> q : maps(m, "queues")) {
            List<JobRequest> jobs = new ArrayList<>();
            for (Object j : list(q, "jobs")) {
                jobs.add(jobFrom(j));
            }
            queues.add(new AccountQueue(text(q, "account"), jobs, number(q, "total_gpus"), (int) number(q, "min_gpus")));
        }
        // As the event loop hands them over: the pending jobs are the queues' own, laid end to end.
        List<JobRequest> pending = JobList.concat(queues.stream().map(AccountQueue::jobs).toList());
        List<NodeView> nodes = new ArrayList<>();
        for (Map<String, Object> n : maps(m, "nodes")) {
            nodes.add(node(n));
        }
        List<RunningAttempt> running = new ArrayList<>();
        for (Map<String, Object> a : maps(m, "running")) {
            running.add(new RunningAttempt(number(a, "job"), (int) number(a, "attempt"), text(a, "account"),
                    placements(a), number(a, "started_at"), number(a, "walltime_s"), flag(a, "borrowed"),
                    flag(a, "preemptible"), flag(a, "terminating"), number(a, "stopping_for"), number(a, "saved_at"),
                    (int) number(a, "preemptions")));
        }
        Map<String, AccountStanding> accounts = new LinkedHashMap<>();
        for (Map.Entry<String, Object> e : map(m, "accounts").entrySet()) {
            Map<String, Object> a = asMap(e.getValue(), "accounts." + e.getKey());
            accounts.put(e.getKey(), new AccountStanding(e.getKey(), (int) number(a, "share_bp"),
                    fraction(a, "used_gpu_s"), fraction(a, "fair_gpu_s")));
        }
        Map<String, Object> r = map(m, "rules");
        PreemptionRules rules = new PreemptionRules(number(r, "min_run_ms"), number(r, "reserve_wait_ms"),
                number(r, "hold_ms"));
        List<GpuHold> holds = new ArrayList<>();
        for (Map<String, Object> h : maps(m, "holds")) {
            holds.add(new GpuHold(number(h, "job"), text(h, "account"), text(h, "node"), text(h, "model"),
                    (int) number(h, "gpus"), number(h, "until")));
        }
        return new ClusterSnapshot(number(m, "now"), nodes, pending, running, accounts, queues, rules, holds);
    }

    private static Map<String, Object> node(NodeView n) {
        SortedMap<String, Object> m = new TreeMap<>();
        m.put("name", n.name());
        m.put("site", n.site());
        m.put("gpus", n.gpus().stream().map(g -> java.util.Arrays.<Object>asList((long) g.index(), g.model(), g.free())).toList());
        m.put("operator", n.operatorAccount());
        m.put("reserved", (long) n.reservedGpus());
        m.put("offered", n.offered());
        m.put("draining", n.draining());
        m.put("offered_until", n.offeredUntil());
        m.put("container_runtimes", n.features().containerRuntimes());
        m.put("allowed_mounts", n.features().allowedMounts());
        m.put("memory_per_gpu_mib", n.features().memoryPerGpuMib());
        return m;
    }

    private static NodeView node(Map<String, Object> m) {
        List<GpuSlot> gpus = new ArrayList<>();
        for (Object o : list(m, "gpus")) {
            List<?> g = (List<?>) o;
            gpus.add(new GpuSlot(((Long) g.get(0)).intValue(), (String) g.get(1), (Boolean) g.get(2)));
        }
        return new NodeView(text(m, "name"), text(m, "site"), gpus, text(m, "operator"), (int) number(m, "reserved"),
                flag(m, "offered"), flag(m, "draining"), number(m, "offered_until"),
                new NodeFeatures(texts(m, "container_runtimes"), texts(m, "allowed_mounts"),
                        number(m, "memory_per_gpu_mib")));
    }

    private static Map<String, Object> queue(AccountQueue q) {
        return obj("account", q.account(), "total_gpus", q.totalGpus(), "min_gpus", (long) q.minGpus(),
                "jobs", q.jobs().stream().map(CycleRecord::job).toList());
    }

    /**
     * A pending job as a list of its fields in this order: the queue can hold tens of thousands
     * of jobs, and a list is written in a fraction of the time and bytes of an object per job.
     */
    static final List<String> JOB_FIELDS = List.of("id", "account", "gpus_per_node", "nodes", "models", "priority",
            "submitted_at", "cross_site", "walltime_s", "preemptible", "preferred_site", "image", "mounts", "mem_mib");

    private static List<Object> job(JobRequest j) {
        List<Object> mounts = j.container().mounts().isEmpty() ? List.of() : j.container().mounts().stream()
                .map(x -> (Object) java.util.Arrays.<Object>asList(x.source(), x.destination(), x.readOnly())).toList();
        return java.util.Arrays.asList(j.id(), j.account(), (long) j.gpusPerNode(), (long) j.nodes(), j.models(),
                (long) j.priority(), j.submittedAt(), j.crossSite(), j.walltimeSeconds(), j.preemptible(),
                j.preferredSite(), j.container().image(), mounts, j.memMib());
    }

    private static JobRequest jobFrom(Object o) {
        if (!(o instanceof List<?> f) || f.size() != JOB_FIELDS.size()) {
            throw new IllegalArgumentException("a pending job of the recorded snapshot is not a list of "
                    + JOB_FIELDS.size() + " fields");
        }
        Map<String, Object> m = new java.util.HashMap<>();
        for (int i = 0; i < f.size(); i++) {
            m.put(JOB_FIELDS.get(i), f.get(i));
        }
        List<JobContainer.Mount> mounts = new ArrayList<>();
        for (Object x : list(m, "mounts")) {
            List<?> mount = (List<?>) x;
            mounts.add(new JobContainer.Mount((String) mount.get(0), (String) mount.get(1), (Boolean) mount.get(2)));
        }
        return new JobRequest(number(m, "id"), text(m, "account"), (int) number(m, "gpus_per_node"),
                (int) number(m, "nodes"), texts(m, "models"), (int) number(m, "priority"), number(m, "submitted_at"),
                flag(m, "cross_site"), number(m, "walltime_s"), flag(m, "preemptible"), text(m, "preferred_site"),
                new JobContainer(text(m, "image"), mounts), number(m, "mem_mib"));
    }

    private static Map<String, Object> running(RunningAttempt a) {
        SortedMap<String, Object> m = new TreeMap<>();
        m.put("job", a.jobId());
        m.put("attempt", (long) a.attempt());
        m.put("account", a.account());
        m.put("placements", placements(a.placements()));
        m.put("started_at", a.startedAt());
        m.put("walltime_s", a.walltimeSeconds());
        m.put("borrowed", a.borrowed());
        m.put("preemptible", a.preemptible());
        m.put("terminating", a.terminating());
        m.put("stopping_for", a.stoppingFor());
        m.put("saved_at", a.savedAt());
        m.put("preemptions", (long) a.preemptions());
        return m;
    }

    private static Map<String, Object> standing(AccountStanding a) {
        return obj("share_bp", (long) a.shareBasisPoints(), "used_gpu_s", Double.toString(a.usedGpuSeconds()),
                "fair_gpu_s", Double.toString(a.fairGpuSeconds()));
    }

    private static Map<String, Object> hold(GpuHold h) {
        return obj("job", h.jobId(), "account", h.account(), "node", h.node(), "model", h.model(),
                "gpus", (long) h.gpus(), "until", h.until());
    }

    private static List<Object> placements(List<Placement> placements) {
        return placements.stream().<Object>map(p -> obj("node", p.node(), "site", p.site(), "model", p.gpuModel(),
                "gpus", p.gpuIndices().stream().map(Integer::longValue).toList())).toList();
    }

    private static List<Placement> placements(Map<String, Object> m) {
        List<Placement> out = new ArrayList<>();
        for (Map<String, Object> p : maps(m, "placements")) {
            out.add(new Placement(text(p, "node"), text(p, "site"), text(p, "model"),
                    list(p, "gpus").stream().map(g -> ((Long) g).intValue()).toList()));
        }
        return out;
    }

    // ------------------------------------------------------------------ decisions

    static List<Object> encode(List<Decision> decisions) {
        List<Object> out = new ArrayList<>(decisions.size());
        for (Decision d : decisions) {
            out.add(decision(d));
        }
        return out;
    }

    private static Map<String, Object> decision(Decision d) {
        SortedMap<String, Object> m = new TreeMap<>();
        m.put("job", d.jobId());
        if (d instanceof Decision.Admit a) {
            m.put("type", "admit");
            m.put("placements", placements(a.placements()));
            m.put("borrowed", a.borrowed());
        } else if (d instanceof Decision.Preempt p) {
            m.put("type", "preempt");
            m.put("attempt", (long) p.attempt());
            m.put("for", p.forJobId());
            m.put("reason", p.reason());
        } else if (d instanceof Decision.Hold h) {
            m.put("type", "hold");
            m.put("gpus", h.gpus().stream().map(CycleRecord::hold).toList());
        } else if (d instanceof Decision.Reserve r) {
            m.put("type", "reserve");
            m.put("nodes", r.nodes());
            m.put("start_at", r.startAt());
            m.put("detail", r.detail());
        } else if (d instanceof Decision.Wait w) {
            m.put("type", "wait");
            m.put("veto", w.veto().name());
            m.put("detail", w.detail());
        }
        return m;
    }

    /** One recorded decision in words, for a divergence report: "admit job 12 on n1[0,1]". */
    static String describe(Object decision) {
        if (!(decision instanceof Map<?, ?> d)) {
            return "nothing";
        }
        String head = d.get("type") + " job " + d.get("job");
        return switch (String.valueOf(d.get("type"))) {
            case "admit" -> head + " on " + where(d.get("placements")) + (Boolean.TRUE.equals(d.get("borrowed"))
                    ? " (borrowed)" : "");
            case "preempt" -> head + " attempt " + d.get("attempt") + " for job " + d.get("for") + ": " + d.get("reason");
            case "hold" -> head + " " + d.get("gpus");
            case "reserve" -> head + " on " + d.get("nodes") + " from " + d.get("start_at");
            case "wait" -> head + " (" + d.get("veto") + "): " + d.get("detail");
            default -> String.valueOf(d);
        };
    }

    private static String where(Object placements) {
        List<String> out = new ArrayList<>();
        if (placements instanceof List<?> list) {
            for (Object o : list) {
                if (o instanceof Map<?, ?> p) {
                    out.add(p.get("node") + "" + p.get("gpus"));
                }
            }
        }
        return String.join(" + ", out);
    }

    // ------------------------------------------------------------------ fields

    /** A canonical object of name/value pairs; unlike {@code Map.of}, a value may be null. */
    private static Map<String, Object> obj(Object... pairs) {
        SortedMap<String, Object> m = new TreeMap<>();
        for (int i = 0; i < pairs.length; i += 2) {
            m.put((String) pairs[i], pairs[i + 1]);
        }
        return m;
    }

    private static Object field(Map<String, Object> m, String name) {
        if (!m.containsKey(name)) {
            throw new IllegalArgumentException("the recorded snapshot lacks '" + name + "'");
        }
        return m.get(name);
    }

    private static long number(Map<String, Object> m, String name) {
        if (!(field(m, name) instanceof Long n)) {
            throw new IllegalArgumentException("'" + name + "' of the recorded snapshot is not a whole number");
        }
        return n;
    }

    private static boolean flag(Map<String, Object> m, String name) {
        if (!(field(m, name) instanceof Boolean b)) {
            throw new IllegalArgumentException("'" + name + "' of the recorded snapshot is not true or false");
        }
        return b;
    }

    private static String text(Map<String, Object> m, String name) {
        Object v = field(m, name);
        if (v == null) {
            return null;
        }
        if (!(v instanceof String s)) {
            throw new IllegalArgumentException("'" + name + "' of the recorded snapshot is not text");
        }
        return s;
    }

    private static double fraction(Map<String, Object> m, String name) {
        try {
            return Double.parseDouble(text(m, name));
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("'" + name + "' of the recorded snapshot is not a number");
        }
    }

    private static List<?> list(Map<String, Object> m, String name) {
        if (!(field(m, name) instanceof List<?> l)) {
            throw new IllegalArgumentException("'" + name + "' of the recorded snapshot is not a list");
        }
        return l;
    }

    private static List<String> texts(Map<String, Object> m, String name) {
        return list(m, name).stream().map(o -> (String) o).toList();
    }

    private static List<Map<String, Object>> maps(Map<String, Object> m, String name) {
        List<Map<String, Object>> out = new ArrayList<>();
        for (Object o : list(m, name)) {
            out.add(asMap(o, name));
        }
        return out;
    }

    private static Map<String, Object> map(Map<String, Object> m, String name) {
        return asMap(field(m, name), name);
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> asMap(Object o, String name) {
        if (!(o instanceof Map<?, ?>)) {
            throw new IllegalArgumentException("'" + name + "' of the recorded snapshot is not an object");
        }
        return (Map<String, Object>) o;
    }
}
