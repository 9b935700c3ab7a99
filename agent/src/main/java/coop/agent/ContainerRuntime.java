package coop.agent;

import java.nio.file.Path;
import java.util.List;

/**
 * The container runtime an operator enables for container jobs ({@code coop agent
 * --container-runtime podman}): its binary, the host folders under which a job may mount its own
 * into its container ({@code --allow-mount}), and when images are pulled ({@code --container-pull};
 * {@code missing}, the default, pulls only what the node lacks).
 */
public record ContainerRuntime(Path binary, List<Path> allowedMounts, String pull) {

    /** The pull policies podman takes, as {@code --container-pull} names them. */
    public static final List<String> PULL = List.of("never", "missing", "always", "newer");

    public ContainerRuntime {
        allowedMounts = List.copyOf(allowedMounts);
        if (!PULL.contains(pull)) {
            throw new IllegalArgumentException("--container-pull must be one of " + String.join(", ", PULL)
                    + ", got '" + pull + "'");
        }
        for (Path p : allowedMounts) {
            if (!p.isAbsolute()) {
                throw new IllegalArgumentException("--allow-mount: paths must be absolute, got " + p);
            }
        }
    }

    /** The runtime's name, as the agent's Hello advertises it: "podman". */
    public String name() {
        return binary.getFileName().toString();
    }
}
