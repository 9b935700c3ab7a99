package coop.scheduler.engine;

import coop.scheduler.domain.Gpu;
import coop.scheduler.domain.GpuUsage;
import coop.scheduler.domain.NodeFeatures;
import coop.scheduler.domain.RankRef;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/** A node as the loop tracks it: its session, GPUs and the ranks running there. */
final class NodeRuntime {
    final String name;
    String site;
    String address = "127.0.0.1";
    /** How its agent confines ranks, as its Hello said ("runc (memory 8 GiB per GPU, ...)"); empty if it did not. */
    String isolation = "";
    /** Its agent's shared checkpoint root (--checkpoint-root), as its Hello said; empty if it has none. */
    String checkpointRoot = "";
    /** What its agent offers besides GPUs (container runtimes, mounts), as its Hello said. */
    NodeFeatures features = NodeFeatures.NONE;
    List<Gpu> gpus = List.of();
    AgentLink link;
    long lastHeartbeat;
    /** The current session's heartbeats that the rpc edge recorded without the loop; null without a session. */
    Pulse pulse;
    /** From the latest heartbeat of the current session; not stored, it is stale by the next one. */
    List<GpuUsage> usage = List.of();
    long heartbeatLagMs;
    final Map<RankRef, List<Integer>> live = new LinkedHashMap<>();
    final Set<RankRef> missing = new HashSet<>();

    NodeRuntime(String name, String site) {
        this.name = name;
        this.site = site;
    }

    /** Takes in the heartbeats the edge recorded on the session's pulse since the loop last looked. */
    void foldPulse() {
        Pulse p = pulse;
        if (p != null) {
            long last = p.lastMs();
            if (last > lastHeartbeat) {
                lastHeartbeat = last;
                heartbeatLagMs = p.lagMs();
            }
        }
    }

    /** What a past session reported says nothing about the GPUs now. */
    void forgetTelemetry() {
        usage = List.of();
        heartbeatLagMs = 0;
    }

    Set<Integer> busyGpus() {
        Set<Integer> busy = new TreeSet<>();
        live.values().forEach(busy::addAll);
        return busy;
    }
}
