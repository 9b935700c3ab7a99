package coop.cli;

import coop.v1.Gpu;
import coop.v1.GpuUsage;
import coop.v1.ListNodesRequest;
import coop.v1.NodeInfo;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code coop nodes}: the nodes the scheduler knows, their GPUs and what runs on them. */
@Command(name = "nodes", mixinStandardHelpOptions = true,
        description = "List the cooperative's nodes: site, state, GPUs, how many are busy and which jobs run there.")
final class NodesCommand extends ClientCommand {

    @Option(names = "--json", description = "Print a JSON array of nodes.")
    boolean json;

    @Override
    int run() {
        List<NodeInfo> nodes;
        try (Client c = client.connectOptionalIdentity()) {
            nodes = c.nodes().listNodes(ListNodesRequest.getDefaultInstance()).getNodesList();
        }
        if (json) {
            JsonOutput.print(out(), JsonOutput.array(nodes, JsonOutput::node));
            return 0;
        }
        // Usage columns only when some agent reports usage: simulated nodes have none to show.
        boolean usage = nodes.stream().anyMatch(n -> n.getGpuUsageCount() > 0);
        // Why a node drains, as Slurm's sinfo -R shows it, only when one does.
        boolean reasons = nodes.stream().anyMatch(n -> n.getDraining() && !drainText(n).isEmpty());
        List<String> header = new java.util.ArrayList<>(List.of("NODE", "SITE", "STATE", "GPUS", "BUSY"));
        if (usage) {
            header.addAll(List.of("UTIL", "MEM"));
        }
        header.add("JOBS");
        // The purposes operators refuse, only when one does.
        boolean refusing = nodes.stream().anyMatch(n -> n.getRefusedPurposesCount() > 0);
        if (refusing) {
            header.add("REFUSES");
        }
        if (reasons) {
            header.add("REASON");
        }
        Table table = new Table(header.toArray(String[]::new));
        for (NodeInfo node : nodes) {
            List<String> row = new java.util.ArrayList<>(List.of(node.getName(), node.getSite(),
                    node.getState() + (node.getDraining() ? ",draining" : "")
                            + (node.getOffered() || node.getWindowsCount() == 0 ? "" : ",closed"),
                    gpus(node.getGpusList()),
                    node.getBusyGpuIndicesCount() + "/" + node.getGpusCount()));
            if (usage) {
                row.add(utilization(node));
                row.add(memory(node));
            }
            row.add(node.getRunningJobIdsList().stream().map(String::valueOf).collect(Collectors.joining(",")));
            if (refusing) {
                row.add(String.join(",", node.getRefusedPurposesList()));
            }
            if (reasons) {
                row.add(node.getDraining() ? drainText(node) : "");
            }
            table.row(row.toArray(String[]::new));
        }
        table.print(out());
        return 0;
    }

    /**
     * Why the node drains: its operator's reason as given ({@code disk swap}), its health check's
     * after {@code health check: }, both joined by {@code ; }; empty when it does not drain or its
     * operator gave no reason.
     */
    static String drainText(NodeInfo node) {
        List<String> parts = new java.util.ArrayList<>();
        if (!node.getDrainReason().isEmpty()) {
            parts.add(node.getDrainReason());
        }
        if (!node.getHealthDrain().isEmpty()) {
            parts.add("health check: " + node.getHealthDrain());
        }
        return String.join("; ", parts);
    }

    /**
     * Mean utilization of the GPUs whose utilization the agent reported, such as {@code 63%};
     * {@code -} when it reported none (simulated GPUs, nvidia-smi failing, all GPUs in MIG mode).
     */
    static String utilization(NodeInfo node) {
        List<GpuUsage> stated = node.getGpuUsageList().stream().filter(GpuUsage::hasUtilizationPct).toList();
        if (stated.isEmpty()) {
            return "-";
        }
        return Math.round(stated.stream().mapToInt(GpuUsage::getUtilizationPct).average().orElse(0)) + "%";
    }

    /** Memory in use over the memory of the GPUs that reported it, in GiB, such as {@code 412/640G}; else {@code -}. */
    static String memory(NodeInfo node) {
        Map<Integer, Long> total = node.getGpusList().stream()
                .collect(Collectors.toMap(Gpu::getIndex, Gpu::getMemoryMib, (a, b) -> a));
        long used = 0;
        long of = 0;
        boolean any = false;
        for (GpuUsage u : node.getGpuUsageList()) {
            if (u.hasMemoryUsedMib()) {
                any = true;
                used += u.getMemoryUsedMib();
                of += total.getOrDefault(u.getIndex(), 0L);
            }
        }
        if (!any) {
            return "-";
        }
        return Math.round(used / 1024.0) + (of > 0 ? "/" + Math.round(of / 1024.0) : "") + "G";
    }

    /**
     * One line per GPU whose usage the agent reported, for {@code coop node status}, such as
     * {@code gpu 0: 97% busy, 61234 of 81920 MiB in use}.
     */
    static List<String> usageLines(NodeInfo node) {
        Map<Integer, Long> total = node.getGpusList().stream()
                .collect(Collectors.toMap(Gpu::getIndex, Gpu::getMemoryMib, (a, b) -> a));
        return node.getGpuUsageList().stream().map(u -> "gpu " + u.getIndex() + ": "
                + (u.hasUtilizationPct() ? u.getUtilizationPct() + "% busy" : "utilization not reported")
                + (u.hasMemoryUsedMib() ? ", " + u.getMemoryUsedMib()
                        + (total.getOrDefault(u.getIndex(), 0L) > 0 ? " of " + total.get(u.getIndex()) : "")
                        + " MiB in use" : "")).toList();
    }

    /** {@code 8xA100}, or {@code 4xA100+4xH100} for a mixed node. */
    static String gpus(List<Gpu> gpus) {
        Map<String, Integer> byModel = new LinkedHashMap<>();
        for (Gpu gpu : gpus) {
            byModel.merge(gpu.getModel().isEmpty() ? "?" : gpu.getModel(), 1, Integer::sum);
        }
        return byModel.entrySet().stream().map(e -> e.getValue() + "x" + e.getKey()).collect(Collectors.joining("+"));
    }
}
