package coop.scheduler.allocation;

/**
 * The nodes a job met in one cycle counted by their {@link NodeVeto}, and those that could take
 * one of its ranks, as in "11 nodes: 5 draining, 3 too small, 3 busy". A rule a submitter may not
 * know is also said once with a node it held on: "one GPU model per rank: n2 has 2×A100 + 2×L4".
 */
final class NodeVetoes {
    private final int[] counts = new int[NodeVeto.values().length];
    private int withRoom;
    /** The first node counted as {@link NodeVeto#MIXED_MODELS}, with its GPUs: "n2 has 2×A100 + 2×L4". */
    private String mixedExample;

    /** Counts one node: vetoed, or with room for a rank when {@code veto} is null. */
    void add(NodeVeto veto) {
        if (veto == null) {
            withRoom++;
        } else {
            counts[veto.ordinal()]++;
        }
    }

    /** Counts one node, and keeps the first of its kind as the example its veto is told with. */
    void add(NodeVeto veto, NodeState node) {
        add(veto);
        if (veto == NodeVeto.MIXED_MODELS && mixedExample == null) {
            StringBuilder gpus = new StringBuilder(node.view.name()).append(" has ");
            for (int m = 0; m < node.models.length; m++) {
                gpus.append(m == 0 ? "" : " + ").append(node.total[m]).append('×').append(node.models[m]);
            }
            mixedExample = gpus.toString();
        }
    }

    int count(NodeVeto veto) {
        return counts[veto.ordinal()];
    }

    int withRoom() {
        return withRoom;
    }

    int nodes() {
        int n = withRoom;
        for (int c : counts) {
            n += c;
        }
        return n;
    }

    /** The counts in filter order, zeros left out; empty when there is no node at all. */
    @Override
    public String toString() {
        int nodes = nodes();
        if (nodes == 0) {
            return "";
        }
        StringBuilder s = new StringBuilder().append(nodes).append(nodes == 1 ? " node: " : " nodes: ");
        String sep = "";
        for (NodeVeto v : NodeVeto.values()) {
            if (counts[v.ordinal()] > 0) {
                s.append(sep).append(counts[v.ordinal()]).append(' ').append(v.label);
                sep = ", ";
            }
        }
        if (withRoom > 0) {
            s.append(sep).append(withRoom).append(" with room");
        }
        if (mixedExample != null) {
            s.append("; one GPU model per rank: ").append(mixedExample);
        }
        return s.toString();
    }
}
