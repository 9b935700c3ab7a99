package coop.bench.replay;

import java.nio.file.Path;

/**
 * The shell command a replayed trace job runs: {@code sleep} for its run time, made to behave
 * as the simulator assumes jobs do. The simulator lets a preempted job work on through its
 * grace period and keep that work (jobs checkpoint on SIGTERM); a bare {@code sleep} would
 * die at SIGTERM and start again from nothing. So the job keeps what it has left in a
 * checkpoint file: on SIGTERM it writes the time that will be left when the grace ends, sleeps
 * on, and either finishes within the grace (exit 0, as in the simulator) or is killed at its
 * end; its next attempt sleeps only what the checkpoint says.
 *
 * <p>The sleep is {@code marginMs} shorter than the work left, because the scheduler counts an
 * attempt from its allocation cycle to the report of its exit, which adds launch and report
 * latency to the sleep itself; the margin also keeps the sleep inside a walltime equal to the
 * run time. A SIGTERM that comes once the work is done (the agent's walltime timer) ends the
 * job with exit 0. While the {@code stop} file exists (the replay is ending), SIGTERM ends the
 * job at once.
 */
public final class SleepCommand {
    private SleepCommand() {
    }

    /**
     * @param checkpoint file holding the milliseconds left (absent before the first attempt)
     * @param stop       file whose existence means "the replay is over: exit on SIGTERM"
     * @param runMs      the job's run time
     * @param graceMs    time between SIGTERM and SIGKILL when the job is preempted
     * @param marginMs   how much shorter than the work left each sleep is
     */
    public static String of(Path checkpoint, Path stop, long runMs, long graceMs, long marginMs) {
        String ck = quote(checkpoint.toString());
        String st = quote(stop.toString());
        return String.join("\n",
                "ck=" + ck + "; st=" + st + "; w=" + runMs + "; t=",
                "[ -r \"$ck\" ] && read -r w < \"$ck\"",
                "s=${EPOCHREALTIME//[.,]/}",
                "trap 't=1' TERM",
                "z=$(( w > " + marginMs + " ? w - " + marginMs + " : 0 ))",
                "printf -v d '%d.%03d' $((z / 1000)) $((z % 1000))",
                "sleep \"$d\" & wait $!",
                "[ -z \"$t\" ] && exit 0",
                "kill $! 2>/dev/null",
                "[ -e \"$st\" ] && exit 143",
                // Work left now; what will be left when the grace ends is the checkpoint.
                "r=$(( w - (${EPOCHREALTIME//[.,]/} - s) / 1000 ))",
                "if [ \"${NODE_RANK:-0}\" = 0 ]; then",
                "  k=$(( r > " + graceMs + " ? r - " + graceMs + " : 0 ))",
                "  echo \"$k\" > \"$ck.tmp\" && mv -f \"$ck.tmp\" \"$ck\"",
                "fi",
                // A second SIGTERM is the walltime's (the work is done) or the replay's end.
                "trap '[ -e \"$st\" ] && exit 143; exit 0' TERM",
                "if [ \"$r\" -gt 0 ]; then printf -v d '%d.%03d' $((r / 1000)) $((r % 1000)); sleep \"$d\"; fi",
                "exit 0");
    }

    private static String quote(String s) {
        return "'" + s.replace("'", "'\\''") + "'";
    }
}
