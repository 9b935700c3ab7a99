package coop.bench.demo;

import coop.cli.Client;
import coop.v1.UsageResponse;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;

/**
 * Records a {@link Sample} of the scheduler's usage at a fixed interval on one daemon thread,
 * for the demo's utilization-over-time chart. One Usage call per interval keeps it cheap. A
 * failed call (the scheduler busy or going away) loses that sample only: the schedule goes on,
 * since a periodic task that throws is never run again. {@link #close} stops the schedule and
 * waits for a call in flight, so no sample is recorded after it returns.
 */
public final class Sampler implements AutoCloseable {
    private final Supplier<UsageResponse> usage;
    private final ScheduledExecutorService timer;
    private final List<Sample> samples = new CopyOnWriteArrayList<>();
    private final AtomicInteger failures = new AtomicInteger();

    private Sampler(Supplier<UsageResponse> usage) {
        this.usage = usage;
        this.timer = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "coop-demo-sampler");
            t.setDaemon(true);
            return t;
        });
    }

    /** Starts sampling now and then every {@code every}. */
    public static Sampler start(Supplier<UsageResponse> usage, Duration every) {
        Sampler s = new Sampler(usage);
        s.timer.scheduleWithFixedDelay(s::sample, 0, every.toMillis(), TimeUnit.MILLISECONDS);
        return s;
    }

    private void sample() {
        try {
            samples.add(Sample.of(usage.get()));
        } catch (RuntimeException e) {
            failures.incrementAndGet();
        }
    }

    /** The samples so far, oldest first. */
    public List<Sample> samples() {
        return List.copyOf(samples);
    }

    /** Calls that failed and left no sample. */
    public int failures() {
        return failures.get();
    }

    @Override
    public void close() {
        timer.shutdown();
        try {
            // A call in flight ends within its deadline; waiting for it keeps the samples final.
            if (!timer.awaitTermination(Client.CALL_DEADLINE.toMillis(), TimeUnit.MILLISECONDS)) {
                timer.shutdownNow();
            }
        } catch (InterruptedException e) {
            timer.shutdownNow();
            Thread.currentThread().interrupt();
        }
    }
}
