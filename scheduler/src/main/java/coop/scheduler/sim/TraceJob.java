package coop.scheduler.sim;

/**
 * One job of a trace: when it was submitted, by which account, on how many GPUs it ran and
 * for how long at full speed. {@code id} is its position in the trace (1 for the first data
 * row), {@code line} the line it came from, for error messages. An empty {@code gpuModel}
 * accepts any GPU.
 */
public record TraceJob(long id, int line, long submitMs, String account, int gpus, long durationMs,
                       String gpuModel) {
    public TraceJob {
        if (gpus <= 0) {
            throw new IllegalArgumentException("job " + id + ": gpus must be positive, got " + gpus);
        }
        if (durationMs <= 0) {
            throw new IllegalArgumentException("job " + id + ": duration must be positive, got " + durationMs + " ms");
        }
        gpuModel = gpuModel == null ? "" : gpuModel;
    }

    /** GPU-milliseconds of work: its GPUs times its run time. */
    public double gpuMs() {
        return (double) gpus * durationMs;
    }
}
