package coop.agent;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** The node's memory, as the kernel counts it in {@code /proc/meminfo}. */
public final class HostMemory {

    private HostMemory() {
    }

    /** MemTotal in bytes; 0 when it cannot be read (not Linux, no /proc). */
    public static long totalBytes() {
        try {
            return parseTotal(Files.readString(Path.of("/proc/meminfo")));
        } catch (IOException | RuntimeException e) {
            return 0;
        }
    }

    /** MemTotal of a meminfo text in bytes ("MemTotal:       16384 kB"); 0 without the line. */
    static long parseTotal(String meminfo) {
        for (String line : meminfo.split("\n")) {
            if (line.startsWith("MemTotal:")) {
                String[] words = line.substring("MemTotal:".length()).trim().split("\\s+");
                long amount = Long.parseLong(words[0]);
                return words.length > 1 && words[1].equalsIgnoreCase("kB") ? amount * 1024 : amount;
            }
        }
        return 0;
    }
}
