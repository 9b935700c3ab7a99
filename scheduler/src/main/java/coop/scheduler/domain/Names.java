package coop.scheduler.domain;

import java.util.regex.Pattern;

/** The one rule for names of members, accounts, nodes and sites: lower-case, short, shell-safe. */
public final class Names {
    private static final Pattern NAME = Pattern.compile("[a-z][a-z0-9_-]{0,62}");

    private Names() {
    }

    /** The rule as refusals spell it. */
    public static String rule() {
        return NAME.pattern();
    }

    public static boolean valid(String name) {
        return name != null && NAME.matcher(name).matches();
    }

    /** Returns the name or throws INVALID_ARGUMENT naming the field. */
    public static String require(String field, String name) {
        if (name == null || name.isEmpty()) {
            throw CoopException.invalid(field, "is required");
        }
        if (!valid(name)) {
            String shown = name.length() <= 40 ? name : name.substring(0, 40) + "…";
            throw CoopException.invalid(field, "'" + shown + "' must match " + rule());
        }
        return name;
    }
}
