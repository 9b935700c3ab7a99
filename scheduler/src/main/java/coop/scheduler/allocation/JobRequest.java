package coop.scheduler.allocation;

import java.util.Comparator;
import java.util.List;

/**
 * A pending job as the allocator sees it. An empty model list accepts any GPU model.
 * {@code walltimeSeconds} bounds how long it runs (backfill relies on it); a job that is not
 * {@code preemptible} runs only within its account's entitlement.
 */
public record JobRequest(long id, String account, int gpusPerNode, int nodes, List<String> models, int priority,
                         long submittedAt, boolean crossSite, long walltimeSeconds, boolean preemptible) {

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
    }

    /** A preemptible job with one model constraint ("" for any) and a one-hour walltime. */
    public JobRequest(long id, String account, int gpusPerNode, int nodes, String model, int priority,
                      long submittedAt, boolean crossSite) {
        this(id, account, gpusPerNode, nodes, model.isEmpty() ? List.of() : List.of(model), priority, submittedAt,
                crossSite, 3600, true);
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

    public String shape() {
        String m = models.isEmpty() ? "GPU" : String.join("|", models);
        return nodes > 1 ? nodes + "x" + gpusPerNode + " " + m : gpusPerNode + " " + m;
    }
}
