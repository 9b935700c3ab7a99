package coop.scheduler.domain;

import java.util.List;
import java.util.Locale;

/**
 * How a job wants to be told it is about to stop, and what becomes of it when it runs out of time:
 * Slurm's {@code --signal [B:]SIG@SECONDS} (send SIG that long before the stop, to every process of
 * the rank, or with {@code B:} to its shell alone) and the number of times a job that reaches its
 * walltime is requeued as a new attempt instead of failing. Without a signal, the stop is what it
 * always was: SIGTERM, then SIGKILL after the grace.
 *
 * @param signal           the signal's name without {@code SIG} ("USR1"), or empty for none
 * @param leadSeconds      how long before the stop it is sent
 * @param shellOnly        whether it goes to the rank's shell alone ({@code B:}) rather than its whole group
 * @param requeueOnTimeout how many times a timed-out job runs again
 */
public record StopTerms(String signal, long leadSeconds, boolean shellOnly, int requeueOnTimeout) {

    /** Today's stop: no early signal, no requeue on timeout. */
    public static final StopTerms DEFAULT = new StopTerms("", 0, false, 0);
    /** Signals a job may ask for: those a process can catch. KILL and STOP cannot be, so warn of nothing. */
    public static final List<String> SIGNALS = List.of("HUP", "INT", "QUIT", "USR1", "USR2", "ALRM", "TERM", "CONT",
            "URG", "XCPU", "WINCH");
    /** Slurm's lead time when {@code @SECONDS} is left out. */
    public static final long DEFAULT_LEAD_SECONDS = 60;
    public static final int MAX_REQUEUE_ON_TIMEOUT = 100;

    public StopTerms {
        signal = signal == null ? "" : signal;
    }

    /** Whether the job asked to be warned before it stops. */
    public boolean warns() {
        return !signal.isEmpty();
    }

    /** The terms as typed: {@code B:USR1@120}, or empty for the default. */
    public String text() {
        return warns() ? (shellOnly ? "B:" : "") + signal + "@" + leadSeconds : "";
    }

    /**
     * Reads {@code [B:]SIG@SECONDS} (SIG by name, with or without {@code SIG}, or by number;
     * SECONDS 60 when left out), refusing with the field and the rule named: an unknown signal,
     * a lead longer than the walltime.
     */
    public static StopTerms parse(String text, int requeueOnTimeout, long walltimeSeconds) {
        if (requeueOnTimeout < 0 || requeueOnTimeout > MAX_REQUEUE_ON_TIMEOUT) {
            throw CoopException.invalid("requeue_on_timeout", "must be between 0 and " + MAX_REQUEUE_ON_TIMEOUT
                    + ", got " + requeueOnTimeout);
        }
        if (text == null || text.isEmpty()) {
            return new StopTerms("", 0, false, requeueOnTimeout);
        }
        String rest = text.strip();
        boolean shell = false;
        if (rest.regionMatches(true, 0, "B:", 0, 2)) {
            shell = true;
            rest = rest.substring(2);
        }
        long lead = DEFAULT_LEAD_SECONDS;
        int at = rest.indexOf('@');
        if (at >= 0) {
            String seconds = rest.substring(at + 1);
            if (!seconds.matches("[0-9]{1,9}")) {
                throw CoopException.invalid("signal", "'" + JobSpec.abbreviated(text) + "': the lead after @ must be "
                        + "whole seconds, as in USR1@120");
            }
            lead = Long.parseLong(seconds);
            rest = rest.substring(0, at);
        }
        String name = signalName(rest);
        if (name == null) {
            throw CoopException.invalid("signal", "'" + JobSpec.abbreviated(text) + "' names no signal a job can "
                    + "catch: use [B:]SIG@SECONDS with SIG one of " + String.join(", ", SIGNALS));
        }
        if (lead > walltimeSeconds) {
            throw CoopException.invalid("signal", "lead time of " + lead + " s is longer than the walltime of "
                    + walltimeSeconds + " s: the signal would come before the job starts");
        }
        return new StopTerms(name, lead, shell, requeueOnTimeout);
    }

    /** USR1, SIGUSR1, usr1 or 10 as {@code USR1}; null when not one of {@link #SIGNALS}. */
    private static String signalName(String given) {
        String s = given.toUpperCase(Locale.ROOT);
        if (s.startsWith("SIG")) {
            s = s.substring(3);
        }
        if (s.matches("[0-9]{1,2}")) {
            // Linux's numbers, as kill -l lists them.
            s = switch (Integer.parseInt(s)) {
                case 1 -> "HUP";
                case 2 -> "INT";
                case 3 -> "QUIT";
                case 10 -> "USR1";
                case 12 -> "USR2";
                case 14 -> "ALRM";
                case 15 -> "TERM";
                case 18 -> "CONT";
                case 23 -> "URG";
                case 24 -> "XCPU";
                case 28 -> "WINCH";
                default -> "";
            };
        }
        return SIGNALS.contains(s) ? s : null;
    }
}
