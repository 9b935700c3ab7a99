package coop.scheduler.allocation;

/**
 * The nodes a job met in one cycle counted by their {@link NodeVeto}, and those that could take
 * one of its ranks, as in "11 nodes: 5 draining, 3 too small, 3 busy".
 */
final class NodeVetoes {
    private final int[] counts = new int[NodeVeto.values().length];
    private int withRoom;

    /** Counts one node: vetoed, or with room for a rank when {@code veto} is null. */
    void add(NodeVeto veto) {
        if (veto == null) {
            withRoom++;
        } else {
            counts[veto.ordinal()]++;
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
        return s.toString();
    }
}
