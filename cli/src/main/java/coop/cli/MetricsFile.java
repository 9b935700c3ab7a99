package coop.cli;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Writes the scheduler's Prometheus metrics to a file at a steady pace, replacing it atomically
 * each time (a temporary file renamed over it), as node_exporter's textfile collector expects of
 * its {@code *.prom} files; {@code coop bench agents} reads its scheduler's metrics this way too.
 */
final class MetricsFile implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(MetricsFile.class);

    private final ScheduledExecutorService writer;

    private MetricsFile(ScheduledExecutorService writer) {
        this.writer = writer;
    }

    /** Writes {@code metrics} to {@code file} now and then every {@code every}, on a daemon thread. */
    static MetricsFile start(Supplier<String> metrics, Path file, Duration every) throws IOException {
        requireFolder(file);
        Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
        write(metrics, file, tmp);
        ScheduledExecutorService writer = Executors.newSingleThreadScheduledExecutor(task -> {
            Thread t = new Thread(task, "coop-metrics-file");
            t.setDaemon(true);
            return t;
        });
        writer.scheduleAtFixedRate(() -> {
            try {
                write(metrics, file, tmp);
            } catch (IOException | RuntimeException e) {
                log.warn("cannot write the metrics to {}: {}", file, e.toString());
            }
        }, every.toMillis(), every.toMillis(), TimeUnit.MILLISECONDS);
        return new MetricsFile(writer);
    }

    /** Refuses a file whose folder does not exist, before anything starts. */
    static void requireFolder(Path file) {
        Path parent = file.toAbsolutePath().getParent();
        if (parent != null && !Files.isDirectory(parent)) {
            throw new CliException("--metrics-file: folder " + parent + " does not exist");
        }
    }

    private static void write(Supplier<String> metrics, Path file, Path tmp) throws IOException {
        Files.writeString(tmp, metrics.get());
        Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    }

    @Override
    public void close() {
        writer.shutdownNow();
    }
}
