package coop.scheduler.sim;

import coop.scheduler.allocation.GpuSlot;
import coop.scheduler.allocation.NodeView;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The simulated cluster: {@code nodes} identical nodes of {@code gpusPerNode} GPUs of one
 * model, at one site. A trace job of at most {@code gpusPerNode} GPUs runs on one node; a
 * larger one becomes a gang of whole nodes, so its GPUs must be a multiple of
 * {@code gpusPerNode}.
 */
public record SimulatedCluster(int nodes, int gpusPerNode, String site, String model) {
    public static final String SITE = "sim";
    public static final String MODEL = "GPU";
    private static final Pattern SHAPE = Pattern.compile("(\\d+)\\s*[xX]\\s*(\\d+)");

    public SimulatedCluster {
        if (nodes <= 0 || gpusPerNode <= 0) {
            throw new IllegalArgumentException("a cluster needs at least one node of at least one GPU, got "
                    + nodes + "x" + gpusPerNode);
        }
    }

    public SimulatedCluster(int nodes, int gpusPerNode) {
        this(nodes, gpusPerNode, SITE, MODEL);
    }

    /** {@code gpus / 8} nodes of 8 GPUs; fewer than 8 GPUs make one node. */
    public static SimulatedCluster ofGpus(int gpus) {
        if (gpus <= 0) {
            throw new IllegalArgumentException("the cluster needs at least one GPU, got " + gpus);
        }
        if (gpus < 8) {
            return new SimulatedCluster(1, gpus);
        }
        if (gpus % 8 != 0) {
            throw new IllegalArgumentException(gpus + " GPUs are not whole nodes of 8; give the node shape as KxG");
        }
        return new SimulatedCluster(gpus / 8, 8);
    }

    /** Parses {@code KxG}, for example {@code 11x8}. */
    public static SimulatedCluster parse(String shape) {
        Matcher m = SHAPE.matcher(shape.strip());
        if (!m.matches()) {
            throw new IllegalArgumentException("'" + shape + "' is not a node shape KxG (for example 11x8)");
        }
        try {
            return new SimulatedCluster(Integer.parseInt(m.group(1)), Integer.parseInt(m.group(2)));
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("'" + shape + "' is too large");
        }
    }

    public int capacity() {
        return nodes * gpusPerNode;
    }

    public String nodeName(int i) {
        return String.format("n%0" + Integer.toString(nodes).length() + "d", i + 1);
    }

    /** How a trace job of {@code gpus} GPUs is shaped here: {@code {gpusPerNode, nodes}}. */
    public int[] shapeOf(int gpus) {
        if (gpus <= gpusPerNode) {
            return new int[] {gpus, 1};
        }
        if (gpus % gpusPerNode != 0) {
            throw new IllegalArgumentException(gpus + " GPUs are not whole nodes of " + gpusPerNode);
        }
        return new int[] {gpusPerNode, gpus / gpusPerNode};
    }

    /** All nodes idle, as the allocator would see them. */
    public List<NodeView> idleNodes() {
        List<NodeView> views = new ArrayList<>();
        for (int n = 0; n < nodes; n++) {
            List<GpuSlot> slots = new ArrayList<>();
            for (int g = 0; g < gpusPerNode; g++) {
                slots.add(new GpuSlot(g, model, true));
            }
            views.add(new NodeView(nodeName(n), site, slots));
        }
        return views;
    }

    @Override
    public String toString() {
        return capacity() + " GPUs (" + nodes + "x" + gpusPerNode + ")";
    }
}
