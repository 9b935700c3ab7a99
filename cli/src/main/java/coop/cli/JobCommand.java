package coop.cli;

import coop.v1.Attempt;
import coop.v1.GetJobRequest;
import coop.v1.Job;
import coop.v1.JobState;
import coop.v1.Placement;
import java.io.PrintWriter;
import java.time.Duration;
import java.util.stream.Collectors;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code coop job ID}: one job in detail, with its attempts and why it waits. */
@Command(name = "job", mixinStandardHelpOptions = true,
        description = "Show one job: its request, state, why it waits, and every attempt with its placements.")
final class JobCommand extends ClientCommand {

    @Parameters(paramLabel = "ID", description = "The job.")
    long jobId;

    @Option(names = "--json", description = "Print the job as JSON.")
    boolean json;

    @Override
    int run() {
        Job job;
        try (Client c = client.connect()) {
            job = c.jobs().getJob(GetJobRequest.newBuilder().setJobId(jobId).build());
        }
        if (json) {
            JsonOutput.print(out(), JsonOutput.job(job));
        } else {
            describe(job, out());
        }
        return 0;
    }

    private void describe(Job job, PrintWriter out) {
        out.println("job " + job.getId() + (job.getName().isEmpty() ? "" : " (" + job.getName() + ")"));
        field(out, "state", JobText.state(job.getState()));
        if (job.getState() == JobState.PENDING || job.getState() == JobState.REVIEW) {
            field(out, "why pending", job.getWhyPending().isEmpty() ? "-" : job.getWhyPending());
        }
        field(out, "account", job.getAccount());
        field(out, "member", job.getMember());
        String gpus = Math.max(1, job.getNodes()) + " node(s) x " + job.getGpusPerNode() + " GPU(s), model "
                + (job.getGpuModel().isEmpty() ? "any" : job.getGpuModel())
                + (job.getCrossSite() ? ", may cross sites" : "");
        field(out, "gpus", gpus);
        field(out, "walltime", job.getWalltimeSeconds() == 0 ? "policy default"
                : Durations.format(Duration.ofSeconds(job.getWalltimeSeconds())));
        field(out, "priority", String.valueOf(job.getPriority()));
        field(out, "command", job.getCommand());
        field(out, "submitted", Times.iso(job.getSubmittedAtMs()));
        if (job.getFinishedAtMs() != 0) {
            field(out, "finished", Times.iso(job.getFinishedAtMs()));
        }
        field(out, "elapsed", JobText.elapsed(job, clock.instant()));
        if (job.getAttemptsCount() == 0) {
            field(out, "attempts", "none yet");
            return;
        }
        out.println("attempts:");
        for (Attempt attempt : job.getAttemptsList()) {
            StringBuilder line = new StringBuilder("  #" + attempt.getNumber()
                    + "  started " + Times.iso(attempt.getStartedAtMs()));
            if (attempt.getFinishedAtMs() != 0) {
                line.append("  finished ").append(Times.iso(attempt.getFinishedAtMs()));
            }
            line.append("  ").append(attempt.getGpus()).append(" GPU(s)");
            if (attempt.getOutcome().isEmpty()) {
                line.append("  running");
            } else {
                line.append("  ").append(attempt.getOutcome()).append(", exit code ").append(attempt.getExitCode());
            }
            out.println(line);
            for (int rank = 0; rank < attempt.getPlacementsCount(); rank++) {
                Placement p = attempt.getPlacements(rank);
                out.println("      rank " + rank + " on " + p.getNode()
                        + (p.getSite().isEmpty() ? "" : " (site " + p.getSite() + ")")
                        + " GPUs " + p.getGpuIndicesList().stream().map(String::valueOf).collect(Collectors.joining(","))
                        + (p.getGpuModel().isEmpty() ? "" : " " + p.getGpuModel()));
            }
        }
    }

    private static void field(PrintWriter out, String name, String value) {
        out.printf("  %-13s %s%n", name + ":", value);
    }
}
