package coop.scheduler.allocation;

import coop.scheduler.domain.JobContainer;
import coop.scheduler.domain.NodeFeatures;
import coop.scheduler.domain.Plural;
import java.util.Comparator;
import java.util.List;

/**
 * A pending job as the allocator sees it. An empty model list accepts any GPU model.
 * {@code walltimeSeconds} bounds how long it runs (backfill relies on it); a job that is not
 * {@code preemptible} runs only within its account's entitlement. A requeued job whose checkpoints
 * are on a site's shared file system names that site in {@code preferredSite} ("" for none): its
 * ranks go there when the site can take them, elsewhere when it cannot. A job with a
 * {@code container} goes only to nodes whose features serve it, one asking for memory per rank
 * ({@code memMib}, 0 for none) only to nodes whose ranks get that much; one declaring a
 * {@code purpose} only to nodes whose operators' terms do not refuse it.
 */
public record JobRequest(long id, String account, int gpusPerNode, int nodes, List<String> models, int priority,
                         long submittedAt, boolean crossSite, long walltimeSeconds, boolean preemptible,
                         String preferredSite, JobContainer container, long memMib, String purpose) {

    /**
     * The order of an account's queue: higher priority first, then older, then lower id. A
     * pending list kept in this order (as the event loop and the simulator keep theirs) is not
     * sorted again by the allocator.
     */
    public static final Comparator<JobRequest> QUEUE_ORDER = (x, y) -> {
        if (x.priority != y.priority) {
            return x.priority > y.priority ? -1 : 1;
        }
        if (x.submittedAt != y.submittedAt) {
            return Long.compare(x.submittedAt, y.submittedAt);
        }
        return Long.compare(x.id, y.id);
    };

    public JobRequest {
        models = List.copyOf(models);
        preferredSite = preferredSite == null ? "" : preferredSite;
        container = container == null ? JobContainer.NONE : container;
        purpose = purpose == null ? "" : purpose;
    }

    /** A job declaring no purpose. */
    public JobRequest(long id, String account, int gpusPerNode, int nodes, List<String> models, int priority,
                      long submittedAt, boolean crossSite, long walltimeSeconds, boolean preemptible,
                      String preferredSite, JobContainer container, long memMib) {
        this(id, account, gpusPerNode, nodes, models, priority, submittedAt, crossSite, walltimeSeconds, preemptible,
                preferredSite, container, memMib, "");
    }

    /** A job asking no memory of its own. */
    public JobRequest(long id, String account, int gpusPerNode, int nodes, List<String> models, int priority,
                      long submittedAt, boolean crossSite, long walltimeSeconds, boolean preemptible,
                      String preferredSite, JobContainer container) {
        this(id, account, gpusPerNode, nodes, models, priority, submittedAt, crossSite, walltimeSeconds, preemptible,
                preferredSite, container, 0);
    }

    /**
     * Whether it asks nodes for more than GPUs (a container, memory for its ranks): then only the
     * nodes themselves, not classes of nodes alike in GPUs, tell where it fits.
     */
    public boolean asksFeatures() {
        return container.present() || memMib > 0 || !purpose.isEmpty();
    }

    /** Whether a node with these features can run it: its container (if any) and the memory its ranks ask. */
    public boolean servedBy(NodeFeatures features) {
        return features.serves(container) && features.hasMemory(gpusPerNode, memMib);
    }

    /**
     * Whether the node can run it: what its agent offers serves it, and its operator's terms do
     * not refuse its declared purpose.
     */
    public boolean servedBy(NodeView node) {
        return servedBy(node.features()) && !node.refusedPurposes().contains(purpose);
    }

    /** A job that runs on its nodes themselves, in no container. */
    public JobRequest(long id, String account, int gpusPerNode, int nodes, List<String> models, int priority,
                      long submittedAt, boolean crossSite, long walltimeSeconds, boolean preemptible,
                      String preferredSite) {
        this(id, account, gpusPerNode, nodes, models, priority, submittedAt, crossSite, walltimeSeconds, preemptible,
                preferredSite, JobContainer.NONE);
    }

    /** A job with no site to prefer. */
    public JobRequest(long id, String account, int gpusPerNode, int nodes, List<String> models, int priority,
                      long submittedAt, boolean crossSite, long walltimeSeconds, boolean preemptible) {
        this(id, account, gpusPerNode, nodes, models, priority, submittedAt, crossSite, walltimeSeconds, preemptible,
                "");
    }

    /** A preemptible job with one model constraint ("" for any) and a one-hour walltime. */
    public JobRequest(long id, String account, int gpusPerNode, int nodes, String model, int priority,
                      long submittedAt, boolean crossSite) {
        this(id, account, gpusPerNode, nodes, model.isEmpty() ? List.of() : List.of(model), priority, submittedAt,
                crossSite, 3600, true);
    }

    /** Whether it prefers the nodes of a site, where its checkpoints are. */
    public boolean prefersSite() {
        return !preferredSite.isEmpty();
    }

    public int gpus() {
        return gpusPerNode * nodes;
    }

    public boolean accepts(String gpuModel) {
        if (models.isEmpty()) {
            return true;
        }
        for (String m : models) {
            if (m.equalsIgnoreCase(gpuModel)) {
                return true;
            }
        }
        return false;
    }

    /** "2 nodes × 4 A100 GPUs", "1 GPU": what it asks for, in words. */
    public String shape() {
        return nodes > 1 ? nodes + " nodes × " + gpusEach() : gpusEach();
    }

    /** What one rank asks for: "4 GPUs", "1 A100|H100 GPU". */
    public String gpusEach() {
        return Plural.of(gpusPerNode, models.isEmpty() ? "GPU" : String.join("|", models) + " GPU");
    }
}
