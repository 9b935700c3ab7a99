package coop.cli;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.TypeConversionException;

/**
 * Durations as people type them on the command line: {@code 90s}, {@code 2m},
 * {@code 1h}, {@code 1h30m}, {@code 2d}, or plain seconds. Units go from largest to
 * smallest, each at most once. Used for {@code --walltime} and {@code --closes-in};
 * through {@link Converter}, picocli reports a bad value naming the option.
 */
public final class Durations {

    private static final Pattern UNITS = Pattern.compile("(?:(\\d+)d)?(?:(\\d+)h)?(?:(\\d+)m)?(?:(\\d+)s)?");
    private static final String FORMS = "use for example 90s, 2m, 1h30m, 2d or plain seconds";

    private Durations() {
    }

    /**
     * Parses a positive duration.
     *
     * @throws IllegalArgumentException quoting the text when it is not a positive duration
     */
    public static Duration parse(String text) {
        if (text == null || text.isBlank()) {
            throw new IllegalArgumentException("empty duration; " + FORMS);
        }
        String t = text.strip();
        Duration duration;
        try {
            if (t.chars().allMatch(Character::isDigit)) {
                duration = Duration.ofSeconds(Long.parseLong(t));
            } else {
                Matcher m = UNITS.matcher(t);
                if (!m.matches()) {
                    throw new IllegalArgumentException("'" + text + "' is not a duration; " + FORMS);
                }
                duration = Duration.ofDays(number(m, 1))
                        .plusHours(number(m, 2))
                        .plusMinutes(number(m, 3))
                        .plusSeconds(number(m, 4));
            }
        } catch (NumberFormatException | ArithmeticException e) {
            throw new IllegalArgumentException("'" + text + "' is too long a duration");
        }
        if (duration.isZero()) {
            throw new IllegalArgumentException("'" + text + "' is zero; give a positive duration");
        }
        return duration;
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
