package coop.cli;

import coop.v1.CancelRequest;
import coop.v1.GetArrayRequest;
import coop.v1.Job;
import coop.v1.JobArray;
import io.grpc.StatusRuntimeException;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code coop cancel ID}: cancels a pending or running job. */
@Command(name = "cancel", mixinStandardHelpOptions = true,
        description = {"Cancel a pending or running job; its running processes are stopped.",
                "ID may be a job array: every task not yet finished is cancelled. One task: ARRAY_INDEX (122_7)."})
final class CancelCommand extends ClientCommand {

    @Parameters(paramLabel = "ID", converter = JobRef.Converter.class,
            description = "The job, a job array, or an array's task as ARRAY_INDEX.")
    JobRef ref;

    @Option(names = "--json", description = "Print the cancelled job (or array, with its tasks counted by state) "
            + "as JSON.")
    boolean json;

    @Override
    int run() {
        Job job;
        long jobId;
        try (Client c = client.connect()) {
            jobId = ref.jobId(c);
            try {
                job = c.jobs().cancel(CancelRequest.newBuilder().setJobId(jobId).build());
            } catch (StatusRuntimeException e) {
                if (ref.isTask() || !JobRef.notFound(e)) {
                    throw e;
                }
                JobArray array;
                try {
                    array = c.jobs().cancelArray(GetArrayRequest.newBuilder().setArrayId(ref.id()).build());
                } catch (StatusRuntimeException other) {
                    throw JobRef.notFound(other) ? e : other;
                }
                if (json) {
                    JsonOutput.print(out(), JsonOutput.jobArray(array));
                } else {
                    out().println("cancelled job array " + ref.id() + ": " + JobText.counts(array));
                }
                return 0;
            }
        }
        if (json) {
            JsonOutput.print(out(), JsonOutput.job(job));
        } else {
            out().println("cancelled job " + (ref.isTask() ? ref.id() + "_" + ref.index() + " (" + jobId + ")" : jobId));
        }
        return 0;
    }
}
