package coop.agent;

import java.time.Duration;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The one thread an agent's state lives on. gRPC callbacks, process exits and timers are handed
 * to it, so the agent's parts share their maps without locks and every message on the stream is
 * sent from this one thread, which is what a {@code StreamObserver} requires.
 */
final class EventLoop {

    // The agent's parts all log as the agent: operators filter and read one category.
    private static final Logger log = LoggerFactory.getLogger(Agent.class);

    private final ScheduledExecutorService executor;

    EventLoop(String node) {
        this.executor = Executors.newSingleThreadScheduledExecutor(task -> {
            Thread thread = new Thread(task, "coop-agent-" + node);
            // The CLI blocks its main thread until close(); a forgotten agent must not pin a JVM.
            thread.setDaemon(true);
            return thread;
        });
    }

    /** Runs {@code task} on the loop later; dropped if the loop is gone. */
    void execute(Runnable task) {
        try {
            executor.execute(() -> {
                try {
                    task.run();
                } catch (RuntimeException e) {
                    // One bad message must not kill the loop thread and with it every rank's bookkeeping.
                    log.error("agent event failed", e);
                }
            });
        } catch (RejectedExecutionException e) {
            log.debug("agent closed; event dropped");
        }
    }

    /** Runs on the loop and waits; null if the loop is gone. */
    <T> T call(Callable<T> task) {
        try {
            return executor.submit(task).get(10, TimeUnit.SECONDS);
        } catch (RejectedExecutionException | TimeoutException e) {
            return null;
        } catch (ExecutionException e) {
            log.error("agent shutdown step failed", e.getCause());
            return null;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return null;
        }
    }

    /** @throws RejectedExecutionException once the loop is shut down */
    ScheduledFuture<?> schedule(Runnable task, long delay, TimeUnit unit) {
        return executor.schedule(task, delay, unit);
    }

    ScheduledFuture<?> scheduleAtFixedRate(Runnable task, long period, TimeUnit unit) {
        return executor.scheduleAtFixedRate(task, period, period, unit);
    }

    /** Stops the thread, dropping queued events, and waits up to {@code timeout} for it to end. */
    void shutdown(Duration timeout) {
        executor.shutdownNow();
        try {
            executor.awaitTermination(timeout.toMillis(), TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
