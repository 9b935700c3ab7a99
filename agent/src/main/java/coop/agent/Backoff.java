package coop.agent;

import java.time.Duration;
import java.util.Objects;
import java.util.random.RandomGenerator;

/**
 * Capped exponential backoff with jitter for reconnecting to the scheduler. Each delay is drawn
 * between half and all of {@code min(cap, initial * 2^n)} ("equal jitter"): the half keeps a
 * failing agent from retrying in a tight loop, the random half spreads a site's agents apart
 * when they all lose the scheduler at the same moment, as they do when it restarts.
 */
final class Backoff {

    private final long initialMillis;
    private final long capMillis;
    private final RandomGenerator random;
    private int failures;

    Backoff(Duration initial, Duration cap, RandomGenerator random) {
        this.initialMillis = initial.toMillis();
        this.capMillis = cap.toMillis();
        this.random = Objects.requireNonNull(random, "random");
        if (initialMillis < 1 || capMillis < initialMillis) {
            throw new IllegalArgumentException("need 0 < initial <= cap, got " + initial + ", " + cap);
        }
    }

    /** The delay before the next try; each call without a {@link #reset()} doubles the ceiling. */
    Duration next() {
        long ceiling = capMillis;
        // Stop doubling once past the cap, which also keeps the shift from overflowing.
        if (failures < 31 && (initialMillis << failures) < capMillis) {
            ceiling = initialMillis << failures;
        }
        failures++;
        long half = ceiling / 2;
        return Duration.ofMillis(half + random.nextLong(ceiling - half + 1));
    }

    /** Starts over from the initial delay, after a session was established. */
    void reset() {
        failures = 0;
    }
}
