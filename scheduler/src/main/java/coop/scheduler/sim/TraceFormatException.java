package coop.scheduler.sim;

/** A trace that cannot be read; the message names the source, line and column. */
public final class TraceFormatException extends IllegalArgumentException {
    private final int line;

    public TraceFormatException(String message, int line) {
        super(message);
        this.line = line;
    }

    /** The 1-based line the problem is on (the header is line 1). */
    public int line() {
        return line;
    }
}
