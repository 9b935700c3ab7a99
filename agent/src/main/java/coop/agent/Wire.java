package coop.agent;

import coop.v1.AgentMessage;
import coop.v1.AttemptExited;
import coop.v1.AttemptRef;
import coop.v1.Gpu;
import coop.v1.Heartbeat;
import coop.v1.Hello;
import coop.v1.NodeHealth;
import java.util.List;

/** Conversions between the agent's records and the messages of the {@code Nodes.Connect} stream. */
final class Wire {

    private Wire() {
    }

    /** The Hello that opens a session: who this node is, its GPUs, and the ranks it is running. */
    static Hello hello(AgentConfig config, List<AttemptRef> running) {
        Hello.Builder hello = Hello.newBuilder()
                .setNode(config.node())
                .setSite(config.site())
                .addAllRunning(running)
                .setVersion(config.version())
                .setIsolation(config.confinement().describe());
        if (config.advertiseAddress() != null) {
            hello.setAddress(config.advertiseAddress());
        }
        if (config.checkpointRoot() != null) {
            hello.setCheckpointRoot(config.checkpointRoot().toString());
        }
        ContainerRuntime containers = config.confinement().containers();
        if (containers != null) {
            hello.addContainerRuntimes(containers.name());
            containers.allowedMounts().forEach(p -> hello.addAllowedMounts(p.toString()));
        }
        hello.setMemoryPerGpuMib(memoryPerGpuMib(config.confinement(), config.gpus().size(),
                HostMemory.totalBytes()));
        for (GpuDevice gpu : config.gpus()) {
            hello.addGpus(Gpu.newBuilder()
                    .setIndex(gpu.index()).setModel(gpu.model()).setMemoryMib(gpu.memoryMib()));
        }
        return hello.build();
    }

    /**
     * What a rank gets per GPU it holds, in MiB: the confinement's limit where it sets one, else the
     * node's memory ({@code totalBytes}, 0 when unknown) shared out over its GPUs.
     */
    static long memoryPerGpuMib(Confinement confinement, int gpus, long totalBytes) {
        long bytes = confinement.memoryPerGpuBytes() > 0 ? confinement.memoryPerGpuBytes()
                : totalBytes / Math.max(1, gpus);
        return bytes / (1024 * 1024);
    }

    /** A heartbeat: the ranks running, and each GPU's usage as last sampled. */
    static Heartbeat heartbeat(long sentAtMs, List<AttemptRef> running, List<GpuUsage> usage) {
        Heartbeat.Builder beat = Heartbeat.newBuilder()
                .setSentAtMs(sentAtMs)
                .addAllRunning(running);
        for (GpuUsage u : usage) {
            coop.v1.GpuUsage.Builder gpu = coop.v1.GpuUsage.newBuilder().setIndex(u.index());
            u.utilizationPct().ifPresent(gpu::setUtilizationPct);
            u.memoryUsedMib().ifPresent(gpu::setMemoryUsedMib);
            beat.addGpus(gpu);
        }
        return beat.build();
    }

    static AgentMessage exited(RankExit exit) {
        return AgentMessage.newBuilder()
                .setExited(AttemptExited.newBuilder()
                        .setRef(refOf(exit.rank()))
                        .setExitCode(exit.exitCode())
                        .setReason(exit.reason().wire())
                        .setEndedAtMs(exit.endedAtMs())
                        .setWhy(exit.why()))
                .build();
    }

    /** What the node found of its own health; the reason is cut to what the scheduler shows. */
    static AgentMessage health(boolean healthy, String reason) {
        String why = healthy || reason == null ? "" : reason.length() > 200 ? reason.substring(0, 200) : reason;
        return AgentMessage.newBuilder()
                .setHealth(NodeHealth.newBuilder().setHealthy(healthy).setReason(why))
                .build();
    }

    static RankId rankOf(AttemptRef ref) {
        return new RankId(ref.getJobId(), ref.getAttempt(), ref.getRank());
    }

    static AttemptRef refOf(RankId id) {
        return AttemptRef.newBuilder()
                .setJobId(id.jobId()).setAttempt(id.attempt()).setRank(id.rank()).build();
    }
}
