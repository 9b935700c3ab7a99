package coop.scheduler.domain;

import java.util.List;

/** The rules an agent's Hello must meet on its own, before the engine looks at who sent it. */
public final class HelloRules {
    /** Highest GPU index a node may report (driver numbering within one machine). */
    public static final int MAX_GPU_INDEX = 1023;

    private HelloRules() {
    }

    /** Refuses the first broken rule with INVALID_ARGUMENT naming the Hello's field. */
    public static void check(String node, String site, String address, List<Gpu> gpus, int running) {
        Names.require("hello.node", node);
        if (address == null || address.isBlank() || address.length() > 253
                || !address.matches("[A-Za-z0-9.:\\[\\]%-]+")) {
            throw CoopException.invalid("hello.address", "must be a host name or IP address, got '" + address + "'");
        }
        Names.require("hello.site", site);
        if (gpus.isEmpty()) {
            throw CoopException.invalid("hello.gpus", "a node must report at least one GPU");
        }
        if (gpus.size() > JobSpec.MAX_GPUS_PER_NODE) {
            throw CoopException.invalid("hello.gpus", "a node may report at most " + JobSpec.MAX_GPUS_PER_NODE
                    + " GPUs, got " + gpus.size());
        }
        if (gpus.stream().map(Gpu::index).distinct().count() != gpus.size()) {
            throw CoopException.invalid("hello.gpus", "GPU indices must be unique");
        }
        for (Gpu g : gpus) {
            if (g.index() < 0 || g.index() > MAX_GPU_INDEX) {
                throw CoopException.invalid("hello.gpus.index", "must be between 0 and " + MAX_GPU_INDEX + ", got "
                        + g.index());
            }
            if (g.model() == null || !g.model().matches(JobSpec.GPU_MODEL)) {
                throw CoopException.invalid("hello.gpus.model", "'" + JobSpec.abbreviated(g.model()) + "' must match "
                        + JobSpec.GPU_MODEL);
            }
            if (g.memoryMib() < 0) {
                throw CoopException.invalid("hello.gpus.memory_mib", "must not be negative, got " + g.memoryMib());
            }
        }
        if (running > JobSpec.MAX_GPUS_PER_NODE) {
            throw CoopException.invalid("hello.running", "at most one rank per GPU (" + JobSpec.MAX_GPUS_PER_NODE
                    + "), got " + running);
        }
    }
}
