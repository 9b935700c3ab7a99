package coop.cli;

import coop.v1.CancelRequest;
import coop.v1.Job;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code coop cancel ID}: cancels a pending or running job. */
@Command(name = "cancel", mixinStandardHelpOptions = true,
        description = "Cancel a pending or running job; its running processes are stopped.")
final class CancelCommand extends ClientCommand {

    @Parameters(paramLabel = "ID", description = "The job.")
    long jobId;

    @Option(names = "--json", description = "Print the cancelled job as JSON.")
    boolean json;

    @Override
    int run() {
        Job job;
        try (Client c = client.connect()) {
            job = c.jobs().cancel(CancelRequest.newBuilder().setJobId(jobId).build());
        }
        if (json) {
            JsonOutput.print(out(), JsonOutput.job(job));
        } else {
            out().println("cancelled job " + jobId);
        }
        return 0;
    }
}
