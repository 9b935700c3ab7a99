package coop.agent;

import java.time.Duration;
import java.time.InstantSource;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The operator's health check: run on a thread of its own at start-up and then every period,
 * and before each launch. Every run's outcome goes to {@code report}, which tells the scheduler:
 * a failure drains the node with the script's first line as the reason, a pass lifts that drain.
 * Runs never overlap: a launch that comes while a run is under way waits for it and takes its
 * outcome.
 */
final class HealthCheck implements AutoCloseable {

    // The agent's parts all log as the agent: operators filter and read one category.
    private static final Logger log = LoggerFactory.getLogger(Agent.class);

    /**
     * How old an outcome a launch may take instead of running the check again. A gang or an array
     * puts several ranks on a node at once; one run covers the burst, rather than eight runs of
     * a script that may take seconds each (DCGM diagnostics do). Older than this, the node may
     * have changed, so the check runs again.
     */
    static final Duration REUSE = Duration.ofSeconds(5);

    private final OperatorScript script;
    private final Duration every;
    private final InstantSource clock;
    private final Consumer<OperatorScript.Outcome> report;
    private final ScheduledExecutorService timer;

    /** The latest outcome, read without waiting for a run under way (the agent's loop reads it). */
    private volatile OperatorScript.Outcome latest;
    /** When the latest run ended; guarded by {@code this}, as are the runs. */
    private long latestAtMs;

    /**
     * @param every how often the check runs on its own
     * @param report told every run's outcome, from the thread that ran it
     */
    HealthCheck(OperatorScript script, Duration every, InstantSource clock, Consumer<OperatorScript.Outcome> report) {
        this.script = script;
        this.every = every;
        this.clock = clock;
        this.report = report;
        this.timer = Executors.newSingleThreadScheduledExecutor(task -> {
            Thread thread = new Thread(task, "coop-agent-health");
            thread.setDaemon(true);
            return thread;
        });
    }

    /** Runs the check now and then every period, each run after the last has ended. */
    void start() {
        timer.scheduleWithFixedDelay(() -> {
            try {
                run();
            } catch (RuntimeException e) {
                // One bad run must not end the periodic checks.
                log.error("health check failed to run", e);
            }
        }, 0, every.toMillis(), TimeUnit.MILLISECONDS);
    }

    /** The outcome a launch goes by: one at most {@link #REUSE} old, else a fresh run. */
    synchronized OperatorScript.Outcome beforeLaunch() {
        if (latest != null && clock.millis() - latestAtMs <= REUSE.toMillis()) {
            return latest;
        }
        return run();
    }

    /** The latest outcome, if the check has run; never waits for a run under way. */
    Optional<OperatorScript.Outcome> latest() {
        return Optional.ofNullable(latest);
    }

    /** Runs the check, remembers and reports the outcome. */
    synchronized OperatorScript.Outcome run() {
        OperatorScript.Outcome outcome = script.run(Map.of());
        boolean changed = latest == null || latest.passed() != outcome.passed();
        latestAtMs = clock.millis();
        latest = outcome;
        if (!outcome.passed()) {
            log.warn("health check failed: {}", outcome.reason());
        } else if (changed) {
            log.info("health check passed");
        }
        report.accept(outcome);
        return outcome;
    }

    @Override
    public void close() {
        timer.shutdownNow();
    }
}
