package coop.cli;

import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.time.temporal.ChronoUnit;

/**
 * How the CLI shows wire times (epoch milliseconds, 0 meaning "not set") to people:
 * always in UTC, as {@code HH:mm:ss} when the time falls on today's UTC date and as
 * {@code yyyy-MM-dd HH:mm:ss} otherwise, or as ISO-8601 instants in detail views.
 */
final class Times {

    private static final DateTimeFormatter CLOCK = DateTimeFormatter.ofPattern("HH:mm:ss").withZone(ZoneOffset.UTC);
    private static final DateTimeFormatter DAY_CLOCK =
            DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm:ss").withZone(ZoneOffset.UTC);

    private Times() {
    }

    /** {@code HH:mm:ss} on today's UTC date, else {@code yyyy-MM-dd HH:mm:ss}; {@code -} for 0. */
    static String brief(long epochMs, Instant now) {
        if (epochMs == 0) {
            return "-";
        }
        Instant at = Instant.ofEpochMilli(epochMs);
        boolean today = at.atZone(ZoneOffset.UTC).toLocalDate().equals(now.atZone(ZoneOffset.UTC).toLocalDate());
        return (today ? CLOCK : DAY_CLOCK).format(at);
    }

    /** ISO-8601 to the second, e.g. {@code 2025-03-01T14:05:00Z}; {@code -} for 0. */
    static String iso(long epochMs) {
        return epochMs == 0 ? "-" : Instant.ofEpochMilli(epochMs).truncatedTo(ChronoUnit.SECONDS).toString();
    }

    /** A time as the clock on the wall of {@code zone} shows it, e.g. {@code Wed 2026-12-02 08:00 Europe/Berlin}. */
    static String local(long epochMs, String zone) {
        java.time.ZoneId z;
        try {
            z = java.time.ZoneId.of(zone);
        } catch (java.time.DateTimeException e) {
            z = ZoneOffset.UTC;
        }
        return DateTimeFormatter.ofPattern("EEE yyyy-MM-dd HH:mm", java.util.Locale.ROOT)
                .format(Instant.ofEpochMilli(epochMs).atZone(z)) + " " + z.getId();
    }
}
