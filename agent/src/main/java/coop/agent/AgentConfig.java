package coop.agent;

import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Objects;
import java.util.Set;

/**
 * Everything an agent needs to know about itself: the scheduler to dial ({@code host:port}),
 * the node's name and site as the cooperative knows them, its GPUs, the directory under which
 * ranks run and keep their output, the version it reports in its Hello, the address its peers
 * reach it at (null: the scheduler takes the one it sees), the node's secret token from
 * its identity file (null only against test schedulers that do not check it), the node's
 * TLS certificate and key with the cooperative's CA (null: plaintext, for test schedulers), how
 * its ranks are confined (the users they run as and, under runc, their containers' limits), how
 * long a rank's folder is kept after it ended ({@link java.time.Duration#ZERO}: for ever), and
 * what its operator has it run besides ranks (health check, prolog, epilog, GPU job map), and the
 * site's shared folder for checkpoints (null: they stay under the work directory).
 */
public record AgentConfig(
        String schedulerTarget, String node, String site, List<GpuDevice> gpus, Path workDir,
        String version, String advertiseAddress, String token, ClientTls tls, Confinement confinement,
        java.time.Duration retain, NodeHooks hooks, Path checkpointRoot) {

    /** An agent that keeps checkpoints under its work directory. */
    public AgentConfig(String schedulerTarget, String node, String site, List<GpuDevice> gpus, Path workDir,
                       String version, String advertiseAddress, String token, ClientTls tls, Confinement confinement,
                       java.time.Duration retain, NodeHooks hooks) {
        this(schedulerTarget, node, site, gpus, workDir, version, advertiseAddress, token, tls, confinement, retain,
                hooks, null);
    }

    public AgentConfig(String schedulerTarget, String node, String site, List<GpuDevice> gpus, Path workDir,
                       String version) {
        this(schedulerTarget, node, site, gpus, workDir, version, null, null, null);
    }

    /** An agent whose ranks run unconfined, as its own user: for tests, the demo and the benchmarks. */
    public AgentConfig(String schedulerTarget, String node, String site, List<GpuDevice> gpus, Path workDir,
                       String version, String advertiseAddress, String token, ClientTls tls) {
        this(schedulerTarget, node, site, gpus, workDir, version, advertiseAddress, token, tls, Confinement.none(),
                java.time.Duration.ZERO, NodeHooks.NONE);
    }

    public AgentConfig {
        requireText(schedulerTarget, "scheduler target");
        requireText(node, "node");
        requireText(site, "site");
        gpus = List.copyOf(Objects.requireNonNull(gpus, "gpus"));
        Objects.requireNonNull(workDir, "workDir");
        Objects.requireNonNull(version, "version");
        Objects.requireNonNull(confinement, "confinement");
        Objects.requireNonNull(retain, "retain");
        if (retain.isNegative()) {
            throw new IllegalArgumentException("--retain must not be negative, got " + retain);
        }
        hooks = hooks == null ? NodeHooks.NONE : hooks;
        if (checkpointRoot != null && !checkpointRoot.isAbsolute()) {
            throw new IllegalArgumentException("--checkpoint-root must be an absolute path, got " + checkpointRoot);
        }
        // CUDA_VISIBLE_DEVICES names GPUs by index, so two GPUs with one index would be one GPU twice.
        Set<Integer> seen = new HashSet<>();
        for (GpuDevice gpu : gpus) {
            if (!seen.add(gpu.index())) {
                throw new IllegalArgumentException("GPU index " + gpu.index() + " appears twice");
            }
        }
    }

    private static void requireText(String value, String what) {
        if (value == null || value.isBlank()) {
            throw new IllegalArgumentException(what + " must not be blank");
        }
    }
}
