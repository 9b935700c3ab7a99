package coop.cli;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.TypeConversionException;

/**
 * Durations as people type them on the command line and in batch scripts: coop's units
 * ({@code 90s}, {@code 2m}, {@code 1h}, {@code 1h30m}, {@code 2d}; largest to smallest, each at
 * most once) and every form of Slurm's {@code --time} ({@code MM}, {@code MM:SS},
 * {@code HH:MM:SS}, {@code D-HH}, {@code D-HH:MM}, {@code D-HH:MM:SS}). A bare number is
 * minutes, as in Slurm, so that {@code -t 30} in a script ported from sbatch means what it
 * meant there. Used for every duration option; through {@link Converter}, picocli reports a bad
 * value naming the option.
 */
public final class Durations {

    /** The forms, for the help of every duration option. */
    public static final String FORMS_HELP = "Durations: 90s, 30m, 2h, 1h30m, 2d, or Slurm's MM, MM:SS, HH:MM:SS, "
            + "D-HH[:MM[:SS]]; a bare number is minutes.";

    private static final Pattern UNITS = Pattern.compile("(?:(\\d+)d)?(?:(\\d+)h)?(?:(\\d+)m)?(?:(\\d+)s)?");
    /** Slurm's forms: MM, MM:SS, HH:MM:SS, and with a day count D-HH, D-HH:MM, D-HH:MM:SS. */
    private static final Pattern CLOCK = Pattern.compile("(\\d+)(?::(\\d+))?(?::(\\d+))?");
    private static final Pattern DAYS = Pattern.compile("(\\d+)-(\\d+)(?::(\\d+))?(?::(\\d+))?");
    private static final String FORMS = "use for example 90s, 30m, 1h30m, 2d, or Slurm's MM, MM:SS, HH:MM:SS, D-HH, "
            + "D-HH:MM, D-HH:MM:SS (a bare number is minutes)";

    private Durations() {
    }

    /**
     * Parses a positive duration; a bare number is minutes.
     *
     * @throws IllegalArgumentException quoting the text when it is not a positive duration
     */
    public static Duration parse(String text) {
        if (text == null || text.isBlank()) {
            throw new IllegalArgumentException("empty duration; " + FORMS);
        }
        Duration duration = parseOrZero(text);
        if (duration.isZero()) {
            throw new IllegalArgumentException("'" + text + "' is zero; give a positive duration");
        }
        return duration;
    }

    /**
     * As {@link #parse} but a bare number is seconds: for names that say so ({@code grace_s=30},
     * see {@link ParamSettings}); zero allowed.
     */
    static Duration parseSecondsOrZero(String text) {
        String t = text.strip();
        if (!t.isEmpty() && t.chars().allMatch(Character::isDigit)) {
            try {
                return Duration.ofSeconds(Long.parseLong(t));
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("'" + text + "' is too long a duration");
            }
        }
        if (t.isEmpty()) {
            throw new IllegalArgumentException("empty duration; " + FORMS);
        }
        return parseOrZero(text);
    }

    private static Duration parseOrZero(String text) {
        String t = text.strip();
        try {
            Matcher clock = CLOCK.matcher(t);
            if (clock.matches()) {
                if (clock.group(3) != null) {
                    return hms(0, clock.group(1), clock.group(2), clock.group(3));
                }
                // MM or MM:SS: Slurm reads a lone number, and the first of two, as minutes.
                return Duration.ofMinutes(Long.parseLong(clock.group(1))).plusSeconds(number(clock, 2));
            }
            Matcher days = DAYS.matcher(t);
            if (days.matches()) {
                return hms(Long.parseLong(days.group(1)), days.group(2), days.group(3), days.group(4));
            }
            Matcher m = UNITS.matcher(t);
            if (!m.matches()) {
                throw new IllegalArgumentException("'" + text + "' is not a duration; " + FORMS);
            }
            return Duration.ofDays(number(m, 1))
                    .plusHours(number(m, 2))
                    .plusMinutes(number(m, 3))
                    .plusSeconds(number(m, 4));
        } catch (NumberFormatException | ArithmeticException e) {
            throw new IllegalArgumentException("'" + text + "' is too long a duration");
        }
    }

    private static Duration hms(long days, String hours, String minutes, String seconds) {
        return Duration.ofDays(days).plusHours(Long.parseLong(hours))
                .plusMinutes(minutes == null ? 0 : Long.parseLong(minutes))
                .plusSeconds(seconds == null ? 0 : Long.parseLong(seconds));
    }

    /** Parses the value of {@code option}; a bad value is a {@link CliException} naming the option. */
    public static Duration option(String option, String text) {
        try {
            return parse(text);
        } catch (IllegalArgumentException e) {
            throw new CliException(option + ": " + e.getMessage());
        }
    }

    /**
     * As {@link #option}, where zero is a meaningful value ({@code 0}, {@code 0s}, {@code 0m}...:
     * no grace, no minimum run).
     */
    public static Duration optionOrZero(String option, String text) {
        return text.strip().matches("0+[smhd]?") ? Duration.ZERO : option(option, text);
    }

    private static long number(Matcher m, int group) {
        String digits = m.group(group);
        return digits == null ? 0 : Long.parseLong(digits);
    }

    /**
     * Formats a duration compactly with its two largest units: {@code 45s},
     * {@code 1h30m}, {@code 2d3h}. Negative durations are shown as zero.
     */
    public static String format(Duration duration) {
        long seconds = Math.max(0, duration.getSeconds());
        long[] amounts = {seconds / 86_400, seconds % 86_400 / 3_600, seconds % 3_600 / 60, seconds % 60};
        String[] units = {"d", "h", "m", "s"};
        int first = 0;
        while (first < 3 && amounts[first] == 0) {
            first++;
        }
        List<String> parts = new ArrayList<>();
        parts.add(amounts[first] + units[first]);
        if (first < 3 && amounts[first + 1] != 0) {
            parts.add(amounts[first + 1] + units[first + 1]);
        }
        return String.join("", parts);
    }

    /** picocli converter: a bad value becomes "Invalid value for option '--x': ...". */
    public static final class Converter implements ITypeConverter<Duration> {
        @Override
        public Duration convert(String value) {
            try {
                return parse(value);
            } catch (IllegalArgumentException e) {
                throw new TypeConversionException(e.getMessage());
            }
        }
    }
}
