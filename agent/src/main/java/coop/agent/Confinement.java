package coop.agent;

import java.nio.file.Path;
import java.util.List;
import java.util.Objects;

/**
 * What a rank may touch on this node: the user it runs as, and under runc the container's
 * limits. {@code memoryPerGpuBytes} times the rank's GPUs (at least one) bounds its memory;
 * {@code pidsLimit} its processes and threads; {@code mounts} are the host folders the operator
 * shares with every job (a shared file system, datasets), besides the system folders mounted
 * read-only and the rank's own folders read-write; {@code deviceDir} is where the host's
 * {@code nvidia*} device nodes are ({@code /dev}); {@code containers} the container runtime that
 * runs container jobs' ranks ({@code --container-runtime}), null where the node runs none.
 */
public record Confinement(
        Isolation isolation, Path runtime, RunAs runAs, long memoryPerGpuBytes, long pidsLimit,
        List<Mount> mounts, Path deviceDir, ContainerRuntime containers) {

    /** The processes and threads a rank may have at once, unless the operator says otherwise. */
    public static final long DEFAULT_PIDS_LIMIT = 4096;

    /** A host folder shared with the ranks, at the same path inside, read-only unless said otherwise. */
    public record Mount(Path source, Path destination, boolean readOnly) {

        public Mount {
            Objects.requireNonNull(source, "source");
            Objects.requireNonNull(destination, "destination");
            if (!source.isAbsolute() || !destination.isAbsolute()) {
                throw new IllegalArgumentException("--mount: paths must be absolute, got " + source + ":" + destination);
            }
        }

        /**
         * {@code SRC[:DST][:ro|rw]}, read-only by default.
         *
         * @throws IllegalArgumentException naming {@code --mount} for a malformed entry
         */
        public static Mount parse(String text) {
            String[] parts = text.split(":", -1);
            if (parts.length == 0 || parts.length > 3 || parts[0].isBlank()) {
                throw new IllegalArgumentException("--mount: '" + text + "' is not SRC[:DST][:ro|rw]");
            }
            boolean readOnly = true;
            int n = parts.length;
            if (n > 1 && (parts[n - 1].equals("ro") || parts[n - 1].equals("rw"))) {
                readOnly = parts[n - 1].equals("ro");
                n--;
            }
            if (n > 2) {
                throw new IllegalArgumentException("--mount: '" + text + "' is not SRC[:DST][:ro|rw]");
            }
            Path source = Path.of(parts[0]);
            Path destination = n == 2 ? Path.of(parts[1]) : source;
            return new Mount(source, destination, readOnly);
        }
    }

    public Confinement {
        Objects.requireNonNull(isolation, "isolation");
        Objects.requireNonNull(runAs, "runAs");
        mounts = List.copyOf(mounts);
        Objects.requireNonNull(deviceDir, "deviceDir");
        if (isolation == Isolation.RUNC) {
            Objects.requireNonNull(runtime, "runtime");
            if (memoryPerGpuBytes <= 0) {
                throw new IllegalArgumentException("--mem-per-gpu must be positive, got " + memoryPerGpuBytes);
            }
            if (pidsLimit <= 0) {
                throw new IllegalArgumentException("--pids-limit must be positive, got " + pidsLimit);
            }
        }
    }

    /** A node that runs no container jobs. */
    public Confinement(Isolation isolation, Path runtime, RunAs runAs, long memoryPerGpuBytes, long pidsLimit,
                       List<Mount> mounts, Path deviceDir) {
        this(isolation, runtime, runAs, memoryPerGpuBytes, pidsLimit, mounts, deviceDir, null);
    }

    /** The same confinement, with container jobs run by {@code settings} (null: none). */
    public Confinement withContainers(ContainerRuntime settings) {
        return new Confinement(isolation, runtime, runAs, memoryPerGpuBytes, pidsLimit, mounts, deviceDir, settings);
    }

    /** No confinement: ranks in process groups of their own, as the agent's user. */
    public static Confinement none() {
        return new Confinement(Isolation.NONE, null, RunAs.agentUser(), 0, 0, List.of(), Path.of("/dev"));
    }

    /** Confinement {@code isolation} with these users and the defaults for the rest. */
    public static Confinement of(Isolation isolation, Path runtime, RunAs runAs, long memoryPerGpuBytes) {
        return new Confinement(isolation, runtime, runAs, memoryPerGpuBytes, DEFAULT_PIDS_LIMIT, List.of(),
                Path.of("/dev"));
    }

    /** For the start-up line and {@code coop node status}: "runc (memory 8 GiB per GPU, 4096 processes)". */
    public String describe() {
        String images = containers == null ? "" : "; container jobs by " + containers.name()
                + (containers.allowedMounts().isEmpty() ? "" : ", mounts under " + containers.allowedMounts().stream()
                .map(Path::toString).collect(java.util.stream.Collectors.joining(",")));
        if (isolation == Isolation.NONE) {
            return "none (process groups; jobs run " + runAs + images + ")";
        }
        return "runc (memory " + Sizes.text(memoryPerGpuBytes) + " per GPU, " + pidsLimit + " processes; jobs run "
                + runAs + images + ")";
    }
}
