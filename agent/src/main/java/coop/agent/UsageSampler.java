package coop.agent;

import java.time.Duration;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * GPU usage for {@code --gpus auto}: runs {@code nvidia-smi --query-gpu=index,utilization.gpu,
 * memory.used} on its own thread every period, each run cut off after a timeout, and keeps the
 * latest result for heartbeats to pick up. A run that fails or times out clears the sample, so
 * heartbeats carry no usage rather than numbers that have stopped being true; the failure is
 * logged once per outage, not once per run. Only the GPUs the agent offers are reported: one
 * left out at discovery as failing stays out even if the driver later prints a line for it.
 */
public final class UsageSampler implements GpuTelemetry {

    private static final Logger log = LoggerFactory.getLogger(UsageSampler.class);

    /** Often enough for an operator watching coop nodes; rare enough to cost the driver nothing. */
    public static final Duration DEFAULT_PERIOD = Duration.ofSeconds(5);
    /** A healthy nvidia-smi answers this query in well under a second. */
    public static final Duration DEFAULT_TIMEOUT = Duration.ofSeconds(4);

    private final NvidiaSmi nvidiaSmi;
    private final Set<Integer> offered;
    private final Duration period;
    private final Duration timeout;
    private final ScheduledExecutorService thread;
    private volatile List<GpuUsage> latest = List.of();
    // Touched only on the sampling thread.
    private boolean failing;

    /**
     * @param nvidiaSmi the command to sample with
     * @param offered the GPUs the agent offers; usage of any other index is dropped
     * @param period time between the end of one run and the start of the next
     * @param timeout longest a run may take before it is killed and counted as failed
     */
    public UsageSampler(NvidiaSmi nvidiaSmi, List<GpuDevice> offered, Duration period, Duration timeout) {
        this.nvidiaSmi = Objects.requireNonNull(nvidiaSmi, "nvidiaSmi");
        this.offered = offered.stream().map(GpuDevice::index).collect(java.util.stream.Collectors.toUnmodifiableSet());
        this.period = requirePositive(period, "period");
        this.timeout = requirePositive(timeout, "timeout");
        this.thread = Executors.newSingleThreadScheduledExecutor(task -> {
            Thread t = new Thread(task, "coop-gpu-usage");
            t.setDaemon(true);
            return t;
        });
    }

    @Override
    public void start() {
        thread.scheduleWithFixedDelay(this::sample, 0, period.toMillis(), TimeUnit.MILLISECONDS);
    }

    @Override
    public List<GpuUsage> latest() {
        return latest;
    }

    @Override
    public void close() {
        // Interrupts a run in progress, which kills its nvidia-smi.
        thread.shutdownNow();
    }

    private void sample() {
        try {
            latest = nvidiaSmi.sampleUsage(timeout).stream().filter(u -> offered.contains(u.index())).toList();
            if (failing) {
                failing = false;
                log.info("GPU usage sampling works again; heartbeats carry it");
            }
        } catch (RuntimeException e) {
            latest = List.of();
            if (!failing) {
                failing = true;
                log.warn("cannot sample GPU usage ({}); heartbeats carry none until it works again",
                        e.getMessage());
            } else {
                log.debug("GPU usage sampling still failing: {}", e.getMessage());
            }
        }
    }

    private static Duration requirePositive(Duration d, String what) {
        if (d == null || d.isNegative() || d.isZero()) {
            throw new IllegalArgumentException(what + " must be positive, got " + d);
        }
        return d;
    }
}
