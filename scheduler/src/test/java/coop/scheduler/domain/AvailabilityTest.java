package coop.scheduler.domain;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.ZoneId;
import java.time.ZonedDateTime;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class AvailabilityTest {
    private static final ZoneId BERLIN = ZoneId.of("Europe/Berlin");

    private static long at(String localDateTime, ZoneId zone) {
        return ZonedDateTime.of(java.time.LocalDateTime.parse(localDateTime), zone).toInstant().toEpochMilli();
    }

    @Test
    void weekdayNightsOpenInTheEveningAndCloseTheNextMorning() {
        Availability nights = Availability.parse(List.of("Mon-Fri 20:00-08:00"), "Europe/Berlin");
        // 2026-12-07 is a Monday.
        assertThat(nights.openAt(at("2026-12-07T19:59", BERLIN))).isFalse();
        assertThat(nights.openAt(at("2026-12-07T20:00", BERLIN))).isTrue();
        assertThat(nights.closesAt(at("2026-12-07T23:00", BERLIN))).isEqualTo(at("2026-12-08T08:00", BERLIN));
        assertThat(nights.openAt(at("2026-12-08T07:59", BERLIN))).isTrue();
        assertThat(nights.openAt(at("2026-12-08T08:00", BERLIN))).isFalse();
        // Friday night runs into Saturday morning; Saturday night is not offered.
        assertThat(nights.closesAt(at("2026-12-11T21:00", BERLIN))).isEqualTo(at("2026-12-12T08:00", BERLIN));
        assertThat(nights.openAt(at("2026-12-12T21:00", BERLIN))).isFalse();
        assertThat(nights.nextChange(at("2026-12-12T21:00", BERLIN))).isEqualTo(at("2026-12-14T20:00", BERLIN));
        // Monday 03:00 belongs to no window: Sunday night is not offered.
        assertThat(nights.openAt(at("2026-12-14T03:00", BERLIN))).isFalse();
    }

    @Test
    void theSameWindowsInAnotherZoneAreOtherInstants() {
        long utcNoon = at("2026-12-07T12:00", ZoneId.of("UTC"));
        Availability office = Availability.parse(List.of("Mon-Fri 09:00-17:00"), "Europe/Berlin");
        Availability officeNy = Availability.parse(List.of("Mon-Fri 09:00-17:00"), "America/New_York");
        assertThat(office.openAt(utcNoon)).isTrue();
        assertThat(officeNy.openAt(utcNoon)).isFalse();
        assertThat(officeNy.nextChange(utcNoon)).isEqualTo(at("2026-12-07T09:00", ZoneId.of("America/New_York")));
    }

    @Test
    void windowsKeepWallClockTimesAcrossDaylightSavingChanges() {
        Availability early = Availability.parse(List.of("daily 01:00-04:00"), "Europe/Berlin");
        // 2027-03-28: clocks go from 02:00 to 03:00, so that night's window lasts two hours.
        long opens = at("2027-03-28T01:00", BERLIN);
        assertThat(early.closesAt(opens) - opens).isEqualTo(2 * 3_600_000L);
        // 2026-10-25: clocks go from 03:00 back to 02:00, so it lasts four.
        long autumn = at("2026-10-25T01:00", BERLIN);
        assertThat(early.closesAt(autumn) - autumn).isEqualTo(4 * 3_600_000L);
    }

    @Test
    void touchingWindowsMergeAndAWholeWeekNeverCloses() {
        Availability weekend = Availability.parse(List.of("Fri 18:00-24:00", "Sat,Sun"), "UTC");
        assertThat(weekend.closesAt(at("2026-12-11T19:00", ZoneId.of("UTC"))))
                .isEqualTo(at("2026-12-14T00:00", ZoneId.of("UTC")));
        Availability always = Availability.parse(List.of("Mon-Fri", "Sat-Sun 00:00-24:00"), "UTC");
        long now = at("2026-12-09T10:00", ZoneId.of("UTC"));
        assertThat(always.openAt(now)).isTrue();
        assertThat(always.closesAt(now)).isEqualTo(Long.MAX_VALUE);
        assertThat(always.nextChange(now)).isEqualTo(Long.MAX_VALUE);
        assertThat(Availability.ALWAYS.openAt(now)).isTrue();
        assertThat(Availability.ALWAYS.closesAt(now)).isEqualTo(Long.MAX_VALUE);
    }

    @Test
    void windowsAreWrittenInOneCanonicalForm() {
        Availability a = Availability.parse(List.of("mon-fri 8:00-18:00", "SAT,sun", "Mon,Tue,Wed 20:00-02:00",
                "fri-mon", "Daily 22:00-24:00"), "UTC");
        assertThat(a.windows()).containsExactly("Mon-Fri 08:00-18:00", "Sat,Sun", "Mon-Wed 20:00-02:00",
                "Mon,Fri-Sun", "daily 22:00-24:00");
        assertThat(Availability.parse(a.windows(), "UTC")).isEqualTo(a);
    }

    @Test
    void badWindowsAreRefusedNamingTheFieldAndTheRule() {
        for (String bad : List.of("", "weekends", "Mon-Fri 8-18", "Mon-Fri 20:00-24:30", "Mon 25:00-02:00",
                "Mon 10:00-10:00", "Mon-Fri 08:00-", "Mo-Fr 08:00-18:00")) {
            assertThatThrownBy(() -> Availability.parse(List.of(bad), "UTC")).as(bad)
                    .isInstanceOfSatisfying(CoopException.class, e -> {
                        assertThat(e.kind()).isEqualTo(CoopException.Kind.INVALID_ARGUMENT);
                        assertThat(e.getMessage()).startsWith("window");
                    });
        }
        assertThatThrownBy(() -> Availability.parse(List.of("daily"), "Europe/Atlantis"))
                .isInstanceOfSatisfying(CoopException.class,
                        e -> assertThat(e.getMessage()).startsWith("time_zone").contains("Europe/Atlantis"));
        List<String> many = new ArrayList<>();
        for (int i = 0; i <= Availability.MAX_WINDOWS; i++) {
            many.add("Mon");
        }
        assertThatThrownBy(() -> Availability.parse(many, "UTC"))
                .isInstanceOfSatisfying(CoopException.class, e -> assertThat(e.getMessage()).startsWith("window")
                        .contains("at most " + Availability.MAX_WINDOWS));
    }

    /**
     * For random windows, zones and instants: the node stays as it is until
     * {@link Availability#nextChange} and is the other way at it; while open, that change is when it
     * closes.
     */
    @Test
    void nothingChangesBeforeTheNextChangeAndSomethingChangesAtIt() {
        SplittableRandom random = new SplittableRandom(20261201);
        List<String> days = List.of("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun", "Mon-Fri", "Sat,Sun", "Fri-Mon",
                "daily");
        List<String> zones = List.of("UTC", "Europe/Berlin", "America/New_York", "Australia/Lord_Howe",
                "Asia/Kolkata");
        for (int trial = 0; trial < 500; trial++) {
            List<String> windows = new ArrayList<>();
            for (int w = random.nextInt(1, 5); w > 0; w--) {
                String from = String.format("%02d:%02d", random.nextInt(24), 15 * random.nextInt(4));
                String to = String.format("%02d:%02d", random.nextInt(24), 15 * random.nextInt(4));
                String d = days.get(random.nextInt(days.size()));
                windows.add(random.nextInt(3) == 0 || from.equals(to) ? d : d + " " + from + "-" + to);
            }
            Availability a = Availability.parse(windows, zones.get(random.nextInt(zones.size())));
            // Late 2026 to 2028, across several daylight-saving changes.
            long now = random.nextLong(1_790_000_000_000L, 1_830_000_000_000L);
            String what = a + " at " + now;
            boolean open = a.openAt(now);
            long change = a.nextChange(now);
            assertThat(change).as(what).isGreaterThan(now);
            assertThat(a.closesAt(now)).as(what).isEqualTo(open ? change : now);
            if (change == Long.MAX_VALUE) {
                assertThat(open).as("never changing, so open for good: %s", what).isTrue();
                continue;
            }
            for (long t = now; t < change; t += Math.max(1, (change - now) / 7)) {
                assertThat(a.openAt(t)).as("%s, at %d before the change at %d", what, t, change).isEqualTo(open);
            }
            assertThat(a.openAt(change - 1)).as(what).isEqualTo(open);
            assertThat(a.openAt(change)).as(what).isNotEqualTo(open);
        }
    }
}
