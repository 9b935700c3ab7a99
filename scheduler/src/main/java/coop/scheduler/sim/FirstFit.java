package coop.scheduler.sim;

import coop.scheduler.allocation.GpuSlot;
import coop.scheduler.allocation.JobRequest;
import coop.scheduler.allocation.NodeView;
import coop.scheduler.domain.Placement;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeSet;

/**
 * The baselines' placement: a working copy of the free GPUs of the schedulable nodes, in
 * snapshot order, consumed as a cycle admits jobs. A job goes on the first node (or, for a
 * gang, the first nodes of one site, all or nothing) with enough free GPUs of a model it
 * accepts, taking the lowest free indices.
 */
final class FirstFit {
    private record Slot(NodeView node, String model, TreeSet<Integer> free) {
    }

    /** What placement depends on, so a cycle can remember whether a shape fits at all. */
    record Shape(int gpusPerNode, int nodes, List<String> models, boolean crossSite) {
        static Shape of(JobRequest job) {
            return new Shape(job.gpusPerNode(), job.nodes(), job.models(), job.crossSite());
        }
    }

    private final List<Slot> slots = new ArrayList<>();

    /** Free GPUs now; with {@code idle}, every GPU as if the cluster were idle. */
    FirstFit(List<NodeView> nodes, boolean idle) {
        for (NodeView n : nodes) {
            if (!n.schedulable()) {
                continue;
            }
            Map<String, TreeSet<Integer>> byModel = new LinkedHashMap<>();
            for (GpuSlot g : n.gpus()) {
                if (idle || g.free()) {
                    byModel.computeIfAbsent(g.model(), m -> new TreeSet<>()).add(g.index());
                } else {
                    byModel.computeIfAbsent(g.model(), m -> new TreeSet<>());
                }
            }
            byModel.forEach((model, free) -> slots.add(new Slot(n, model, free)));
        }
    }

    /** All GPUs of schedulable nodes, free or not. */
    static int capacity(List<NodeView> nodes) {
        int c = 0;
        for (NodeView n : nodes) {
            if (n.schedulable()) {
                c += n.gpus().size();
            }
        }
        return c;
    }

    /** Where the job would go now, without taking anything. */
    Optional<List<Slot>> find(JobRequest job) {
        Map<String, List<Slot>> bySite = new LinkedHashMap<>();
        for (Slot s : slots) {
            if (s.free().size() < job.gpusPerNode() || !job.accepts(s.model())) {
                continue;
            }
            String group = job.crossSite() ? "" : s.node().site();
            List<Slot> chosen = bySite.computeIfAbsent(group, g -> new ArrayList<>());
            if (chosen.stream().noneMatch(c -> c.node().name().equals(s.node().name()))) {
                chosen.add(s);
                if (chosen.size() == job.nodes()) {
                    return Optional.of(chosen);
                }
            }
        }
        return Optional.empty();
    }

    boolean fits(JobRequest job) {
        return find(job).isPresent();
    }

    /** Places the job and takes its GPUs, or returns empty and takes nothing. */
    Optional<List<Placement>> take(JobRequest job) {
        return find(job).map(chosen -> {
            List<Placement> placements = new ArrayList<>(chosen.size());
            for (Slot s : chosen) {
                List<Integer> indices = new ArrayList<>(job.gpusPerNode());
                for (int i = 0; i < job.gpusPerNode(); i++) {
                    indices.add(s.free().pollFirst());
                }
                placements.add(new Placement(s.node().name(), s.node().site(), s.model(), indices));
            }
            return placements;
        });
    }
}
