package coop.agent;

import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

/**
 * Ranks of container jobs ({@code coop submit --container IMAGE}) run through podman, as the
 * operator enables it on the agent ({@code --container-runtime podman}): one container per rank,
 * named after the node and the rank, run in the foreground so that the runtime's exit code is the
 * rank's and its output goes to the rank's files. A container gets the rank's user, its GPUs' device
 * nodes and nothing else of the host's devices, no capabilities, the host's network (a gang's ranks
 * reach each other as bare ranks do), the rank's folder and checkpoint folder at their own paths,
 * the operator's mounts and the job's (each under a folder the operator allows), and, where the
 * node confines ranks, the same memory and process limits as a bare rank under runc.
 *
 * <p>The job's variables reach the container through an environment file the agent keeps to
 * itself, never through the runtime's command line (which every local user may read) nor its
 * environment (the runtime runs as root, where a submitter's {@code LD_PRELOAD} would be theirs to
 * use). The container's first process is a small POSIX shell, as under runc, that forwards the
 * stop signals and a job's own {@code --signal} to the command: the first process of a PID
 * namespace ignores signals it has no handler for.
 */
final class Podman {

    /** Runs the command given as its arguments and forwards catchable signals to it; its exit code is the command's. */
    static final String INIT = "for s in TERM INT HUP QUIT USR1 USR2 ALRM CONT URG XCPU WINCH; do "
            + "trap \"kill -s $s \\\"\\$c\\\" 2>/dev/null\" \"$s\"; done; \"$@\" & c=$!; "
            + "while :; do wait \"$c\"; s=$?; kill -0 \"$c\" 2>/dev/null || exit \"$s\"; done";
    private static final long COMMAND_TIMEOUT_SECONDS = 30;

    /** What a rank's container holds and may use; {@code memoryBytes} and {@code pidsLimit} 0 for no limit. */
    record Spec(RankId rank, LocalUser user, String image, String command, Map<String, String> env, String cwd,
                List<Path> readWrite, List<Confinement.Mount> mounts, List<Integer> gpus, Path deviceDir,
                long memoryBytes, long pidsLimit) {
    }

    private final ContainerRuntime settings;
    private final Path state;
    private final String prefix;

    /**
     * @param state where the agent keeps each container's environment file, closed to everyone else
     * @param node the node's name: container names are unique on the host, and two agents may share one
     */
    Podman(ContainerRuntime settings, Path state, String node) {
        this.settings = settings;
        this.state = state;
        this.prefix = "coop-" + node.replaceAll("[^A-Za-z0-9_.-]", "_") + "-";
    }

    ContainerRuntime settings() {
        return settings;
    }

    String containerName(RankId rank) {
        return prefix + rank.jobId() + "." + rank.attempt() + "." + rank.rank();
    }

    /**
     * Whether the operator allows a job to mount {@code source}: it lies, with symbolic links
     * resolved, under a folder of {@code --allow-mount}, so a link cannot lead a mount elsewhere.
     *
     * @throws IOException naming the folder when it does not exist on this node
     */
    boolean allows(Path source) throws IOException {
        Path real;
        try {
            real = source.toRealPath();
        } catch (IOException e) {
            throw new IOException("mount source " + source + " does not exist");
        }
        for (Path allowed : settings.allowedMounts()) {
            Path root = Files.exists(allowed) ? allowed.toRealPath() : allowed.normalize();
            if (real.startsWith(root)) {
                return true;
            }
        }
        return false;
    }

    /** Whether the image is in the node's store (asked only when images are never pulled). */
    boolean hasImage(String image) {
        return Runc.run(List.of(settings.binary().toString(), "image", "exists", image)) == 0;
    }

    /**
     * Writes the container's environment file and returns the command that runs the rank's
     * container in the foreground.
     */
    List<String> prepare(Spec s) throws IOException {
        Files.createDirectories(state);
        Folders.restrict(state, "rwx------", -1, -1);
        Path envFile = envFile(s.rank());
        StringBuilder lines = new StringBuilder();
        s.env().forEach((k, v) -> {
            // Values over several lines are refused at submit; a line break here would start a new variable.
            if (k.indexOf('=') < 0 && v.indexOf('\n') < 0 && v.indexOf('\r') < 0 && v.indexOf('\0') < 0) {
                lines.append(k).append('=').append(v).append('\n');
            }
        });
        Files.deleteIfExists(envFile);
        Files.createFile(envFile, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
        Files.writeString(envFile, lines, StandardCharsets.UTF_8);
        List<String> argv = new ArrayList<>(List.of(settings.binary().toString(), "run", "--name",
                containerName(s.rank()), "--replace", "--pull", settings.pull(), "--log-driver", "none",
                "--user", s.user().uid() + ":" + s.user().gid(), "--network", "host", "--hostname",
                "rank-" + s.rank().rank(), "--cap-drop", "all", "--security-opt", "no-new-privileges",
                "--env-file", envFile.toString(), "--workdir", s.cwd(),
                "--label", "coop.rank=" + s.rank().jobId() + "." + s.rank().attempt() + "." + s.rank().rank()));
        long[] files = Runc.agentLimits("Max open files");
        long[] processes = Runc.agentLimits("Max processes");
        // The runtime's own defaults may exceed the host's hard limits, which no container may raise.
        argv.addAll(List.of("--ulimit", "nofile=" + files[1] + ":" + files[1]));
        // podman starts its monitor (conmon) with at most CONMON_NPROC processes, which no container may exceed.
        argv.addAll(List.of("--ulimit", "nproc=" + capped(processes[0]) + ":" + capped(processes[1])));
        if (s.memoryBytes() > 0) {
            argv.addAll(List.of("--memory", Long.toString(s.memoryBytes()), "--memory-swap",
                    Long.toString(s.memoryBytes()), "--shm-size", Long.toString(s.memoryBytes())));
        }
        if (s.pidsLimit() > 0) {
            argv.addAll(List.of("--pids-limit", Long.toString(s.pidsLimit())));
        }
        argv.addAll(List.of("--cpu-shares", Long.toString(1024L * Math.max(1, s.gpus().size()))));
        for (Path rw : s.readWrite()) {
            argv.addAll(List.of("--volume", rw + ":" + rw + ":rw"));
        }
        for (Confinement.Mount m : s.mounts()) {
            argv.addAll(List.of("--volume", m.source() + ":" + m.destination() + (m.readOnly() ? ":ro" : ":rw")));
        }
        if (!s.gpus().isEmpty()) {
            for (int gpu : s.gpus()) {
                device(argv, s.deviceDir().resolve("nvidia" + gpu), "/dev/nvidia" + gpu);
            }
            for (String shared : Runc.NVIDIA_SHARED) {
                device(argv, s.deviceDir().resolve(shared), "/dev/" + shared);
            }
        }
        argv.add(s.image());
        argv.addAll(List.of("/bin/sh", "-c", INIT, "coop-rank", "/bin/sh", "-c", s.command()));
        return argv;
    }

    private static void device(List<String> argv, Path host, String inside) {
        if (Files.exists(host)) {
            argv.addAll(List.of("--device", host + ":" + inside + ":rw"));
        }
    }

    private Path envFile(RankId rank) {
        return state.resolve(containerName(rank) + ".env");
    }

    /**
     * Sends the signal to every process of the rank's container but its first (which forwards
     * what it gets to the command, and would only pass it on twice); SIGKILL goes to the first
     * process, whose end ends the rest. False if nothing was left to signal.
     */
    boolean signal(RankId rank, ProcessLauncher.Signal signal) {
        if (signal == ProcessLauncher.Signal.KILL) {
            return signalFirst(rank, signal);
        }
        return Runc.run(List.of(settings.binary().toString(), "exec", containerName(rank), "/bin/sh", "-c",
                "kill -s " + signal.name() + " -1")) == 0;
    }

    /** Sends the signal to the container's first process, which passes it on to the command; false if it is gone. */
    boolean signalFirst(RankId rank, ProcessLauncher.Signal signal) {
        return Runc.run(List.of(settings.binary().toString(), "kill", "--signal", signal.name(), containerName(rank))) == 0;
    }

    /**
     * After the runtime's foreground process ended: why, in the user's words, if the kernel stopped
     * the rank for its memory; then the container and its environment file are removed.
     */
    Optional<String> finish(RankId rank, long memoryBytes) {
        Optional<String> why = Optional.empty();
        if (memoryBytes > 0 && "true".equals(output(List.of(settings.binary().toString(), "inspect", "--format",
                "{{.State.OOMKilled}}", containerName(rank))).strip())) {
            why = Optional.of("OOM: exceeded " + Sizes.text(memoryBytes));
        }
        delete(rank);
        return why;
    }

    /** Kills what is left of the rank's container and removes it; quiet if there is none. */
    void delete(RankId rank) {
        Runc.run(List.of(settings.binary().toString(), "rm", "--force", "--ignore", containerName(rank)));
        try {
            Files.deleteIfExists(envFile(rank));
        } catch (IOException e) {
            // Rewritten by the next start of the same rank; nothing else reads it.
        }
    }

    /** Removes every container of this node an earlier agent left, running or not. */
    void deleteLeftovers() {
        String names = output(List.of(settings.binary().toString(), "ps", "--all", "--format", "{{.Names}}"));
        for (String name : names.split("\n")) {
            if (name.startsWith(prefix)) {
                Runc.run(List.of(settings.binary().toString(), "rm", "--force", "--ignore", name.strip()));
            }
        }
    }

    /** The most processes podman 4 lets its monitor, conmon, and so every container, have. */
    static final long CONMON_NPROC = 32768;

    private static long capped(long limit) {
        return limit < 0 ? CONMON_NPROC : Math.min(limit, CONMON_NPROC);
    }

    private static String output(List<String> command) {
        try {
            Process p = new ProcessBuilder(command)
                    .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")))
                    .redirectError(ProcessBuilder.Redirect.DISCARD)
                    .start();
            byte[] out = p.getInputStream().readAllBytes();
            if (!p.waitFor(COMMAND_TIMEOUT_SECONDS, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                return "";
            }
            return new String(out, StandardCharsets.UTF_8);
        } catch (IOException e) {
            return "";
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return "";
        }
    }
}
