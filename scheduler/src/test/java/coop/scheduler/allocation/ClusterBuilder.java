package coop.scheduler.allocation;

import coop.scheduler.domain.Placement;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Test kit: {@code aCluster().node("n1", "s1", 8, "A100").account("lab-a", 50, 0).job(...).snapshot()}.
 * Running attempts placed with {@link #running} mark their GPUs busy.
 */
final class ClusterBuilder {
    private final List<NodeView> nodes = new ArrayList<>();
    private final List<JobRequest> jobs = new ArrayList<>();
    private final List<RunningAttempt> running = new ArrayList<>();
    private final Map<String, AccountStanding> accounts = new HashMap<>();
    private final Map<String, Set<Integer>> busy = new HashMap<>();
    private final List<GpuHold> holds = new ArrayList<>();
    private PreemptionRules rules = PreemptionRules.NONE;
    private long now = 1_000_000;
    private long nextId = 1;

    static ClusterBuilder aCluster() {
        return new ClusterBuilder();
    }

    ClusterBuilder node(String name, String site, int gpus, String model, Integer... busyGpus) {
        return node(name, site, gpus, model, true, false, busyGpus);
    }

    ClusterBuilder node(String name, String site, int gpus, String model, boolean offered, boolean draining,
                        Integer... busyGpus) {
        List<GpuSlot> slots = new ArrayList<>();
        for (int i = 0; i < gpus; i++) {
            slots.add(new GpuSlot(i, model, true));
        }
        nodes.add(new NodeView(name, site, slots, "", 0, offered, draining));
        busy.computeIfAbsent(name, n -> new HashSet<>()).addAll(Set.of(busyGpus));
        return this;
    }

    /** A node with GPUs of two models, all idle: {@code countA} of {@code modelA}, then {@code countB} of {@code modelB}. */
    ClusterBuilder mixedNode(String name, String site, String modelA, int countA, String modelB, int countB) {
        List<GpuSlot> slots = new ArrayList<>();
        for (int i = 0; i < countA + countB; i++) {
            slots.add(new GpuSlot(i, i < countA ? modelA : modelB, true));
        }
        nodes.add(new NodeView(name, site, slots, "", 0, true, false));
        busy.computeIfAbsent(name, n -> new HashSet<>());
        return this;
    }

    /** A node whose operator's account keeps {@code reserved} GPUs for itself first. */
    ClusterBuilder operatedNode(String name, String site, int gpus, String model, String operator, int reserved) {
        node(name, site, gpus, model);
        NodeView n = nodes.remove(nodes.size() - 1);
        nodes.add(new NodeView(n.name(), n.site(), n.gpus(), operator, reserved, true, false));
        return this;
    }

    /** A node offered until {@code secondsFromNow} from now, when its availability window closes. */
    ClusterBuilder nodeUntil(String name, String site, int gpus, String model, long secondsFromNow) {
        node(name, site, gpus, model);
        NodeView n = nodes.remove(nodes.size() - 1);
        nodes.add(new NodeView(n.name(), n.site(), n.gpus(), "", 0, true, false, now + secondsFromNow * 1000));
        return this;
    }

    ClusterBuilder account(String name, int sharePercent, double usedGpuSeconds) {
        accounts.put(name, new AccountStanding(name, sharePercent * 100, usedGpuSeconds));
        return this;
    }

    ClusterBuilder accountWithHistory(String name, int sharePercent, double usedGpuSeconds, double fairGpuSeconds) {
        accounts.put(name, new AccountStanding(name, sharePercent * 100, usedGpuSeconds, fairGpuSeconds));
        return this;
    }

    ClusterBuilder job(String account, int gpus) {
        return job(account, gpus, 1, "", 0);
    }

    ClusterBuilder job(String account, int gpusPerNode, int nodeCount, String model, int priority) {
        long id = nextId++;
        jobs.add(new JobRequest(id, account, gpusPerNode, nodeCount, model, priority, id, false));
        return this;
    }

    ClusterBuilder job(long id, String account, int gpus, long walltimeSeconds, boolean preemptible) {
        jobs.add(new JobRequest(id, account, gpus, 1, List.of(), 0, id, false, walltimeSeconds, preemptible));
        return this;
    }

    /** A preemptible multi-node job of {@code nodeCount} nodes with {@code gpusPerNode} each. */
    ClusterBuilder gang(long id, String account, int gpusPerNode, int nodeCount, long walltimeSeconds) {
        jobs.add(new JobRequest(id, account, gpusPerNode, nodeCount, List.of(), 0, id, false, walltimeSeconds, true));
        return this;
    }

    /** A requeued job whose checkpoints are on {@code site}'s shared root, crossing sites if {@code crossSite}. */
    ClusterBuilder jobPreferring(String site, String account, int gpusPerNode, int nodeCount, boolean crossSite) {
        long id = nextId++;
        jobs.add(new JobRequest(id, account, gpusPerNode, nodeCount, List.of(), 0, id, crossSite, 3600, true, site));
        return this;
    }

    ClusterBuilder crossSiteJob(String account, int gpusPerNode, int nodeCount) {
        long id = nextId++;
        jobs.add(new JobRequest(id, account, gpusPerNode, nodeCount, "", 0, id, true));
        return this;
    }

    /** An attempt of job {@code id} holding {@code gpus} on a node, started {@code ago} seconds ago. */
    ClusterBuilder running(long id, String account, String node, List<Integer> gpus, long agoSeconds,
                           long walltimeSeconds, boolean preemptible) {
        NodeView n = nodes.stream().filter(v -> v.name().equals(node)).findFirst().orElseThrow();
        String model = n.gpus().get(0).model();
        busy.get(node).addAll(gpus);
        running.add(new RunningAttempt(id, 1, account, List.of(new Placement(node, n.site(), model, gpus)),
                now - agoSeconds * 1000, walltimeSeconds, false, preemptible, false));
        return this;
    }

    /**
     * An attempt as {@link #running}, of a job preempted {@code preemptions} times before, whose
     * work is saved up to {@code savedAgoSeconds} ago.
     */
    ClusterBuilder runningSaved(long id, String account, String node, List<Integer> gpus, long agoSeconds,
                                long savedAgoSeconds, int preemptions) {
        NodeView n = nodes.stream().filter(v -> v.name().equals(node)).findFirst().orElseThrow();
        busy.get(node).addAll(gpus);
        running.add(new RunningAttempt(id, preemptions + 1, account, List.of(new Placement(node, n.site(),
                n.gpus().get(0).model(), gpus)), now - agoSeconds * 1000, 36_000, false, true, false, 0,
                now - savedAgoSeconds * 1000, preemptions));
        return this;
    }

    /** The policy's preemption bounds, in seconds; the holds last {@code holdSeconds}. */
    ClusterBuilder rules(long minRunSeconds, long reserveWaitSeconds, long holdSeconds) {
        rules = new PreemptionRules(minRunSeconds * 1000, reserveWaitSeconds * 1000, holdSeconds * 1000);
        return this;
    }

    /** {@code gpus} GPUs of the node held for job {@code jobId} of the account, for {@code seconds} more. */
    ClusterBuilder hold(long jobId, String account, String node, int gpus, long seconds) {
        NodeView n = nodes.stream().filter(v -> v.name().equals(node)).findFirst().orElseThrow();
        holds.add(new GpuHold(jobId, account, node, n.gpus().get(0).model(), gpus, now + seconds * 1000));
        return this;
    }

    /** An attempt of job {@code id} already told to stop, its GPUs freed for job {@code forJob} (0: for none). */
    ClusterBuilder stopping(long id, String account, String node, List<Integer> gpus, long forJob) {
        NodeView n = nodes.stream().filter(v -> v.name().equals(node)).findFirst().orElseThrow();
        busy.get(node).addAll(gpus);
        running.add(new RunningAttempt(id, 1, account, List.of(new Placement(node, n.site(), n.gpus().get(0).model(),
                gpus)), now - 60_000, 3600, true, true, true, forJob));
        return this;
    }

    ClusterSnapshot snapshot() {
        List<NodeView> views = new ArrayList<>();
        for (NodeView n : nodes) {
            Set<Integer> b = busy.get(n.name());
            views.add(new NodeView(n.name(), n.site(), n.gpus().stream()
                    .map(g -> new GpuSlot(g.index(), g.model(), !b.contains(g.index()))).toList(),
                    n.operatorAccount(), n.reservedGpus(), n.offered(), n.draining(), n.offeredUntil()));
        }
        return new ClusterSnapshot(now, views, jobs, running, accounts, AccountQueue.byAccount(jobs), rules, holds);
    }
}
