package coop.scheduler.domain;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Instant;
import org.junit.jupiter.api.Test;

/** Wait times as a member reads them: the clock time, and how long from the moment of reading. */
class WaitTimeTest {
    private static final long NOW = Instant.parse("2026-03-02T13:47:10Z").toEpochMilli();

    @Test
    void aStartIsTheClockTimeAndWhatIsLeftCountingDown() {
        long start = Instant.parse("2026-03-02T14:05:00Z").toEpochMilli();
        assertThat(WaitTime.from(start, NOW)).isEqualTo("from 14:05 UTC, in 18 min");
        assertThat(WaitTime.from(start, start - 150_000)).isEqualTo("from 14:05 UTC, in 3 min");
        assertThat(WaitTime.from(start, start - 42_000)).isEqualTo("from 14:05 UTC, in 42 s");
        assertThat(WaitTime.from(start, start)).isEqualTo("from 14:05 UTC, due now");
        assertThat(WaitTime.from(start, start + 5_000)).isEqualTo("from 14:05 UTC, due now");
    }

    @Test
    void aStartADayOrMoreAwayNamesItsDate() {
        long start = NOW + 86_400_000L + 3_600_000L;
        assertThat(WaitTime.from(start, NOW)).isEqualTo("from 2026-03-03 14:47 UTC, in 1 day 1 h");
    }

    @Test
    void durationsAreRoundedToWhatAReaderNeedsWithSingularsRight() {
        assertThat(WaitTime.duration(999)).isEqualTo("1 s");
        assertThat(WaitTime.duration(59_000)).isEqualTo("59 s");
        assertThat(WaitTime.duration(60_000)).isEqualTo("1 min");
        assertThat(WaitTime.duration(3_599_000)).isEqualTo("1 h");
        assertThat(WaitTime.duration(4_800_000)).isEqualTo("1 h 20 min");
        assertThat(WaitTime.duration(86_399_000)).isEqualTo("1 day");
        assertThat(WaitTime.duration(2 * 86_400_000L + 3 * 3_600_000L)).isEqualTo("2 days 3 h");
    }

    @Test
    void countsAreSingularForOneOnly() {
        assertThat(Plural.of(0, "GPU")).isEqualTo("0 GPUs");
        assertThat(Plural.of(1, "GPU")).isEqualTo("1 GPU");
        assertThat(Plural.of(2, "node")).isEqualTo("2 nodes");
    }
}
