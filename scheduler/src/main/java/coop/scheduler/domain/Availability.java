package coop.scheduler.domain;

import java.time.DateTimeException;
import java.time.DayOfWeek;
import java.time.Instant;
import java.time.LocalDate;
import java.time.LocalTime;
import java.time.ZoneId;
import java.time.ZonedDateTime;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.EnumSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * When an operator offers its node to the cooperative: weekly windows in the node's own time
 * zone, such as {@code Mon-Fri 20:00-08:00} (nights on weekdays; a window whose end is not after
 * its start ends the next day) or {@code Sat,Sun} (whole days). No windows means always offered.
 *
 * <p>Windows are read in the zone's wall-clock time, so "20:00" stays 20:00 across daylight-saving
 * changes; a start that falls in a spring-forward gap opens at the first valid instant after it.
 * Windows that touch or overlap merge, so "Mon-Sun" is never closed and a job may run across
 * midnight from one window into the next.
 */
public final class Availability {

    /** Always offered. */
    public static final Availability ALWAYS = new Availability(List.of(), ZoneId.of("UTC"));

    /** Most windows one node may list. */
    public static final int MAX_WINDOWS = 14;

    private static final Pattern SPEC = Pattern.compile(
            "(?<days>[A-Za-z]+(?:-[A-Za-z]+)?(?:,[A-Za-z]+(?:-[A-Za-z]+)?)*)"
                    + "(?:\\s+(?<from>\\d{1,2}:\\d{2})-(?<to>\\d{1,2}:\\d{2}))?");
    private static final String RULE = "must be DAYS [HH:MM-HH:MM], DAYS as daily, Mon, Mon-Fri or Sat,Sun"
            + " (for example \"Mon-Fri 20:00-08:00\")";
    /** How far ahead to look for the end of an open stretch; a week of windows repeats after that. */
    private static final int HORIZON_DAYS = 15;

    /** One weekly window: the days it opens on, and its clock times (end ≤ start: ends the next day). */
    private record Window(Set<DayOfWeek> days, LocalTime from, LocalTime to, boolean toMidnight) {
    }

    /** An open stretch in absolute time, [from, to). */
    private record Span(long from, long to) {
    }

    private final List<String> windows;
    private final List<Window> parsed;
    private final ZoneId zone;

    private Availability(List<Window> parsed, ZoneId zone) {
        this.parsed = List.copyOf(parsed);
        this.windows = this.parsed.stream().map(Availability::format).toList();
        this.zone = zone;
    }

    /** The windows in canonical form, for example {@code Mon-Fri 20:00-08:00}. */
    public List<String> windows() {
        return windows;
    }

    public ZoneId zone() {
        return zone;
    }

    /**
     * Parses and normalises windows as an operator types them.
     *
     * @throws CoopException INVALID_ARGUMENT naming {@code window} or {@code time_zone} and the rule
     */
    public static Availability parse(List<String> specs, String zoneId) {
        ZoneId zone;
        try {
            zone = zoneId == null || zoneId.isBlank() ? ZoneId.of("UTC") : ZoneId.of(zoneId.strip());
        } catch (DateTimeException e) {
            throw CoopException.invalid("time_zone", "'" + zoneId + "' is not a time zone (use a name such as "
                    + "Europe/Berlin or America/New_York, or UTC)");
        }
        if (specs.size() > MAX_WINDOWS) {
            throw CoopException.invalid("window", "at most " + MAX_WINDOWS + " windows per node, got " + specs.size());
        }
        List<Window> parsed = new ArrayList<>();
        for (String spec : specs) {
            parsed.add(window(spec));
        }
        return new Availability(parsed, zone);
    }

    /** Whether there are no windows, so the node is offered at all times. */
    public boolean always() {
        return parsed.isEmpty();
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Availability a && a.windows.equals(windows) && a.zone.equals(zone);
    }

    @Override
    public int hashCode() {
        return windows.hashCode() * 31 + zone.hashCode();
    }

    @Override
    public String toString() {
        return always() ? "always" : String.join("; ", windows) + " (" + zone + ")";
    }

    /** Whether the node is offered at {@code nowMs}. */
    public boolean openAt(long nowMs) {
        return always() || current(nowMs) != null;
    }

    /**
     * When the open stretch around {@code nowMs} closes: {@code Long.MAX_VALUE} when it never does,
     * {@code nowMs} when the node is not offered now.
     */
    public long closesAt(long nowMs) {
        if (always()) {
            return Long.MAX_VALUE;
        }
        Span s = current(nowMs);
        return s == null ? nowMs : s.to;
    }

    /** The next instant after {@code nowMs} at which the node opens or closes; {@code Long.MAX_VALUE}: never. */
    public long nextChange(long nowMs) {
        if (always()) {
            return Long.MAX_VALUE;
        }
        for (Span s : spans(nowMs)) {
            if (s.from > nowMs) {
                return s.from;
            }
            if (s.to > nowMs) {
                return s.to;
            }
        }
        return Long.MAX_VALUE;
    }

    private Span current(long nowMs) {
        for (Span s : spans(nowMs)) {
            if (s.from <= nowMs && nowMs < s.to) {
                return s;
            }
        }
        return null;
    }

    /**
     * The open stretches from the day before {@code nowMs} to the horizon, merged. A stretch that
     * reaches the horizon is open for good (the week's windows cover every hour), so it ends at
     * {@code Long.MAX_VALUE}.
     */
    private List<Span> spans(long nowMs) {
        LocalDate today = Instant.ofEpochMilli(nowMs).atZone(zone).toLocalDate();
        LocalDate first = today.minusDays(1);
        long horizon = first.plusDays(HORIZON_DAYS).atStartOfDay(zone).toInstant().toEpochMilli();
        List<Span> raw = new ArrayList<>();
        for (Window w : parsed) {
            for (int d = 0; d < HORIZON_DAYS; d++) {
                LocalDate day = first.plusDays(d);
                if (!w.days.contains(day.getDayOfWeek())) {
                    continue;
                }
                long from = ZonedDateTime.of(day, w.from, zone).toInstant().toEpochMilli();
                LocalDate endDay = w.toMidnight || !w.to.isAfter(w.from) ? day.plusDays(1) : day;
                LocalTime endTime = w.toMidnight ? LocalTime.MIDNIGHT : w.to;
                long to = ZonedDateTime.of(endDay, endTime, zone).toInstant().toEpochMilli();
                raw.add(new Span(from, Math.min(to, horizon)));
            }
        }
        raw.sort(Comparator.comparingLong(Span::from));
        List<Span> merged = new ArrayList<>();
        for (Span s : raw) {
            Span last = merged.isEmpty() ? null : merged.get(merged.size() - 1);
            if (last != null && s.from <= last.to) {
                merged.set(merged.size() - 1, new Span(last.from, Math.max(last.to, s.to)));
            } else {
                merged.add(s);
            }
        }
        if (!merged.isEmpty() && merged.get(merged.size() - 1).to >= horizon) {
            Span last = merged.remove(merged.size() - 1);
            merged.add(new Span(last.from, Long.MAX_VALUE));
        }
        return merged;
    }

    private static Window window(String spec) {
        String s = spec == null ? "" : spec.strip();
        Matcher m = SPEC.matcher(s);
        if (!m.matches()) {
            throw CoopException.invalid("window", "'" + spec + "' " + RULE);
        }
        Set<DayOfWeek> days = days(m.group("days"), spec);
        if (m.group("from") == null) {
            return new Window(days, LocalTime.MIDNIGHT, LocalTime.MIDNIGHT, true);
        }
        LocalTime from = time(m.group("from"), false, spec);
        boolean toMidnight = m.group("to").equals("24:00");
        LocalTime to = toMidnight ? LocalTime.MIDNIGHT : time(m.group("to"), true, spec);
        if (!toMidnight && to.equals(from)) {
            throw CoopException.invalid("window", "'" + spec + "' opens and closes at the same time; leave the "
                    + "times out for whole days");
        }
        return new Window(days, from, to, toMidnight);
    }

    private static Set<DayOfWeek> days(String text, String spec) {
        if (text.equalsIgnoreCase("daily")) {
            return EnumSet.allOf(DayOfWeek.class);
        }
        Set<DayOfWeek> days = EnumSet.noneOf(DayOfWeek.class);
        for (String part : text.split(",")) {
            String[] range = part.split("-");
            DayOfWeek a = day(range[0], spec);
            DayOfWeek b = range.length == 2 ? day(range[1], spec) : a;
            // A range wraps past Sunday: Fri-Mon is Fri, Sat, Sun, Mon.
            for (DayOfWeek d = a; ; d = d.plus(1)) {
                days.add(d);
                if (d == b) {
                    break;
                }
            }
        }
        return days;
    }

    private static DayOfWeek day(String name, String spec) {
        for (DayOfWeek d : DayOfWeek.values()) {
            if (d.name().substring(0, 3).equalsIgnoreCase(name)) {
                return d;
            }
        }
        throw CoopException.invalid("window", "'" + spec + "': '" + name + "' is not a day (Mon, Tue, Wed, Thu, "
                + "Fri, Sat, Sun, or daily)");
    }

    private static LocalTime time(String text, boolean end, String spec) {
        String[] hm = text.split(":");
        int h = Integer.parseInt(hm[0]);
        int min = Integer.parseInt(hm[1]);
        if (h > 23 || min > 59) {
            throw CoopException.invalid("window", "'" + spec + "': " + text + " is not a time of day (00:00 to 23:59"
                    + (end ? ", or 24:00 as an end" : "") + ")");
        }
        return LocalTime.of(h, min);
    }

    /** The canonical text of a window: days as short names, times as HH:MM. */
    private static String format(Window w) {
        StringBuilder days = new StringBuilder();
        if (w.days.size() == 7) {
            days.append("daily");
        } else {
            // Runs of consecutive days (Monday first) as ranges: Mon-Fri, Sat,Sun stays a list.
            List<DayOfWeek> list = new ArrayList<>(w.days);
            int i = 0;
            while (i < list.size()) {
                int j = i;
                while (j + 1 < list.size() && list.get(j + 1).getValue() == list.get(j).getValue() + 1) {
                    j++;
                }
                if (days.length() > 0) {
                    days.append(',');
                }
                days.append(shortName(list.get(i)));
                if (j - i >= 2) {
                    days.append('-').append(shortName(list.get(j)));
                } else if (j == i + 1) {
                    days.append(',').append(shortName(list.get(j)));
                }
                i = j + 1;
            }
        }
        if (w.toMidnight && w.from.equals(LocalTime.MIDNIGHT)) {
            return days.toString();
        }
        return days + " " + w.from + "-" + (w.toMidnight ? "24:00" : w.to.toString());
    }

    private static String shortName(DayOfWeek d) {
        String n = d.name();
        return n.charAt(0) + n.substring(1, 3).toLowerCase(Locale.ROOT);
    }
}
