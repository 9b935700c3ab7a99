package coop.cli;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Policy parameters as written on the command line, {@code NAME=VALUE} ({@code coop propose
 * param --set}, {@code coop init --param}): names ending in {@code _s} take durations (7d, 90m,
 * 30s, or 0) where a bare number is seconds, as the name says (unlike a duration option's bare
 * number, which is Slurm's minutes), {@code panel_purposes} a comma list, the others whole numbers. Whether a name
 * exists and a value is in range is the policy's to say ({@code Params.with}).
 */
final class ParamSettings {
    static final String PURPOSES = "panel_purposes";

    private ParamSettings() {
    }

    /** Name to value (a {@code Long}, or a list of purposes), in the order given. */
    static Map<String, Object> parse(String option, List<String> settings) {
        Map<String, Object> out = new LinkedHashMap<>();
        for (String s : settings) {
            int eq = s.indexOf('=');
            if (eq < 1) {
                throw new CliException(option + ": '" + s + "' must be NAME=VALUE");
            }
            String name = s.substring(0, eq).strip().replace('-', '_');
            String value = s.substring(eq + 1).strip();
            if (name.equals(PURPOSES)) {
                List<String> purposes = new ArrayList<>();
                for (String p : value.split(",")) {
                    if (!p.isBlank()) {
                        purposes.add(p.strip());
                    }
                }
                out.put(name, purposes);
            } else if (name.endsWith("_s")) {
                try {
                    out.put(name, Durations.parseSecondsOrZero(value).toSeconds());
                } catch (IllegalArgumentException e) {
                    throw new CliException(option + " " + name + ": " + e.getMessage());
                }
            } else {
                try {
                    out.put(name, Long.parseLong(value));
                } catch (NumberFormatException e) {
                    throw new CliException(option + " " + name + ": '" + value + "' is not a whole number");
                }
            }
        }
        return out;
    }
}
