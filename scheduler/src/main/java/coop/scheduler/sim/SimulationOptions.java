package coop.scheduler.sim;

import coop.scheduler.allocation.PreemptionRules;
import coop.scheduler.domain.Params;
import java.time.Duration;

/**
 * How a replay runs. {@code walltimeFactor} × a job's remaining run time is the walltime it
 * declares (the trace has none; backfill relies on it). Usage decays with {@code halfLife}; a
 * preempted attempt keeps its GPUs for {@code grace}. The replay stops when every job has
 * finished or at {@code untilMs} of trace time; {@code window} is where shares and
 * utilization are measured (null: the trace's first to last submit), cut at {@code untilMs}.
 * {@code minRun} and {@code reserveWait} are the policy's preemption bounds
 * ({@code min_run_before_preempt_s}, {@code reserve_wait_s}; founding defaults unless set).
 */
public record SimulationOptions(double walltimeFactor, Duration halfLife, Duration grace, long untilMs, Window window,
                                Checkpointing checkpoint, Duration minRun, Duration reserveWait) {
    public static final Duration DEFAULT_HALF_LIFE = Duration.ofDays(7);
    public static final Duration DEFAULT_GRACE = Duration.ofSeconds(60);
    public static final Duration DEFAULT_MIN_RUN = Duration.ofSeconds(Params.DEFAULT_MIN_RUN_BEFORE_PREEMPT_S);
    public static final Duration DEFAULT_RESERVE_WAIT = Duration.ofSeconds(Params.DEFAULT_RESERVE_WAIT_S);

    public SimulationOptions {
        checkpoint = checkpoint == null ? Checkpointing.ON_SIGNAL : checkpoint;
        minRun = minRun == null ? DEFAULT_MIN_RUN : minRun;
        reserveWait = reserveWait == null ? DEFAULT_RESERVE_WAIT : reserveWait;
        if (minRun.isNegative() || reserveWait.isNegative()) {
            throw new IllegalArgumentException("preemption bounds must not be negative, got " + minRun + " and "
                    + reserveWait);
        }
        if (!(walltimeFactor > 0) || Double.isInfinite(walltimeFactor)) {
            throw new IllegalArgumentException("walltime factor must be positive, got " + walltimeFactor);
        }
        if (halfLife.isZero() || halfLife.isNegative()) {
            throw new IllegalArgumentException("half-life must be positive, got " + halfLife);
        }
        if (grace.isNegative()) {
            throw new IllegalArgumentException("grace must not be negative, got " + grace);
        }
    }

    /** Options whose jobs save their work when the stop signal comes. */
    public SimulationOptions(double walltimeFactor, Duration halfLife, Duration grace, long untilMs, Window window) {
        this(walltimeFactor, halfLife, grace, untilMs, window, Checkpointing.ON_SIGNAL, null, null);
    }

    /** The policy's preemption rules as the allocator applies them. */
    public PreemptionRules rules() {
        return PreemptionRules.of(minRun.toSeconds(), reserveWait.toSeconds(), grace.toSeconds());
    }

    public static SimulationOptions defaults() {
        return new SimulationOptions(1.0, DEFAULT_HALF_LIFE, DEFAULT_GRACE, Long.MAX_VALUE, null);
    }

    public SimulationOptions withWalltimeFactor(double factor) {
        return new SimulationOptions(factor, halfLife, grace, untilMs, window, checkpoint, minRun, reserveWait);
    }

    public SimulationOptions withHalfLife(Duration d) {
        return new SimulationOptions(walltimeFactor, d, grace, untilMs, window, checkpoint, minRun, reserveWait);
    }

    public SimulationOptions withGrace(Duration d) {
        return new SimulationOptions(walltimeFactor, halfLife, d, untilMs, window, checkpoint, minRun, reserveWait);
    }

    public SimulationOptions withUntilMs(long until) {
        return new SimulationOptions(walltimeFactor, halfLife, grace, until, window, checkpoint, minRun, reserveWait);
    }

    public SimulationOptions withWindow(Window w) {
        return new SimulationOptions(walltimeFactor, halfLife, grace, untilMs, w, checkpoint, minRun, reserveWait);
    }

    public SimulationOptions withCheckpoint(Checkpointing c) {
        return new SimulationOptions(walltimeFactor, halfLife, grace, untilMs, window, c, minRun, reserveWait);
    }

    /** The minimum run before preemption, and the reserve wait. */
    public SimulationOptions withPreemptionBounds(Duration minRunBefore, Duration reserveWaitFor) {
        return new SimulationOptions(walltimeFactor, halfLife, grace, untilMs, window, checkpoint, minRunBefore,
                reserveWaitFor);
    }
}
