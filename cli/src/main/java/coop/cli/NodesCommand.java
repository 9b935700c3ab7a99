package coop.cli;

import coop.v1.Gpu;
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
        Table table = new Table("NODE", "SITE", "STATE", "GPUS", "BUSY", "JOBS");
        for (NodeInfo node : nodes) {
            table.row(node.getName(), node.getSite(), node.getState() + (node.getDraining() ? ",draining" : "")
                            + (node.getOffered() || node.getWindowsCount() == 0 ? "" : ",closed"),
                    gpus(node.getGpusList()),
                    node.getBusyGpuIndicesCount() + "/" + node.getGpusCount(),
                    node.getRunningJobIdsList().stream().map(String::valueOf).collect(Collectors.joining(",")));
        }
        table.print(out());
        return 0;
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
