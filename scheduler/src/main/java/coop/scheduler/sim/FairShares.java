package coop.scheduler.sim;

import java.util.Map;

/**
 * What the ideal scheduler gives each account in a window: GPU-seconds per account, their
 * sum, and the capacity. {@link #percent} is an account's fair target: its share of the busy
 * GPU-seconds.
 */
public record FairShares(Map<String, Double> gpuSeconds, double busyGpuSeconds, int capacity, Window window) {
    public FairShares {
        gpuSeconds = Map.copyOf(gpuSeconds);
    }

    public double percent(String account) {
        return busyGpuSeconds <= 0 ? 0 : 100.0 * gpuSeconds.getOrDefault(account, 0.0) / busyGpuSeconds;
    }

    /** The ideal's utilization over the window: busy GPU-seconds over capacity × window. */
    public double utilization() {
        double capacitySeconds = capacity * (window.lengthMs() / 1000.0);
        return capacitySeconds <= 0 ? 0 : busyGpuSeconds / capacitySeconds;
    }
}
