package coop.scheduler.domain;

import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.Locale;

/**
 * When something is expected, said as a member reads a timetable: the wall-clock time (UTC) and
 * how long from now, "from 14:05 UTC, in 3 min". It is made when shown, from the time as data,
 * so that each reading counts down rather than repeating what a cycle wrote minutes ago.
 */
public final class WaitTime {
    private static final DateTimeFormatter CLOCK = DateTimeFormatter.ofPattern("HH:mm", Locale.ROOT)
            .withZone(ZoneOffset.UTC);
    private static final DateTimeFormatter DAY_AND_CLOCK = DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm",
            Locale.ROOT).withZone(ZoneOffset.UTC);
    private static final long DAY_MS = 86_400_000L;

    private WaitTime() {
    }

    /**
     * "from 14:05 UTC, in 3 min"; with the date when it is a day or more away; "due now" once
     * {@code startMs} has passed (the next cycle starts it, or says what changed).
     */
    public static String from(long startMs, long nowMs) {
        long left = startMs - nowMs;
        String at = (left >= DAY_MS ? DAY_AND_CLOCK : CLOCK).format(Instant.ofEpochMilli(startMs)) + " UTC";
        return "from " + at + ", " + (left <= 0 ? "due now" : "in " + duration(left));
    }

    /**
     * A duration rounded to what a reader needs: seconds under a minute, minutes under an hour,
     * hours and minutes under a day, then days and hours ("45 s", "3 min", "1 h 20 min", "2 days 3 h").
     */
    public static String duration(long ms) {
        long s = Math.max(0, (ms + 999) / 1000);
        if (s < 60) {
            return s + " s";
        }
        long min = (s + 59) / 60;
        if (min < 60) {
            return min + " min";
        }
        long h = min / 60;
        long m = min % 60;
        if (h < 24) {
            return h + " h" + (m == 0 ? "" : " " + m + " min");
        }
        long d = h / 24;
        long rh = h % 24;
        return Plural.of(d, "day") + (rh == 0 ? "" : " " + rh + " h");
    }
}
