package coop.bench.swarm;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * What Linux's /proc says about a process: its CPU time (user and system, from
 * {@code /proc/PID/stat}) and its resident memory (from {@code /proc/PID/status}).
 *
 * @param cpuTicks utime + stime, in clock ticks ({@link #ticksPerSecond})
 * @param rssKb    VmRSS in KiB
 */
public record ProcStat(long cpuTicks, long rssKb) {

    /** Reads the process's figures now; fails if it is gone or this is not Linux. */
    public static ProcStat of(long pid) {
        try {
            String stat = Files.readString(Path.of("/proc", Long.toString(pid), "stat"), StandardCharsets.US_ASCII);
            // The command name in parentheses may hold spaces; the fields after it are fixed: state is
            // field 3, utime 14 and stime 15.
            String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
            long ticks = Long.parseLong(f[11]) + Long.parseLong(f[12]);
            long rss = 0;
            for (String line : Files.readAllLines(Path.of("/proc", Long.toString(pid), "status"))) {
                if (line.startsWith("VmRSS:")) {
                    rss = Long.parseLong(line.replaceAll("[^0-9]", ""));
                }
            }
            return new ProcStat(ticks, rss);
        } catch (IOException | RuntimeException e) {
            throw new IllegalStateException("cannot read /proc/" + pid + " (is the process gone, or is this not "
                    + "Linux?): " + e.getMessage(), e);
        }
    }

    /** Clock ticks per second of /proc's CPU times ({@code getconf CLK_TCK}; 100 where it does not answer). */
    public static long ticksPerSecond() {
        try {
            Process p = new ProcessBuilder("getconf", "CLK_TCK").redirectErrorStream(true).start();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.US_ASCII).strip();
            if (p.waitFor() == 0 && out.matches("[0-9]+")) {
                return Long.parseLong(out);
            }
        } catch (IOException e) {
            // No getconf: Linux's USER_HZ is 100 on every common architecture.
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        return 100;
    }

    /** The soft limit on open files of this process (ulimit -n), from /proc/self/limits; -1 if unknown. */
    public static long openFilesLimit() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/limits"))) {
                if (line.startsWith("Max open files")) {
                    String soft = line.substring("Max open files".length()).trim().split("\\s+")[0];
                    return soft.equals("unlimited") ? Long.MAX_VALUE : Long.parseLong(soft);
                }
            }
        } catch (IOException | RuntimeException e) {
            // Not Linux: the caller cannot check, and says so.
        }
        return -1;
    }
}
