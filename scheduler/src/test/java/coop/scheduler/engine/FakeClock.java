package coop.scheduler.engine;

import java.time.Instant;
import java.time.InstantSource;
import java.util.concurrent.atomic.AtomicLong;

/** A clock tests move by hand. */
final class FakeClock implements InstantSource {
    private final AtomicLong millis = new AtomicLong(1_700_000_000_000L);

    @Override
    public Instant instant() {
        return Instant.ofEpochMilli(millis.get());
    }

    @Override
    public long millis() {
        return millis.get();
    }

    void advanceSeconds(long s) {
        millis.addAndGet(s * 1000);
    }

    void advanceMillis(long ms) {
        millis.addAndGet(ms);
    }
}
