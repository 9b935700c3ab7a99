package coop.agent;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Collectors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The job-to-GPU mapping folder that {@code dcgm-exporter --hpc-job-mapping-dir} reads, so an
 * operator's existing exporter labels each GPU's metrics with the job using it: one file per GPU
 * that a rank holds, named by the GPU's index, holding the ids of the jobs on it, one a line. A
 * file is rewritten whole (written aside, then renamed over) so the exporter never reads half of
 * one, and removed once no job holds its GPU. Thread-safe: ranks start on spawner threads and end
 * on the agent's loop.
 */
final class GpuJobMap {

    // The agent's parts all log as the agent: operators filter and read one category.
    private static final Logger log = LoggerFactory.getLogger(Agent.class);

    private final Path dir;
    /** The jobs on each GPU, by index, one entry per rank holding it. */
    private final Map<Integer, List<Long>> jobs = new TreeMap<>();

    GpuJobMap(Path dir) {
        this.dir = dir;
    }

    /**
     * Empties the folder of the files a previous agent left: it stopped their ranks before this
     * one offers the node. Only files named by a GPU index are touched; the folder may hold others.
     */
    synchronized void clear() throws IOException {
        Files.createDirectories(dir);
        jobs.clear();
        try (DirectoryStream<Path> files = Files.newDirectoryStream(dir, p -> isGpuIndex(p.getFileName().toString()))) {
            for (Path file : files) {
                Files.deleteIfExists(file);
            }
        }
    }

    /** A rank of {@code jobId} holds these GPUs now. */
    synchronized void add(long jobId, List<Integer> gpus) {
        for (int gpu : gpus) {
            jobs.computeIfAbsent(gpu, g -> new ArrayList<>()).add(jobId);
            write(gpu);
        }
    }

    /** A rank of {@code jobId} no longer holds these GPUs. */
    synchronized void remove(long jobId, List<Integer> gpus) {
        for (int gpu : gpus) {
            List<Long> on = jobs.get(gpu);
            if (on != null && on.remove(jobId)) {
                if (on.isEmpty()) {
                    jobs.remove(gpu);
                }
                write(gpu);
            }
        }
    }

    /** The file of one GPU. */
    Path file(int gpu) {
        return dir.resolve(Integer.toString(gpu));
    }

    private void write(int gpu) {
        Path file = file(gpu);
        List<Long> on = jobs.get(gpu);
        try {
            if (on == null) {
                Files.deleteIfExists(file);
                return;
            }
            // The same job twice on a GPU (two ranks sharing it) is one job to the exporter.
            String text = on.stream().distinct().map(String::valueOf).collect(Collectors.joining("\n", "", "\n"));
            Path aside = dir.resolve("." + gpu + ".tmp");
            Files.writeString(aside, text, StandardCharsets.US_ASCII);
            Files.move(aside, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException e) {
            // Metrics lose their job label; the job itself is unaffected, so it runs on.
            log.warn("cannot update the GPU job map {}: {}", file, e.toString());
        }
    }

    private static boolean isGpuIndex(String name) {
        return !name.isEmpty() && name.length() <= 6 && name.chars().allMatch(Character::isDigit);
    }
}
