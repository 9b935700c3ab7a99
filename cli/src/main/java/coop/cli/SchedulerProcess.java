package coop.cli;

import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * {@code coop scheduler} as a child process on a data folder, for the benchmarks that need the
 * scheduler in a process of its own (to kill it, or to measure its CPU apart from their clients):
 * the same Java and classpath as this process, listening on 127.0.0.1 on a free port, its output
 * in a log file.
 */
public final class SchedulerProcess {
    private final String name;
    private final Process process;
    private final Path portFile;
    private final Path log;

    private SchedulerProcess(String name, Process process, Path portFile, Path log) {
        this.name = name;
        this.process = process;
        this.portFile = portFile;
        this.log = log;
    }

    /**
     * What {@code ./coop scheduler} gives the scheduler's JVM too (keep in step with the
     * launcher): G1 refines the cards that old objects' pointers to new ones dirty in its pauses
     * rather than on threads of its own. Every heartbeat points long-lived per-stream objects
     * (Netty's, gRPC's) at new buffers; at 10,000 agents refining those cards concurrently cost
     * about 8 % of a core, and in the pauses it costs about 1 %. JDK 17 to 19 only: the flags are
     * gone from JDK 20 on, where refinement was reworked.
     */
    static List<String> gcOptions(Runtime.Version version) {
        return version.feature() <= 19 ? GC_OPTIONS : List.of();
    }

    static final List<String> GC_OPTIONS = List.of("-XX:-G1UseAdaptiveConcRefinement",
            "-XX:G1ConcRefinementGreenZone=4096", "-XX:G1ConcRefinementYellowZone=8192",
            "-XX:G1ConcRefinementRedZone=16384");

    /**
     * Starts the scheduler; returns at once (see {@link #awaitServing}).
     *
     * @param name       how errors name it ("the scheduler (start 3)")
     * @param portFile   where it writes its port once serving; must not exist yet
     * @param jvmOptions options for its JVM (heap, flight recording), after {@link #gcOptions}
     * @param options    more {@code coop scheduler} options ({@code --heartbeat 1s})
     */
    public static SchedulerProcess launch(String name, Path data, Path portFile, Path log, List<String> jvmOptions,
                                          List<String> options) throws IOException {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        List<String> cmd = new ArrayList<>();
        cmd.add(java);
        cmd.addAll(gcOptions(Runtime.version()));
        cmd.addAll(jvmOptions);
        cmd.addAll(List.of("-cp", System.getProperty("java.class.path"), Main.class.getName(), "scheduler", "--data",
                data.toString(), "--listen", "127.0.0.1:0", "--port-file", portFile.toString()));
        cmd.addAll(options);
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile())
                .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null"))).start();
        return new SchedulerProcess(name, p, portFile, log);
    }

    /** Waits until it serves; returns its HOST:PORT. Fails naming the end of its log if it exits or takes too long. */
    public String awaitServing(Duration patience) throws IOException, InterruptedException {
        long deadline = System.nanoTime() + patience.toNanos();
        while (!Files.exists(portFile)) {
            if (!process.isAlive()) {
                throw new CliException(name + " exited with " + process.exitValue() + ": " + tail(log));
            }
            if (System.nanoTime() > deadline) {
                throw new CliException(name + " was not serving after " + patience.toSeconds() + " s: " + tail(log));
            }
            Thread.sleep(5);
        }
        return "127.0.0.1:" + Files.readString(portFile).strip();
    }

    public Process process() {
        return process;
    }

    public long pid() {
        return process.pid();
    }

    public Path log() {
        return log;
    }

    /** Stops it as an operator would (SIGTERM), with kill -9 if it takes more than 10 s. */
    public void stop() throws InterruptedException {
        process.destroy();
        if (!process.waitFor(10, TimeUnit.SECONDS)) {
            process.destroyForcibly().waitFor();
        }
    }

    /** The last lines of a log, on one line, for an error message. */
    public static String tail(Path log) {
        try {
            List<String> lines = Files.readAllLines(log);
            return String.join(" | ", lines.subList(Math.max(0, lines.size() - 5), lines.size()));
        } catch (IOException e) {
            return "(no log: " + e.getMessage() + ")";
        }
    }
}
