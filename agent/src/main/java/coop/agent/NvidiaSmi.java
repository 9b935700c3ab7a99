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
import java.util.OptionalInt;
import java.util.OptionalLong;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * GPU discovery through the NVIDIA driver's {@code nvidia-smi}. The command is looked up on a
 * search path given to the constructor rather than on the JVM's own {@code PATH}, because a
 * {@link ProcessBuilder} resolves executables against the parent's {@code PATH} only; injecting
 * it lets tests put a recorded fake in front without touching the JVM's environment.
 *
 * <p>Discovery offers every GPU the driver can read and leaves out, with a warning naming it,
 * one it cannot (a GPU that fell off the bus or needs a reset); it fails only when no GPU is
 * usable. A GPU in MIG mode is offered as one whole GPU: MIG instances are not scheduled
 * separately yet, and a rank given such a GPU reaches only one of its instances (CUDA shows a
 * process one MIG device), so discovery warns about it.
 */
public final class NvidiaSmi {

    private static final Logger log = LoggerFactory.getLogger(NvidiaSmi.class);

    static final String MISSING =
            "--gpus auto: nvidia-smi not found on PATH; use --gpus sim:NxMODEL for a simulated node";

    static final List<String> QUERY = List.of(
            "--query-gpu=index,uuid,name,memory.total,mig.mode.current", "--format=csv,noheader,nounits");

    /** Drivers before R450 know no MIG and refuse the whole query over its one field; ask them without it. */
    static final List<String> QUERY_WITHOUT_MIG = List.of(
            "--query-gpu=index,uuid,name,memory.total", "--format=csv,noheader,nounits");

    static final List<String> USAGE_QUERY = List.of(
            "--query-gpu=index,utilization.gpu,memory.used", "--format=csv,noheader,nounits");

    /** A wedged driver can hang nvidia-smi; an agent that never starts is worse than an error. */
    static final Duration DISCOVERY_TIMEOUT = Duration.ofSeconds(30);

    /**
     * What nvidia-smi prints in place of a GPU it cannot open, for example {@code Unable to
     * determine the device handle for GPU 0000:4E:00.0: Unknown Error}; drivers differ in whether
     * a space follows "GPU" and in how they name it (bus id or index).
     */
    private static final Pattern NO_HANDLE =
            Pattern.compile("Unable to determine the device handle for (GPU\\s?\\S+?):?\\s+(.*)");

    /** Values that only mean "not stated" ({@code [N/A]} on virtual GPUs); other bracketed values are errors. */
    private static final List<String> NOT_STATED = List.of("[N/A]", "[Not Supported]");

    /** Readers get their own daemon threads: a hung driver may keep a pipe open for good. */
    private static final Executor READERS = task -> {
        Thread thread = new Thread(task, "nvidia-smi-reader");
        thread.setDaemon(true);
        thread.start();
    };

    private final String searchPath;
    /** A run that timed out and outlived SIGKILL (a process stuck in the driver); no second one joins it. */
    private Process straggler;

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

    /** What discovery found: the GPUs to offer, and one warning per GPU left out or offered with a caveat. */
    public record Discovery(List<GpuDevice> gpus, List<String> warnings) {
        public Discovery {
            gpus = List.copyOf(gpus);
            warnings = List.copyOf(warnings);
        }
    }

    /**
     * Discovers the GPUs and logs each warning.
     *
     * @throws IllegalStateException if the command is missing, fails, or no GPU is usable
     */
    public List<GpuDevice> query() {
        Discovery found = discover();
        found.warnings().forEach(w -> log.warn("{}", w));
        return found.gpus();
    }

    /**
     * Runs the discovery query and parses its output.
     *
     * @throws IllegalStateException if the command is missing, fails, or no GPU is usable
     */
    public Discovery discover() {
        Output out = run(QUERY, DISCOVERY_TIMEOUT);
        if (out.exitCode() != 0 && out.text().contains("is not a valid field to query")) {
            out = run(QUERY_WITHOUT_MIG, DISCOVERY_TIMEOUT);
        }
        Discovery found;
        try {
            found = parseDiscovery(out.stdout(), out.stderr());
        } catch (IllegalStateException e) {
            // A failing driver prints its complaint where the CSV would be; the exit code says more.
            throw out.exitCode() != 0 ? out.failure() : e;
        }
        if (found.gpus().isEmpty()) {
            if (!found.warnings().isEmpty()) {
                throw new IllegalStateException("--gpus auto: no usable GPU: " + String.join("; ", found.warnings()));
            }
            if (out.exitCode() != 0) {
                throw out.failure();
            }
            throw new IllegalStateException("--gpus auto: nvidia-smi reported no GPUs");
        }
        // A non-zero exit with healthy GPUs in the output is the driver complaining about the others,
        // which the warnings already name.
        return found;
    }

    /**
     * Takes one usage sample: {@code nvidia-smi --query-gpu=index,utilization.gpu,memory.used}.
     * GPUs the driver cannot read are missing from the result rather than failing it.
     *
     * @throws IllegalStateException if the command is missing, hangs past {@code timeout}, fails
     *     without a usable line, or a previous run is still stuck in the driver
     */
    public List<GpuUsage> sampleUsage(Duration timeout) {
        Output out = run(USAGE_QUERY, timeout);
        List<GpuUsage> usage = parseUsage(out.stdout());
        if (usage.isEmpty() && out.exitCode() != 0) {
            throw out.failure();
        }
        if (usage.isEmpty() && !out.stdout().isBlank()) {
            throw new IllegalStateException("--gpus auto: no usable line in nvidia-smi usage output '"
                    + out.stdout().strip().lines().findFirst().orElse("") + "'");
        }
        return usage;
    }

    /** What one run of the command left: its exit code and both streams. */
    private record Output(Path exe, int exitCode, String stdout, String stderr) {
        String text() {
            return stdout + "\n" + stderr;
        }

        IllegalStateException failure() {
            String why = stderr.strip();
            if (why.isEmpty()) {
                why = stdout.strip();
            }
            return new IllegalStateException("--gpus auto: " + exe + " failed with exit code " + exitCode
                    + (why.isEmpty() ? "" : ": " + why.lines().findFirst().orElse("")));
        }
    }

    private synchronized Output run(List<String> args, Duration timeout) {
        Path exe = executable().orElseThrow(() -> new IllegalStateException(MISSING));
        if (straggler != null && straggler.isAlive()) {
            // Piling up one stuck process (and two reader threads) per attempt would leak without bound.
            throw new IllegalStateException("--gpus auto: an earlier " + exe + " (pid " + straggler.pid()
                    + ") is still stuck after being killed; not starting another");
        }
        straggler = null;
        List<String> command = new ArrayList<>();
        command.add(exe.toString());
        command.addAll(args);
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
        CompletableFuture<String> stdout = CompletableFuture.supplyAsync(() -> readAll(process.getInputStream()), READERS);
        CompletableFuture<String> stderr = CompletableFuture.supplyAsync(() -> readAll(process.getErrorStream()), READERS);
        try {
            if (!process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
                kill(process);
                throw new IllegalStateException("--gpus auto: " + exe + " did not answer within "
                        + timeout.toMillis() + " ms");
            }
        } catch (InterruptedException e) {
            kill(process);
            Thread.currentThread().interrupt();
            throw new IllegalStateException("--gpus auto: interrupted while running " + exe, e);
        }
        return new Output(exe, process.exitValue(), stdout.join(), stderr.join());
    }

    private void kill(Process process) {
        // The fake in the tests is a shell whose children (a sleep) would keep the pipes open.
        process.descendants().forEach(ProcessHandle::destroyForcibly);
        process.destroyForcibly();
        straggler = process;
    }

    /**
     * Parses the output of {@code nvidia-smi --query-gpu=index,uuid,name,memory.total
     * --format=csv,noheader,nounits}, one GPU a line, for example
     * {@code 0, GPU-1b6c..., NVIDIA A100-SXM4-80GB, 81920}, with or without a fifth field
     * {@code mig.mode.current}.
     *
     * @throws IllegalStateException naming the offending line if one does not have that shape
     */
    public static List<GpuDevice> parse(String output) {
        Discovery found = parseDiscovery(output, "");
        if (!found.warnings().isEmpty() && found.gpus().isEmpty()) {
            throw new IllegalStateException("--gpus auto: " + found.warnings().get(0));
        }
        return found.gpus();
    }

    /**
     * Parses discovery output: healthy GPUs become devices; a GPU the driver cannot open, or one
     * whose fields it prints as errors such as {@code [GPU requires reset]}, becomes a warning.
     * Lines of any other shape are refused, since guessing at them could offer a GPU twice.
     */
    static Discovery parseDiscovery(String stdout, String stderr) {
        List<GpuDevice> gpus = new ArrayList<>();
        List<String> warnings = new ArrayList<>();
        for (String line : stderr.lines().map(String::strip).toList()) {
            Matcher m = NO_HANDLE.matcher(line);
            if (m.matches()) {
                warnings.add(unreadable(m));
            }
        }
        for (String line : stdout.lines().map(String::strip).filter(l -> !l.isEmpty()).toList()) {
            Matcher noHandle = NO_HANDLE.matcher(line);
            if (noHandle.matches()) {
                warnings.add(unreadable(noHandle));
                continue;
            }
            String[] fields = line.split(",");
            if (fields.length != 4 && fields.length != 5) {
                throw new IllegalStateException("--gpus auto: unexpected nvidia-smi line '" + line
                        + "' (want index, uuid, name, memory.total[, mig.mode.current])");
            }
            for (int i = 0; i < fields.length; i++) {
                fields[i] = fields[i].strip();
            }
            String error = firstError(fields);
            if (error != null) {
                warnings.add("leaving out GPU " + fields[0] + (fields[1].startsWith("GPU-") ? " (" + fields[1] + ")" : "")
                        + ": nvidia-smi reports " + error);
                continue;
            }
            try {
                int index = Integer.parseInt(fields[0]);
                String uuid = fields[1];
                String model = modelOf(fields[2]);
                // The driver prints "[N/A]" for memory on some virtualised GPUs: report 0, "not stated".
                long memoryMib = fields[3].matches("\\d+") ? Long.parseLong(fields[3]) : 0;
                gpus.add(new GpuDevice(index, uuid, model, memoryMib));
                if (fields.length == 5 && fields[4].equalsIgnoreCase("Enabled")) {
                    warnings.add("GPU " + index + " (" + uuid + ") is in MIG mode: coop offers it as one whole GPU,"
                            + " and a rank given it reaches only one of its MIG instances");
                }
            } catch (IllegalArgumentException e) {
                throw new IllegalStateException(
                        "--gpus auto: unexpected nvidia-smi line '" + line + "': " + e.getMessage(), e);
            }
        }
        return new Discovery(gpus, warnings);
    }

    private static String unreadable(Matcher m) {
        return "leaving out " + m.group(1) + ": nvidia-smi cannot open it (" + m.group(2).strip() + ")";
    }

    /** The first field the driver printed as an error, such as {@code [Unknown Error]}; null if none. */
    private static String firstError(String[] fields) {
        for (String field : fields) {
            if (field.startsWith("[") && field.endsWith("]") && !NOT_STATED.contains(field)) {
                return field;
            }
        }
        return null;
    }

    /**
     * Parses the output of {@code nvidia-smi --query-gpu=index,utilization.gpu,memory.used
     * --format=csv,noheader,nounits}, for example {@code 0, 97, 61234}. {@code [N/A]} (utilization
     * of a GPU in MIG mode) leaves that value unstated; a line with an error value such as
     * {@code [GPU requires reset]}, a "device handle" complaint or any other shape is skipped, so
     * one failing GPU does not cost the sample of the others.
     */
    public static List<GpuUsage> parseUsage(String output) {
        List<GpuUsage> usage = new ArrayList<>();
        for (String line : output.lines().map(String::strip).filter(l -> !l.isEmpty()).toList()) {
            String[] fields = line.split(",");
            if (fields.length != 3) {
                continue;
            }
            String index = fields[0].strip();
            String utilization = fields[1].strip();
            String memory = fields[2].strip();
            if (!index.matches("\\d{1,6}") || !stated(utilization, "\\d{1,3}") || !stated(memory, "\\d{1,12}")) {
                continue;
            }
            OptionalInt pct = utilization.startsWith("[") ? OptionalInt.empty()
                    : OptionalInt.of(Integer.parseInt(utilization));
            if (pct.isPresent() && pct.getAsInt() > 100) {
                continue;
            }
            OptionalLong mib = memory.startsWith("[") ? OptionalLong.empty() : OptionalLong.of(Long.parseLong(memory));
            usage.add(new GpuUsage(Integer.parseInt(index), pct, mib));
        }
        return usage;
    }

    /** A number of the given shape, or a value that only means "not stated". */
    private static boolean stated(String value, String number) {
        return value.matches(number) || NOT_STATED.contains(value);
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
