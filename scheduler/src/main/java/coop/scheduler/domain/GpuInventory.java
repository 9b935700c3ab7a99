package coop.scheduler.domain;

import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * The GPUs of the cooperative's nodes as their agents last reported them, each node by site and
 * by model, and the rule of placement judged on them once and for all: a job's ranks each need
 * {@code gpusPerNode} GPUs of one model on one node, and a gang's nodes are in one site unless it
 * crosses sites. A job no set of these nodes could hold, even all idle and offered, would wait for
 * ever; {@link #whyNever} says why, so that it is refused at submit instead.
 */
public record GpuInventory(List<Node> nodes) {

    /** One node: its name, site, and how many GPUs it has of each model. */
    public record Node(String name, String site, Map<String, Integer> gpus) {
        public Node {
            gpus = new TreeMap<>(gpus);
        }

        /** A node from its GPUs' models, one entry per GPU. */
        public static Node of(String name, String site, Collection<String> models) {
            Map<String, Integer> counts = new TreeMap<>();
            models.forEach(m -> counts.merge(m, 1, Integer::sum));
            return new Node(name, site, counts);
        }

        /** The most GPUs of one model the job accepts; 0 when it accepts none here. */
        int mostOfOneModel(List<String> accepted) {
            int most = 0;
            for (var e : gpus.entrySet()) {
                if (accepts(accepted, e.getKey())) {
                    most = Math.max(most, e.getValue());
                }
            }
            return most;
        }

        /** "n2 has 2×A100 + 2×L4". */
        String described() {
            StringBuilder s = new StringBuilder(name).append(" has ");
            String sep = "";
            for (var e : gpus.entrySet()) {
                s.append(sep).append(e.getValue()).append('×').append(e.getKey());
                sep = " + ";
            }
            return s.toString();
        }
    }

    public GpuInventory {
        nodes = List.copyOf(nodes);
    }

    static boolean accepts(List<String> accepted, String model) {
        if (accepted.isEmpty()) {
            return true;
        }
        for (String m : accepted) {
            if (m.equalsIgnoreCase(model)) {
                return true;
            }
        }
        return false;
    }

    /**
     * Why no set of these nodes could ever hold the job, beginning with the field to change
     * ({@code gpu_model}, {@code gpus_per_node} or {@code nodes}); null when one could, or when
     * there is no node to judge by.
     */
    public String whyNever(int gpusPerNode, int nodeCount, List<String> models, boolean crossSite) {
        if (nodes.isEmpty()) {
            return null;
        }
        String kind = models.isEmpty() ? "GPU" : String.join("|", models) + " GPU";
        String each = Plural.of(gpusPerNode, kind) + (models.size() == 1 ? "" : " of one model");
        if (nodes.stream().allMatch(n -> n.mostOfOneModel(models) == 0)) {
            TreeSet<String> all = new TreeSet<>();
            nodes.forEach(n -> all.addAll(n.gpus().keySet()));
            return "gpu_model: no node of the cooperative has " + kind + "s (its nodes have "
                    + (all.isEmpty() ? "no GPU" : String.join(", ", all)) + ")";
        }
        Node most = null;
        Node mixed = null;
        for (Node n : nodes) {
            int one = n.mostOfOneModel(models);
            if (most == null || one > most.mostOfOneModel(models)) {
                most = n;
            }
            int together = n.gpus().entrySet().stream().filter(e -> accepts(models, e.getKey()))
                    .mapToInt(Map.Entry::getValue).sum();
            if (mixed == null && one < gpusPerNode && together >= gpusPerNode) {
                mixed = n;
            }
        }
        if (most.mostOfOneModel(models) < gpusPerNode) {
            return "gpus_per_node: no node of the cooperative has " + each + " (--gpus counts GPUs per node; the most "
                    + "of one model: " + most.described() + ")"
                    + (mixed == null ? "" : "; one GPU model per rank: " + mixed.described());
        }
        Map<String, Integer> groups = new TreeMap<>();
        for (Node n : nodes) {
            for (var e : n.gpus().entrySet()) {
                if (accepts(models, e.getKey()) && e.getValue() >= gpusPerNode) {
                    groups.merge((crossSite ? "" : n.site()) + "\u0000" + e.getKey(), 1, Integer::sum);
                }
            }
        }
        int best = 0;
        String where = "";
        for (var e : groups.entrySet()) {
            if (e.getValue() > best) {
                best = e.getValue();
                where = e.getKey().substring(0, e.getKey().indexOf('\u0000'));
            }
        }
        if (best >= nodeCount) {
            return null;
        }
        String with = " with " + each;
        return "nodes: " + (crossSite ? "the cooperative has " + Plural.of(best, "node") + with
                : "no site has " + nodeCount + " nodes" + with + " (the most: " + best + " at " + where + ")")
                + (mixed == null ? "" : "; one GPU model per rank: " + mixed.described());
    }
}
