package coop.scheduler.domain;

import java.util.EnumSet;
import java.util.Locale;
import java.util.Set;
import java.util.StringJoiner;

/**
 * What a job's submitter may be told of, in Slurm's {@code --mail-type} words: {@code BEGIN} an
 * attempt started, {@code END} the job reached a final state (any of them), {@code FAIL} it ended
 * FAILED or TIMEOUT, {@code PREEMPT} an attempt was told to stop to give borrowed GPUs back, and
 * {@code REQUEUE} the job went back to its queue to run again (after a preemption, a timeout it asked
 * to be requeued for, or a lost node). A job that fails makes one FAIL event, which those who asked
 * for END hear too: END is every end.
 */
public enum NotifyEvent {
    BEGIN, END, FAIL, PREEMPT, REQUEUE;

    /** What the rules say, for refusals. */
    public static final String WORDS = "comma-separated BEGIN, END, FAIL, PREEMPT, REQUEUE, ALL or NONE";
    /** Longest notify text taken: every word once, with room to spare. */
    static final int MAX_TEXT = 128;

    /**
     * The events a notify text names: case does not matter, ALL is every event, NONE (alone) none;
     * an empty text names none as well, and {@link #canonical} tells the two apart.
     */
    public static Set<NotifyEvent> parse(String field, String text) {
        Set<NotifyEvent> events = EnumSet.noneOf(NotifyEvent.class);
        if (text == null || text.isBlank()) {
            return events;
        }
        if (text.length() > MAX_TEXT) {
            throw CoopException.invalid(field, "at most " + MAX_TEXT + " characters of " + WORDS);
        }
        boolean none = false;
        for (String word : text.split(",", -1)) {
            String w = word.strip().toUpperCase(Locale.ROOT);
            switch (w) {
                case "ALL" -> events.addAll(EnumSet.allOf(NotifyEvent.class));
                case "NONE" -> none = true;
                case "" -> throw CoopException.invalid(field, "'" + text + "' has an empty event: give " + WORDS);
                default -> {
                    try {
                        events.add(valueOf(w));
                    } catch (IllegalArgumentException e) {
                        throw CoopException.invalid(field, "unknown event '" + JobSpec.abbreviated(word.strip())
                                + "': give " + WORDS);
                    }
                }
            }
        }
        if (none && !events.isEmpty()) {
            throw CoopException.invalid(field, "NONE cannot be given with other events, got '" + text + "'");
        }
        return events;
    }

    /** The text stored for a notify text: its events in this enum's order, "NONE" for none asked, "" for none given. */
    public static String canonical(String field, String text) {
        Set<NotifyEvent> events = parse(field, text);
        if (events.isEmpty()) {
            return text == null || text.isBlank() ? "" : "NONE";
        }
        StringJoiner out = new StringJoiner(",");
        events.forEach(e -> out.add(e.name()));
        return out.toString();
    }

    /** Whether a job that asked for {@code asked} is told of this event: END asks for FAIL too. */
    public boolean askedBy(Set<NotifyEvent> asked) {
        return asked.contains(this) || (this == FAIL && asked.contains(END));
    }
}
