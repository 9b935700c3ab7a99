package coop.scheduler.engine;

import java.time.Instant;
import java.time.InstantSource;
import java.util.concurrent.atomic.AtomicLong;

/** A clock tests move by hand. */
public final class FakeClock implements InstantSource {
    private final AtomicLong millis;

    /** Starts at 2023-11-14T22:13:20Z. */
    public FakeClock() {
        this(Instant.ofEpochMilli(1_700_000_000_000L));
    }

    /** Starts at {@code start}. */
    public FakeClock(Instant start) {
        millis = new AtomicLong(start.toEpochMilli());
    }

    @Override
    public Instant instant() {
        return Instant.ofEpochMilli(millis.get());
    }

    @Override
    public long millis() {
        return millis.get();
    }

    public void advanceSeconds(long s) {
        millis.addAndGet(s * 1000);
    }

    public void advanceMillis(long ms) {
        millis.addAndGet(ms);
    }
}
