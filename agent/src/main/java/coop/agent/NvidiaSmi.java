package coop.agent;

import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * GPU discovery through the NVIDIA driver's {@code nvidia-smi}. The command is looked up on a
 * search path given to the constructor rather than on the JVM's own {@code PATH}, because a
 * {@link ProcessBuilder} resolves executables against the parent's {@code PATH} only; injecting
 * it lets tests put a recorded fake in front without touching the JVM's environment.
 */
public final class NvidiaSmi {

    static final String MISSING =
            "--gpus auto: nvidia-smi not found on PATH; use --gpus sim:NxMODEL for a simulated node";

    private static final List<String> QUERY = List.of(
            "--query-gpu=index,uuid,name,memory.total", "--format=csv,noheader,nounits");

    /** A wedged driver can hang nvidia-smi; an agent that never starts is worse than an error. */
    private static final Duration TIMEOUT = Duration.ofSeconds(30);

    private final String searchPath;

    /** @param searchPath a {@code PATH}-style list of directories to look for {@code nvidia-smi} in */
    public NvidiaSmi(String searchPath) {
        this.searchPath = Objects.requireNonNull(searchPath, "searchPath");
    }

    /** Looks the command up on this process's {@code PATH}, as an operator would expect. */
    public static NvidiaSmi onSystemPath() {
        String path = System.getenv("PATH");
        return new NvidiaSmi(path == null ? "" : path);
    }

    /** Where {@code nvidia-smi} is on the search path, if anywhere. */
    public Optional<Path> executable() {
        for (String dir : searchPath.split(File.pathSeparator)) {
            if (dir.isEmpty()) {
                continue;
            }
            Path candidate = Path.of(dir, "nvidia-smi");
            if (Files.isRegularFile(candidate) && Files.isExecutable(candidate)) {
                return Optional.of(candidate);
            }
        }
        return Optional.empty();
    }

    /**
     * Runs the query and parses its output.
     *
     * @throws IllegalStateException if the command is missing, fails, or prints nothing usable
     */
    public List<GpuDevice> query() {
        Path exe = executable().orElseThrow(() -> new IllegalStateException(MISSING));
        List<String> command = new ArrayList<>();
        command.add(exe.toString());
        command.addAll(QUERY);
        Process process;
        try {
            process = new ProcessBuilder(command)
                    .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")))
                    .start();
        } catch (IOException e) {
            throw new IllegalStateException("--gpus auto: cannot run " + exe + ": " + e.getMessage(), e);
        }
        // Drain both pipes off this thread: a full pipe would block the command, and a hung driver
        // must still run into the timeout below rather than block a read forever.
        CompletableFuture<String> stdoutText =
                CompletableFuture.supplyAsync(() -> readAll(process.getInputStream()));
        CompletableFuture<String> stderr =
                CompletableFuture.supplyAsync(() -> readAll(process.getErrorStream()));
        try {
            if (!process.waitFor(TIMEOUT.toMillis(), TimeUnit.MILLISECONDS)) {
                process.destroyForcibly();
                throw new IllegalStateException(
                        "--gpus auto: " + exe + " did not answer within " + TIMEOUT.toSeconds() + " s");
            }
        } catch (InterruptedException e) {
            process.destroyForcibly();
            Thread.currentThread().interrupt();
            throw new IllegalStateException("--gpus auto: interrupted while running " + exe, e);
        }
        String stdout = stdoutText.join();
        if (process.exitValue() != 0) {
            String why = stderr.join().strip();
            if (why.isEmpty()) {
                why = stdout.strip();
            }
            throw new IllegalStateException("--gpus auto: " + exe + " failed with exit code "
                    + process.exitValue() + (why.isEmpty() ? "" : ": " + why.lines().findFirst().orElse("")));
        }
        List<GpuDevice> gpus = parse(stdout);
        if (gpus.isEmpty()) {
            throw new IllegalStateException("--gpus auto: nvidia-smi reported no GPUs");
        }
        return gpus;
    }

    /**
     * Parses the output of {@code nvidia-smi --query-gpu=index,uuid,name,memory.total
     * --format=csv,noheader,nounits}, one GPU a line, for example
     * {@code 0, GPU-1b6c..., NVIDIA A100-SXM4-80GB, 81920}.
     *
     * @throws IllegalStateException naming the offending line if one does not have that shape
     */
    public static List<GpuDevice> parse(String output) {
        List<GpuDevice> gpus = new ArrayList<>();
        for (String line : output.lines().map(String::strip).filter(l -> !l.isEmpty()).toList()) {
            String[] fields = line.split(",");
            if (fields.length != 4) {
                throw new IllegalStateException("--gpus auto: unexpected nvidia-smi line '" + line
                        + "' (want index, uuid, name, memory.total)");
            }
            try {
                int index = Integer.parseInt(fields[0].strip());
                String uuid = fields[1].strip();
                String model = modelOf(fields[2].strip());
                String memory = fields[3].strip();
                // The driver prints "[N/A]" for memory on some virtualised GPUs: report 0, "not stated".
                long memoryMib = memory.matches("\\d+") ? Long.parseLong(memory) : 0;
                gpus.add(new GpuDevice(index, uuid, model, memoryMib));
            } catch (IllegalArgumentException e) {
                throw new IllegalStateException(
                        "--gpus auto: unexpected nvidia-smi line '" + line + "': " + e.getMessage(), e);
            }
        }
        return gpus;
    }

    /**
     * The model the allocator matches on: the marketing name's first word once the vendor prefix
     * is gone, so "NVIDIA A100-SXM4-80GB" and "NVIDIA A100 80GB PCIe" are both "A100" and
     * "NVIDIA H100 80GB HBM3" is "H100". Older boards say "Tesla V100-SXM2-16GB" instead.
     */
    static String modelOf(String name) {
        String rest = name;
        for (String prefix : List.of("NVIDIA ", "Tesla ")) {
            if (rest.regionMatches(true, 0, prefix, 0, prefix.length())) {
                rest = rest.substring(prefix.length()).strip();
            }
        }
        String model = rest.split("[\\s-]+", 2)[0];
        if (model.isEmpty()) {
            throw new IllegalArgumentException("no model in GPU name '" + name + "'");
        }
        return model;
    }

    private static String readAll(InputStream in) {
        try (in) {
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
