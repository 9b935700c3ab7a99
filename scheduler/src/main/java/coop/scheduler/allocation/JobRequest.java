package coop.scheduler.allocation;

/** A pending job as the allocator sees it. An empty model accepts any GPU model. */
public record JobRequest(long id, String account, int gpusPerNode, int nodes, String model, int priority,
                         long submittedAt, boolean crossSite) {

    public boolean accepts(String gpuModel) {
        return model.isEmpty() || model.equalsIgnoreCase(gpuModel);
    }

    public String shape() {
        String m = model.isEmpty() ? "GPU" : model;
        return nodes > 1 ? nodes + "x" + gpusPerNode + " " + m : gpusPerNode + " " + m;
    }
}
