package coop.agent;

import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

/**
 * Ranks in containers of the OCI runtime runc: a bundle per rank (an empty read-only root, the
 * host's system folders bound read-only, the rank's folders read-write, only its GPUs' device
 * nodes), its cgroup's limits, and the runtime's own {@code kill} and {@code delete}. The cgroup
 * code is runc's, well tried on cgroup v1 and v2 hosts alike; the agent only writes the spec and
 * reads two counters (out-of-memory kills, refused forks) to say why a rank ended.
 *
 * <p>The container's first process is a small bash that starts the rank's command and waits for
 * it. It is there because the first process of a PID namespace ignores signals it has no handler
 * for: a rank that does not handle SIGTERM would otherwise sit out the whole grace period. When it
 * exits, the kernel ends every other process in the namespace, so nothing a rank started, however
 * it left its process group, outlives it.
 */
final class Runc {

    /** The rank's command runs as this script's arguments; its exit code is the container's. */
    static final String INIT = "trap 'kill -TERM \"$c\" 2>/dev/null' TERM INT HUP; \"$@\" & c=$!; "
            + "while :; do wait \"$c\"; s=$?; kill -0 \"$c\" 2>/dev/null || exit \"$s\"; done";
    /** Host folders a rank needs to find its programs and libraries; each bound read-only if present. */
    static final List<String> SYSTEM_FOLDERS = List.of("/usr", "/etc", "/bin", "/sbin", "/lib", "/lib32", "/lib64",
            "/libx32", "/opt");
    /** Device nodes every NVIDIA process needs besides its GPUs', where the host has them. */
    static final List<String> NVIDIA_SHARED = List.of("nvidiactl", "nvidia-uvm", "nvidia-uvm-tools", "nvidia-modeset");
    /** The NVIDIA driver's character device major number. */
    static final int NVIDIA_MAJOR = 195;
    private static final long COMMAND_TIMEOUT_SECONDS = 30;
    /**
     * Where runc keeps its containers' state: its default, {@code /run/runc}, unless systemd gave
     * the agent a runtime folder ({@code RuntimeDirectory=}, the one writable place under
     * {@code /run} for a service with {@code ProtectSystem=strict}).
     */
    static final Path STATE = System.getenv("RUNTIME_DIRECTORY") != null
            ? Path.of(System.getenv("RUNTIME_DIRECTORY").split(":")[0], "runc") : Path.of("/run/runc");

    private final Path runtime;
    private final Path bundles;
    private final Path cgroupRoot;
    private final String prefix;

    /**
     * @param runtime the runc binary
     * @param bundles where the agent writes one bundle folder per rank
     * @param node the node's name: container ids are unique on the host, and two agents may share one
     */
    Runc(Path runtime, Path bundles, String node) {
        this.runtime = runtime;
        this.bundles = bundles;
        this.cgroupRoot = Path.of("/sys/fs/cgroup");
        this.prefix = "coop-" + node.replaceAll("[^A-Za-z0-9_.-]", "_") + "-";
    }

    String containerId(RankId rank) {
        return prefix + rank.jobId() + "." + rank.attempt() + "." + rank.rank();
    }

    /** The cgroup path in the spec: under {@code /coop}, beside whatever runs the agent. */
    private String cgroupPath(RankId rank) {
        return "/coop/" + containerId(rank);
    }

    /** What a rank's container holds and may use. */
    record Spec(RankId rank, LocalUser user, List<String> argv, Map<String, String> env, Path cwd,
                List<Path> readWrite, List<Integer> gpus, long memoryBytes, long pidsLimit,
                List<Confinement.Mount> mounts, Path deviceDir) {
    }

    /**
     * Writes the rank's bundle and returns the command that runs it in the foreground: the
     * runtime's own exit code is the rank's, and {@code --keep} leaves the stopped container (and
     * its cgroup's counters) for {@link #finish} to read.
     */
    List<String> prepare(Spec spec) throws IOException {
        // A container of the same id left by an agent that died mid-start would refuse the run. Its
        // state folder tells without a runtime process of its own (a third of a short rank's cost).
        if (Files.exists(STATE.resolve(containerId(spec.rank())))) {
            delete(spec.rank());
        }
        Path bundle = bundles.resolve(containerId(spec.rank()));
        Files.createDirectories(bundle.resolve("rootfs"));
        Files.writeString(bundle.resolve("config.json"), specJson(spec), StandardCharsets.UTF_8);
        return List.of(runtime.toString(), "--root", STATE.toString(), "run", "--keep", "--bundle", bundle.toString(),
                containerId(spec.rank()));
    }

    /** Sends the signal to every process of the rank's container; false if none was left. */
    boolean signal(RankId rank, ProcessLauncher.Signal signal) {
        return run(List.of(runtime.toString(), "--root", STATE.toString(), "kill", "--all", containerId(rank),
                signal.name())) == 0;
    }

    /** Sends the signal to the container's first process alone; false if it is gone. */
    boolean signalFirst(RankId rank, ProcessLauncher.Signal signal) {
        return run(List.of(runtime.toString(), "--root", STATE.toString(), "kill", containerId(rank),
                signal.name())) == 0;
    }

    /**
     * After the container's first process ended: why, in the user's words, if its cgroup says the
     * kernel stopped it (out of memory, or forks refused at the process limit); then the container,
     * its cgroup and its bundle are removed, which also kills anything still in it.
     */
    Optional<String> finish(RankId rank, int exitCode, long memoryBytes, long pidsLimit) {
        Optional<String> why = Optional.empty();
        if (counter(rank, "memory", "memory.events", "memory.oom_control", "oom_kill") > 0) {
            why = Optional.of("OOM: exceeded " + Sizes.text(memoryBytes));
        } else if (exitCode != 0 && counter(rank, "pids", "pids.events", "pids.events", "max") > 0) {
            why = Optional.of("PID limit of " + pidsLimit + " processes reached");
        }
        delete(rank);
        return why;
    }

    /** Kills what is left of the container and removes it and its bundle; quiet if there is none. */
    void delete(RankId rank) {
        run(List.of(runtime.toString(), "--root", STATE.toString(), "delete", "--force", containerId(rank)));
        Path bundle = bundles.resolve(containerId(rank));
        try {
            Files.deleteIfExists(bundle.resolve("config.json"));
            Files.deleteIfExists(bundle.resolve("rootfs"));
            Files.deleteIfExists(bundle);
        } catch (IOException e) {
            // A bundle left behind is overwritten by the next start of the same id; nothing depends on it.
        }
    }

    /** A counter from the container's cgroup: v2's file if the host is v2, else v1's controller's. */
    private long counter(RankId rank, String controller, String v2File, String v1File, String key) {
        Path file = Files.exists(cgroupRoot.resolve("cgroup.controllers"))
                ? cgroupRoot.resolve(cgroupPath(rank).substring(1)).resolve(v2File)
                : cgroupRoot.resolve(controller).resolve(cgroupPath(rank).substring(1)).resolve(v1File);
        try {
            for (String line : Files.readAllLines(file)) {
                String[] f = line.trim().split("\\s+");
                if (f.length == 2 && f[0].equals(key)) {
                    return Long.parseLong(f[1]);
                }
            }
        } catch (IOException | NumberFormatException e) {
            // No cgroup (the container is gone already) or an old kernel without the counter: no reason to give.
        }
        return 0;
    }

    static int run(List<String> command) {
        try {
            Process p = new ProcessBuilder(command)
                    .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")))
                    .redirectOutput(ProcessBuilder.Redirect.DISCARD)
                    .redirectError(ProcessBuilder.Redirect.DISCARD)
                    .start();
            if (!p.waitFor(COMMAND_TIMEOUT_SECONDS, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                return -1;
            }
            return p.exitValue();
        } catch (IOException e) {
            return -1;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return -1;
        }
    }

    /** The OCI runtime spec (1.0) of a rank's container. */
    String specJson(Spec s) throws IOException {
        Json j = new Json();
        j.open().key("ociVersion").str("1.0.2");
        j.key("process").open()
                .key("terminal").raw("false")
                .key("user").open().key("uid").num(s.user().uid()).key("gid").num(s.user().gid()).close();
        long files = openFilesLimit();
        List<String> args = new ArrayList<>(List.of("bash", "-c", INIT, "coop-rank"));
        args.addAll(s.argv());
        j.key("args").strs(args);
        List<String> env = new ArrayList<>();
        s.env().forEach((k, v) -> {
            if (k.indexOf('=') < 0 && k.indexOf('\0') < 0 && v.indexOf('\0') < 0) {
                env.add(k + "=" + v);
            }
        });
        j.key("env").strs(env)
                .key("cwd").str(s.cwd().toString())
                .key("noNewPrivileges").raw("true")
                .key("capabilities").open()
                .key("bounding").strs(List.of()).key("effective").strs(List.of())
                .key("permitted").strs(List.of()).key("ambient").strs(List.of()).close()
                .key("rlimits").array().open().key("type").str("RLIMIT_NOFILE").key("hard").num(files)
                .key("soft").num(files).close().end()
                .close();
        j.key("root").open().key("path").str("rootfs").key("readonly").raw("true").close();
        j.key("hostname").str("rank-" + s.rank().rank());
        j.key("mounts").array();
        mount(j, "/proc", "proc", "proc", List.of("nosuid", "noexec", "nodev"));
        mount(j, "/dev", "tmpfs", "tmpfs", List.of("nosuid", "strictatime", "mode=755", "size=65536k"));
        mount(j, "/dev/pts", "devpts", "devpts", List.of("nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620"));
        // Shared memory is what NCCL and data loaders pass tensors through: as large as the memory limit.
        mount(j, "/dev/shm", "tmpfs", "shm", List.of("nosuid", "nodev", "mode=1777", "size=" + s.memoryBytes()));
        mount(j, "/dev/mqueue", "mqueue", "mqueue", List.of("nosuid", "noexec", "nodev"));
        mount(j, "/sys", "sysfs", "sysfs", List.of("nosuid", "noexec", "nodev", "ro"));
        mount(j, "/tmp", "tmpfs", "tmpfs", List.of("nosuid", "nodev", "mode=1777"));
        for (String folder : SYSTEM_FOLDERS) {
            Path p = Path.of(folder);
            if (Files.isDirectory(p)) {
                mount(j, folder, "bind", p.toRealPath().toString(), List.of("rbind", "ro", "nosuid", "nodev"));
            }
        }
        for (Confinement.Mount m : s.mounts()) {
            mount(j, m.destination().toString(), "bind", m.source().toString(),
                    List.of("rbind", m.readOnly() ? "ro" : "rw", "nosuid", "nodev"));
        }
        for (Path rw : s.readWrite()) {
            mount(j, rw.toString(), "bind", rw.toString(), List.of("rbind", "rw", "nosuid", "nodev"));
        }
        j.end();
        j.key("linux").open();
        j.key("namespaces").array();
        for (String ns : List.of("pid", "ipc", "uts", "mount")) {
            j.open().key("type").str(ns).close();
        }
        j.end();
        j.key("cgroupsPath").str(cgroupPath(s.rank()));
        List<long[]> devices = new ArrayList<>();
        j.key("devices").array();
        for (int gpu : s.gpus()) {
            device(j, devices, s.deviceDir().resolve("nvidia" + gpu), "/dev/nvidia" + gpu);
        }
        for (String shared : NVIDIA_SHARED) {
            if (!s.gpus().isEmpty()) {
                device(j, devices, s.deviceDir().resolve(shared), "/dev/" + shared);
            }
        }
        j.end();
        j.key("resources").open().key("devices").array();
        j.open().key("allow").raw("false").key("access").str("rwm").close();
        // The devices every container has: null, zero, full, random, urandom, tty, ptmx and the ptys.
        for (long[] d : List.of(new long[] {1, 3}, new long[] {1, 5}, new long[] {1, 7}, new long[] {1, 8},
                new long[] {1, 9}, new long[] {5, 0}, new long[] {5, 2})) {
            j.open().key("allow").raw("true").key("type").str("c").key("major").num(d[0]).key("minor").num(d[1])
                    .key("access").str("rwm").close();
        }
        j.open().key("allow").raw("true").key("type").str("c").key("major").num(136).key("access").str("rwm").close();
        for (long[] d : devices) {
            j.open().key("allow").raw("true").key("type").str("c").key("major").num(d[0]).key("minor").num(d[1])
                    .key("access").str("rw").close();
        }
        j.end();
        j.key("memory").open().key("limit").num(s.memoryBytes());
        if (swapAccounted()) {
            // Memory plus swap at the same limit: a rank past its memory is stopped, not swapped out.
            j.key("swap").num(s.memoryBytes());
        }
        j.close();
        j.key("pids").open().key("limit").num(s.pidsLimit()).close();
        // CPU time shared by GPUs held: a rank with 4 GPUs weighs four times one with 1.
        j.key("cpu").open().key("shares").num(1024L * Math.max(1, s.gpus().size())).close();
        j.close();
        j.key("maskedPaths").strs(List.of("/proc/acpi", "/proc/kcore", "/proc/keys", "/proc/latency_stats",
                "/proc/timer_list", "/proc/sched_debug", "/proc/scsi", "/sys/firmware"));
        j.key("readonlyPaths").strs(List.of("/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"));
        j.close();
        j.close();
        return j.toString();
    }

    /** Adds a host device node, with its own numbers, if the host has it. */
    private static void device(Json j, List<long[]> devices, Path host, String inside) throws IOException {
        if (!Files.exists(host)) {
            return;
        }
        long rdev = ((Number) Files.getAttribute(host, "unix:rdev")).longValue();
        // Linux's dev_t: major in bits 8-19 and 32-43, minor in bits 0-7 and 20-31.
        long major = ((rdev >>> 8) & 0xfff) | ((rdev >>> 32) & ~0xfffL);
        long minor = (rdev & 0xff) | ((rdev >>> 12) & ~0xffL);
        devices.add(new long[] {major, minor});
        j.open().key("path").str(inside).key("type").str("c").key("major").num(major).key("minor").num(minor)
                .key("fileMode").num(0666).key("uid").num(0).key("gid").num(0).close();
    }

    private static void mount(Json j, String destination, String type, String source, List<String> options) {
        j.open().key("destination").str(destination).key("type").str(type).key("source").str(source)
                .key("options").strs(options).close();
    }

    /** Whether the host accounts swap in cgroups: setting a swap limit where it does not is an error. */
    private boolean swapAccounted() {
        return Files.exists(cgroupRoot.resolve("memory/memory.memsw.limit_in_bytes"))
                || Files.exists(cgroupRoot.resolve("cgroup.controllers"));
    }

    /** The open-files limit ranks get: the agent's own hard limit, since none may be raised above it. */
    private static long openFilesLimit() {
        long hard = agentLimits("Max open files")[1];
        return hard < 0 ? 1 << 20 : hard;
    }

    /**
     * The agent's own soft and hard limit, as {@code /proc/self/limits} names it (-1: unlimited);
     * 1024 for both where it cannot tell, a limit every host allows.
     */
    static long[] agentLimits(String name) {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/limits"))) {
                if (line.startsWith(name)) {
                    String[] f = line.substring(name.length()).trim().split("\\s+");
                    return new long[] {limit(f[0]), limit(f[1])};
                }
            }
        } catch (IOException | RuntimeException e) {
            // Fall through to a limit every host allows.
        }
        return new long[] {1024, 1024};
    }

    private static long limit(String text) {
        return text.equals("unlimited") ? -1 : Long.parseLong(text);
    }

    /** Just enough of a JSON writer for a runtime spec. */
    private static final class Json {
        private final StringBuilder out = new StringBuilder();
        private boolean first = true;

        private Json comma() {
            if (!first) {
                out.append(',');
            }
            first = false;
            return this;
        }

        Json open() {
            comma();
            out.append('{');
            first = true;
            return this;
        }

        Json close() {
            out.append('}');
            first = false;
            return this;
        }

        Json array() {
            out.append('[');
            first = true;
            return this;
        }

        Json end() {
            out.append(']');
            first = false;
            return this;
        }

        Json key(String k) {
            comma();
            quote(k);
            out.append(':');
            first = true;
            return this;
        }

        Json str(String s) {
            comma();
            quote(s);
            return this;
        }

        Json num(long n) {
            comma();
            out.append(n);
            return this;
        }

        Json raw(String r) {
            comma();
            out.append(r);
            return this;
        }

        Json strs(List<String> values) {
            array();
            values.forEach(this::str);
            return end();
        }

        private void quote(String s) {
            out.append('"');
            for (int i = 0; i < s.length(); i++) {
                char c = s.charAt(i);
                switch (c) {
                    case '"' -> out.append("\\\"");
                    case '\\' -> out.append("\\\\");
                    case '\n' -> out.append("\\n");
                    case '\r' -> out.append("\\r");
                    case '\t' -> out.append("\\t");
                    default -> {
                        if (c < 0x20) {
                            out.append(String.format("\\u%04x", (int) c));
                        } else {
                            out.append(c);
                        }
                    }
                }
            }
            out.append('"');
        }

        @Override
        public String toString() {
            return out.toString();
        }
    }
}
