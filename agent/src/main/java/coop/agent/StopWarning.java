package coop.agent;

import coop.v1.StopSignal;
import java.time.Duration;

/**
 * The signal a job asked to get before it is stopped (Slurm's {@code --signal [B:]SIG@SECONDS}):
 * {@code lead} before its walltime, and at once when the scheduler stops it, to its whole process
 * group or, {@code shellOnly}, to the rank's leading process alone.
 */
record StopWarning(ProcessLauncher.Signal signal, Duration lead, boolean shellOnly) {

    /**
     * The warning a Launch or Kill asks for, or null for none: an empty name, or one this agent
     * does not know (a newer scheduler's), which then leaves the stop as it always was.
     */
    static StopWarning of(StopSignal wire) {
        if (wire == null || wire.getName().isEmpty()) {
            return null;
        }
        ProcessLauncher.Signal signal;
        try {
            signal = ProcessLauncher.Signal.valueOf(wire.getName());
        } catch (IllegalArgumentException e) {
            return null;
        }
        if (signal == ProcessLauncher.Signal.KILL) {
            return null;
        }
        return new StopWarning(signal, Duration.ofSeconds(Math.max(0, wire.getLeadSeconds())), wire.getShellOnly());
    }
}
