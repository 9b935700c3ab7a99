package coop.agent;

import java.io.IOException;
import java.nio.file.Path;
import java.time.InstantSource;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Collectors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What the node does around each attempt on its operator's behalf ({@link NodeHooks}): before a
 * rank starts, the health check (a recent outcome reused) and the prolog; while it runs, its
 * GPUs in the {@link GpuJobMap}; after it ends, the epilog. A failed check or prolog refuses the
 * rank, which the scheduler then requeues elsewhere; a failed check, prolog or epilog also
 * drains the node through {@code report}, as Slurm drains a node whose prolog or epilog fails.
 * Scripts run on the caller's thread (a spawner's), never on the agent's loop.
 */
final class AttemptHooks implements AutoCloseable {

    // The agent's parts all log as the agent: operators filter and read one category.
    private static final Logger log = LoggerFactory.getLogger(Agent.class);

    /** Tells the scheduler what the node found of its own health; called from any thread. */
    interface HealthReport {
        void health(boolean healthy, String reason);
    }

    private final HealthCheck check;
    private final OperatorScript prolog;
    private final OperatorScript epilog;
    private final GpuJobMap gpuJobMap;
    private final HealthReport report;

    /**
     * @param workDir the agent's work directory; scripts keep their output under it while they run
     * @param report tells the scheduler of each health check's outcome and each failed prolog or epilog
     */
    AttemptHooks(NodeHooks hooks, Path workDir, InstantSource clock, HealthReport report) {
        Path scratch = workDir.resolve("scripts");
        this.report = report;
        this.check = hooks.healthCheck() == null ? null
                : new HealthCheck(new OperatorScript(hooks.healthCheck(), hooks.timeout(), scratch),
                        hooks.healthEvery(), clock, o -> report.health(o.passed(), o.reason()));
        this.prolog = hooks.prolog() == null ? null : new OperatorScript(hooks.prolog(), hooks.timeout(), scratch);
        this.epilog = hooks.epilog() == null ? null : new OperatorScript(hooks.epilog(), hooks.timeout(), scratch);
        this.gpuJobMap = hooks.gpuJobMap() == null ? null : new GpuJobMap(hooks.gpuJobMap());
    }

    /**
     * Once the ranks of an earlier agent are stopped: empties the mapping folder of what it left
     * and starts the periodic health check (its first run at once).
     */
    void start() {
        if (gpuJobMap != null) {
            try {
                gpuJobMap.clear();
            } catch (IOException e) {
                log.warn("cannot clear the GPU job map folder: {}", e.toString());
            }
        }
        if (check != null) {
            check.start();
        }
    }

    /**
     * Runs the health check (or takes a recent outcome) and the prolog before a rank starts.
     *
     * @param dir the rank's folder, for {@code COOP_JOB_DIR}; the launcher creates it afterwards
     * @param user the user the rank runs as, for {@code COOP_JOB_USER}
     * @return why the node refuses the rank; empty if it may start
     */
    Optional<String> beforeStart(LaunchOrder order, Path dir, String user) {
        if (check != null) {
            OperatorScript.Outcome health = check.beforeLaunch();
            if (!health.passed()) {
                return Optional.of("health check failed: " + health.reason());
            }
        }
        if (prolog != null) {
            OperatorScript.Outcome outcome = prolog.run(environment(order, dir, user));
            if (!outcome.passed()) {
                String why = "prolog failed: " + outcome.reason();
                log.warn("{} not started: {}", order.rank(), why);
                report.health(false, why);
                return Optional.of(why);
            }
        }
        return Optional.empty();
    }

    /** The rank's process runs: its GPUs are its job's in the mapping folder. Quick; safe on the loop. */
    void started(LaunchOrder order) {
        if (gpuJobMap != null) {
            gpuJobMap.add(order.rank().jobId(), order.gpuIndices());
        }
    }

    /** The rank's process has ended: its GPUs leave the mapping folder. Quick; safe on the loop. */
    void ended(LaunchOrder order) {
        if (gpuJobMap != null) {
            gpuJobMap.remove(order.rank().jobId(), order.gpuIndices());
        }
    }

    /** Whether an epilog runs after each rank, so the rank's end waits for it. */
    boolean hasEpilog() {
        return epilog != null;
    }

    /** Runs the epilog after a rank ended; a failure is logged and drains the node. */
    void epilog(LaunchOrder order, Path dir, String user) {
        if (epilog == null) {
            return;
        }
        OperatorScript.Outcome outcome = epilog.run(environment(order, dir, user));
        if (!outcome.passed()) {
            String why = "epilog failed: " + outcome.reason();
            log.warn("after {}: {}", order.rank(), why);
            report.health(false, why);
        }
    }

    /** The health check's latest outcome, for a new session to start with; empty without a check or before its first run. */
    Optional<OperatorScript.Outcome> latestHealth() {
        return check == null ? Optional.empty() : check.latest();
    }

    /** What the prolog and epilog see of the attempt, besides the agent's own environment. */
    static Map<String, String> environment(LaunchOrder order, Path dir, String user) {
        Map<String, String> env = new HashMap<>();
        env.put("COOP_JOB_ID", Long.toString(order.rank().jobId()));
        env.put("COOP_ATTEMPT", Integer.toString(order.rank().attempt()));
        env.put("COOP_RANK", Integer.toString(order.rank().rank()));
        env.put("COOP_JOB_USER", user);
        env.put("COOP_GPUS", order.gpuIndices().stream().map(String::valueOf).collect(Collectors.joining(",")));
        env.put("COOP_JOB_DIR", dir.toAbsolutePath().toString());
        return env;
    }

    @Override
    public void close() {
        if (check != null) {
            check.close();
        }
    }
}
