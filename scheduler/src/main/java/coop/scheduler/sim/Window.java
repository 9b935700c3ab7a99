package coop.scheduler.sim;

/** A measurement window {@code [startMs, endMs]} of simulated time. */
public record Window(long startMs, long endMs) {
    public Window {
        if (endMs < startMs) {
            throw new IllegalArgumentException("window ends (" + endMs + ") before it starts (" + startMs + ")");
        }
    }

    public long lengthMs() {
        return endMs - startMs;
    }

    /** Milliseconds of {@code [fromMs, toMs)} inside the window. */
    public long overlapMs(long fromMs, long toMs) {
        return Math.max(0, Math.min(toMs, endMs) - Math.max(fromMs, startMs));
    }
}
