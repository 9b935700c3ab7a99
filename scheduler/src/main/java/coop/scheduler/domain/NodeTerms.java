package coop.scheduler.domain;

import java.util.List;

/**
 * The rules an operator's terms for a node must meet: a drain's reason, the reserve (what the
 * policy's {@code reserve_cap_bp} allows of the node's GPUs), the availability windows and
 * their time zone. Refusals name the request's field.
 */
public final class NodeTerms {
    /** Largest reserve accepted while a node's GPUs are not known yet (its agent has not connected). */
    public static final int MAX_RESERVE_UNSEEN = 1024;
    /** Longest availability window or time zone name a node's terms may hold. */
    public static final int MAX_TERM_TEXT = 64;

    private NodeTerms() {
    }

    /** A drain's reason, stripped; at most 200 printable characters. */
    public static String drainReason(String reason) {
        String why = reason == null ? "" : reason.strip();
        if (why.length() > 200 || why.chars().anyMatch(Character::isISOControl)) {
            throw CoopException.invalid("reason", "must be at most 200 printable characters");
        }
        return why;
    }

    /**
     * The reason an agent gives for its node's failed health check, made fit to show: control
     * characters become spaces and it is cut to 200 characters. Never refused, since the report
     * comes from a script's output and refusing it would leave a sick node taking work.
     */
    public static String healthReason(String reason) {
        String why = reason == null ? "" : reason.strip();
        StringBuilder out = new StringBuilder(Math.min(why.length(), 200));
        why.codePoints().limit(200).forEach(c -> out.appendCodePoint(Character.isISOControl(c) ? ' ' : c));
        String shown = out.toString().strip();
        return shown.isEmpty() ? "health check failed" : shown;
    }

    /**
     * Checks a reserve asked for {@code node}, which has {@code gpus} GPUs (0 while unknown),
     * against the policy's cap in basis points of the node's GPUs.
     */
    public static void checkReserve(String node, int reserve, int gpus, long capBp) {
        if (reserve < 0) {
            throw CoopException.invalid("reserved_gpus", "must be 0 or more, got " + reserve);
        }
        if (gpus > 0 && reserve > gpus * capBp / 10_000) {
            throw CoopException.invalid("reserved_gpus", reserve + " is more than the policy allows on node "
                    + node + ": at most " + gpus * capBp / 10_000 + " of its " + gpus + " GPUs (reserve_cap_bp "
                    + capBp + ")");
        }
        if (gpus == 0 && reserve > MAX_RESERVE_UNSEEN) {
            throw CoopException.invalid("reserved_gpus", "must be at most " + MAX_RESERVE_UNSEEN + ", got "
                    + reserve);
        }
    }

    /** Most declared purposes one node's terms may refuse. */
    public static final int MAX_REFUSED_PURPOSES = 32;

    /** Checks the purposes a node's terms refuse (null: kept as they are): names, at most {@link #MAX_REFUSED_PURPOSES}. */
    public static void checkPurposes(List<String> purposes) {
        if (purposes == null) {
            return;
        }
        if (purposes.size() > MAX_REFUSED_PURPOSES) {
            throw CoopException.invalid("refused_purposes", "at most " + MAX_REFUSED_PURPOSES + " purposes, got "
                    + purposes.size());
        }
        for (String p : purposes) {
            Names.require("refused_purposes", p);
        }
    }

    /** Checks the lengths of windows and a zone as given (null: kept as they are); their syntax is {@link Availability}'s. */
    public static void checkWindows(List<String> windows, String timeZone) {
        if (windows != null) {
            for (String w : windows) {
                if (w == null || w.length() > MAX_TERM_TEXT) {
                    throw CoopException.invalid("windows", "each window must be at most " + MAX_TERM_TEXT
                            + " characters");
                }
            }
        }
        if (timeZone != null && timeZone.length() > MAX_TERM_TEXT) {
            throw CoopException.invalid("time_zone", "must be at most " + MAX_TERM_TEXT + " characters");
        }
    }
}
