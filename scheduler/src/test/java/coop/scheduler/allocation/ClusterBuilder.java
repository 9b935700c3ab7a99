package coop.scheduler.allocation;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/** Test kit: {@code aCluster().node("n1", "s1", 8, "A100").share("lab-a", 50)...snapshot()}. */
final class ClusterBuilder {
    private final List<NodeView> nodes = new ArrayList<>();
    private final List<JobRequest> jobs = new ArrayList<>();
    private final Map<String, AccountStanding> accounts = new HashMap<>();
    private long nextId = 1;

    static ClusterBuilder aCluster() {
        return new ClusterBuilder();
    }

    ClusterBuilder node(String name, String site, int gpus, String model, Integer... busy) {
        Set<Integer> busySet = Set.of(busy);
        List<GpuSlot> slots = new ArrayList<>();
        for (int i = 0; i < gpus; i++) {
            slots.add(new GpuSlot(i, model, !busySet.contains(i)));
        }
        nodes.add(new NodeView(name, site, slots));
        return this;
    }

    ClusterBuilder account(String name, int sharePercent, double usedGpuSeconds) {
        accounts.put(name, new AccountStanding(name, sharePercent * 100, usedGpuSeconds));
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

    ClusterBuilder crossSiteJob(String account, int gpusPerNode, int nodeCount) {
        long id = nextId++;
        jobs.add(new JobRequest(id, account, gpusPerNode, nodeCount, "", 0, id, true));
        return this;
    }

    ClusterSnapshot snapshot() {
        return new ClusterSnapshot(nodes, jobs, accounts);
    }
}
