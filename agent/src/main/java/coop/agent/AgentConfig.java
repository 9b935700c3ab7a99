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
 * TLS certificate and key with the cooperative's CA (null: plaintext, for test schedulers), and
 * what its operator has it run besides ranks (health check, prolog, epilog, GPU job map).
 */
public record AgentConfig(
        String schedulerTarget, String node, String site, List<GpuDevice> gpus, Path workDir,
        String version, String advertiseAddress, String token, ClientTls tls, NodeHooks hooks) {

    public AgentConfig(String schedulerTarget, String node, String site, List<GpuDevice> gpus, Path workDir,
                       String version) {
        this(schedulerTarget, node, site, gpus, workDir, version, null, null, null);
    }

    public AgentConfig(String schedulerTarget, String node, String site, List<GpuDevice> gpus, Path workDir,
                       String version, String advertiseAddress, String token, ClientTls tls) {
        this(schedulerTarget, node, site, gpus, workDir, version, advertiseAddress, token, tls, NodeHooks.NONE);
    }

    public AgentConfig {
        requireText(schedulerTarget, "scheduler target");
        requireText(node, "node");
        requireText(site, "site");
        gpus = List.copyOf(Objects.requireNonNull(gpus, "gpus"));
        Objects.requireNonNull(workDir, "workDir");
        Objects.requireNonNull(version, "version");
        hooks = hooks == null ? NodeHooks.NONE : hooks;
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
