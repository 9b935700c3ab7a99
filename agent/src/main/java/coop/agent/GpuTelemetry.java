package coop.agent;

import java.util.List;

/**
 * Where the agent's heartbeats take per-GPU usage from. {@link #latest()} is called on the
 * agent's event loop at every heartbeat, so it must answer at once from what was sampled
 * before; sampling itself happens elsewhere, on the source's own schedule, so that a slow or
 * hung driver can never delay a heartbeat and get a healthy node declared lost.
 */
public interface GpuTelemetry extends AutoCloseable {

    /** Simulated GPUs: no usage at all, rather than invented numbers. */
    GpuTelemetry NONE = new GpuTelemetry() {
        @Override
        public void start() {
        }

        @Override
        public List<GpuUsage> latest() {
            return List.of();
        }

        @Override
        public void close() {
        }
    };

    /** Begins sampling in the background; returns at once. */
    void start();

    /** The latest sample, or an empty list when there is none (not yet, or sampling fails). Never blocks. */
    List<GpuUsage> latest();

    /** Stops sampling. */
    @Override
    void close();
}
