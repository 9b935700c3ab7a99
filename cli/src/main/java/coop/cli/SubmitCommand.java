package coop.cli;

import coop.v1.SubmitRequest;
import coop.v1.SubmitResponse;
import java.time.Duration;
import java.util.List;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code coop submit}: queues a job and prints its id. */
@Command(name = "submit", mixinStandardHelpOptions = true,
        description = {
                "Queue a job: a shell command run with bash -c on each of its nodes.",
                "Put the command after --; its words are joined with spaces.",
                "Example: coop submit --account lab-a --gpus 4 --nodes 2 --walltime 2h -- python train.py --lr 3e-4",
                "With --array, one task per index, each a job of its own that finds its index in $COOP_ARRAY_INDEX:",
                "  coop submit --account lab-a --gpus 1 --array 0-99 -- python sweep.py --trial '$COOP_ARRAY_INDEX'"})
final class SubmitCommand extends ClientCommand {

    @Option(names = "--account", required = true, paramLabel = "ACCOUNT",
            description = "Account charged for the GPU time; you must belong to it.")
    String account;

    @Option(names = "--gpus", required = true, paramLabel = "N", description = "GPUs wanted on each node (at least 1).")
    int gpus;

    @Option(names = "--gpu-model", paramLabel = "MODEL", description = "GPU model wanted, e.g. A100, or several: A100,H100 (default: any).")
    String gpuModel = "";

    @Option(names = "--nodes", paramLabel = "K", defaultValue = "1",
            description = "Nodes wanted; more than 1 makes a gang placed all or nothing (default: ${DEFAULT-VALUE}).")
    int nodes;

    @Option(names = "--walltime", paramLabel = "DURATION", converter = Durations.Converter.class,
            description = "Longest run time: 90s, 30m, 1h30m, 2d or seconds (default: the policy's).")
    Duration walltime;

    @Option(names = "--priority", paramLabel = "P", defaultValue = "0",
            description = "Order within the account; higher runs first (default: ${DEFAULT-VALUE}).")
    int priority;

    @Option(names = "--name", paramLabel = "NAME", description = "A name to recognise the job by.")
    String name = "";

    @Option(names = "--cross-site", description = "Allow the job's nodes to be at different sites.")
    boolean crossSite;

    @Option(names = "--no-preempt", description = "Never preempt this job; it then runs only within the "
            + "account's entitlement, never on borrowed GPUs.")
    boolean noPreempt;

    @Option(names = "--purpose", paramLabel = "NAME", description = "Declared purpose; the policy may send some "
            + "purposes to a review panel before the job may run.")
    String purpose = "";

    @Option(names = "--array", paramLabel = "INDICES", description = "Submit a job array: one task per index, as "
            + "in Slurm: 0-1999, 0-99:10 (every 10th), 1,5,7, or a mix (1-3,10). Indices are 0 or more; at most "
            + "10000 tasks, and each counts as a waiting job under the policy's max_pending_per_member.")
    String array = "";

    @Option(names = "--json", description = "Print {\"job_id\": N} instead of text (with --array also array_id and "
            + "array_tasks; job_id is then the first task's).")
    boolean json;

    @Parameters(arity = "1..*", paramLabel = "CMD", description = "The command to run, after --.")
    List<String> command;

    @Override
    int run() {
        SubmitRequest request = SubmitRequest.newBuilder()
                .setAccount(account)
                .setGpusPerNode(gpus)
                .setNodes(nodes)
                .setGpuModel(gpuModel)
                .setWalltimeSeconds(walltime == null ? 0 : walltime.toSeconds())
                .setCommand(String.join(" ", command))
                .setPriority(priority)
                .setName(name)
                .setCrossSite(crossSite)
                .setNoPreempt(noPreempt)
                .setPurpose(purpose)
                .setArray(array)
                .build();
        SubmitResponse response;
        try (Client c = client.connect()) {
            response = c.jobs().submit(request);
        }
        if (json) {
            var o = JsonOutput.object().put("job_id", response.getJobId());
            if (response.getArrayId() != 0) {
                o.put("array_id", response.getArrayId()).put("array_tasks", response.getArrayTasks());
            }
            JsonOutput.print(out(), o);
        } else if (response.getArrayId() != 0) {
            out().println("submitted job array " + response.getArrayId() + " (" + response.getArrayTasks()
                    + " tasks, jobs " + response.getJobId() + "-" + (response.getJobId() + response.getArrayTasks() - 1)
                    + ")");
        } else {
            out().println("submitted job " + response.getJobId());
        }
        return 0;
    }
}
