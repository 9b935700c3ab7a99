package coop.scheduler.sim;

import java.time.Duration;

/**
 * How the jobs of a replay save their work, and so what a preemption costs them
 * ({@code coop simulate --checkpoint}): {@code none} loses all of an attempt's work, {@code
 * on-signal} saves when the stop signal comes and exits at the end of the grace, keeping all it
 * ran (the simulator's model before it counted lost work), {@code every:30m} saves at each whole
 * period of the attempt's run time and loses what ran since.
 */
public record Checkpointing(String mode, Duration every) {

    public static final Checkpointing NONE = new Checkpointing("none", Duration.ZERO);
    public static final Checkpointing ON_SIGNAL = new Checkpointing("on-signal", Duration.ZERO);

    public Checkpointing {
        if (mode.equals("every") && (every.isZero() || every.isNegative())) {
            throw new IllegalArgumentException("--checkpoint every:DURATION needs a positive duration");
        }
    }

    /**
     * {@code none}, {@code on-signal} or {@code every:DURATION} (such as {@code every:30m}).
     *
     * @throws IllegalArgumentException naming {@code --checkpoint} for anything else
     */
    public static Checkpointing parse(String text, java.util.function.Function<String, Duration> durations) {
        if (text.equals(NONE.mode)) {
            return NONE;
        }
        if (text.equals(ON_SIGNAL.mode)) {
            return ON_SIGNAL;
        }
        if (text.startsWith("every:")) {
            return new Checkpointing("every", durations.apply(text.substring("every:".length())));
        }
        throw new IllegalArgumentException("--checkpoint: '" + text + "' is not none, on-signal or every:DURATION "
                + "(such as every:30m)");
    }

    /**
     * The work an attempt keeps when it is stopped after running {@code workedMs}.
     */
    long savedMs(long workedMs) {
        return switch (mode) {
            case "none" -> 0;
            case "on-signal" -> workedMs;
            default -> workedMs / every.toMillis() * every.toMillis();
        };
    }

    /**
     * When an attempt started at {@code startedAt} last saved its work, as of {@code now}: what a
     * preemption then would lose is the work since. A job that saves on the signal loses nothing.
     */
    public long savedAt(long startedAt, long now) {
        return switch (mode) {
            case "none" -> startedAt;
            case "on-signal" -> now;
            default -> startedAt + savedMs(now - startedAt);
        };
    }

    @Override
    public String toString() {
        return mode.equals("every") ? "every:" + every.toSeconds() + "s" : mode;
    }
}
