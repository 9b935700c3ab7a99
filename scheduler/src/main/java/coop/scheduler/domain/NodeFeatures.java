package coop.scheduler.domain;

import java.util.List;

/**
 * What a node's agent offers jobs besides its GPUs, as its Hello says: the container runtimes it
 * runs images with ({@code coop agent --container-runtime}) and the host folders under which a
 * job may mount its own into its container ({@code --allow-mount}). A node serves a container job
 * only with a runtime and every one of the job's mounts under a folder it allows. {@code memoryPerGpuMib}
 * is the memory a rank may use per GPU it holds (0: not known); a job asking for memory
 * ({@code --mem}) goes only where its GPUs on one node bring at least as much.
 */
public record NodeFeatures(List<String> containerRuntimes, List<String> allowedMounts, long memoryPerGpuMib) {

    /** A node that runs no container and allows no mount: what every node was before agents said. */
    public static final NodeFeatures NONE = new NodeFeatures(List.of(), List.of());

    /** A node that did not say how much memory its ranks get. */
    public NodeFeatures(List<String> containerRuntimes, List<String> allowedMounts) {
        this(containerRuntimes, allowedMounts, 0);
    }

    /** Most entries of each list a node may report; the rest is not read. */
    public static final int MAX_ENTRIES = 32;

    public NodeFeatures {
        containerRuntimes = containerRuntimes == null ? List.of() : bounded(containerRuntimes);
        allowedMounts = allowedMounts == null ? List.of() : bounded(allowedMounts);
        memoryPerGpuMib = Math.max(0, memoryPerGpuMib);
    }

    /** Whether a rank of {@code gpusPerNode} GPUs asking for {@code memMib} (0: nothing) gets it here. */
    public boolean hasMemory(int gpusPerNode, long memMib) {
        return memMib <= 0 || memoryPerGpuMib * Math.max(1, gpusPerNode) >= memMib;
    }

    private static List<String> bounded(List<String> list) {
        return list.stream().limit(MAX_ENTRIES).map(s -> s.replaceAll("\\p{Cntrl}", " "))
                .map(s -> s.length() > 200 ? s.substring(0, 200) : s).toList();
    }

    /** Whether the node runs container jobs at all. */
    public boolean runsContainers() {
        return !containerRuntimes.isEmpty();
    }

    /** Whether the node's operator allows a job to mount {@code source} into its container. */
    public boolean allowsMount(String source) {
        for (String allowed : allowedMounts) {
            if (allowed.startsWith("/") && JobContainer.within(source, allowed)) {
                return true;
            }
        }
        return false;
    }

    /** Whether a job with this container (or none) can run here. */
    public boolean serves(JobContainer container) {
        return lacks(container) == null;
    }

    /**
     * What the node lacks for this container, in words for a waiting job's submitter ("no container
     * runtime", "no allowed mount for /data/x"); null when it has all of it.
     */
    public String lacks(JobContainer container) {
        if (!container.present()) {
            return null;
        }
        if (!runsContainers()) {
            return "no container runtime";
        }
        for (String source : container.sources()) {
            if (!allowsMount(source)) {
                return "no allowed mount for " + source;
            }
        }
        return null;
    }
}
