package coop.cli;

import coop.scheduler.domain.Plural;
import coop.v1.Attempt;
import coop.v1.GetArrayRequest;
import coop.v1.GetJobRequest;
import coop.v1.JobArray;
import io.grpc.StatusRuntimeException;
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
        description = {"Show one job: its request, state, why it waits, and every attempt with its placements.",
                "ID may also be a job array (its tasks counted by state) or one of its tasks as ARRAY_INDEX (122_7)."})
final class JobCommand extends ClientCommand {

    @Parameters(paramLabel = "ID", converter = JobRef.Converter.class,
            description = "The job, a job array, or an array's task as ARRAY_INDEX.")
    JobRef ref;

    @Option(names = "--json", description = "Print the job as JSON.")
    boolean json;

    @Override
    int run() {
        Job job;
        try (Client c = client.connect()) {
            try {
                job = c.jobs().getJob(GetJobRequest.newBuilder().setJobId(ref.jobId(c)).build());
            } catch (StatusRuntimeException e) {
                if (ref.isTask() || !JobRef.notFound(e)) {
                    throw e;
                }
                JobArray array;
                try {
                    array = c.jobs().getArray(GetArrayRequest.newBuilder().setArrayId(ref.id()).build());
                } catch (StatusRuntimeException notArray) {
                    throw e;
                }
                if (json) {
                    JsonOutput.print(out(), JsonOutput.jobArray(array));
                } else {
                    describe(array, out());
                }
                return 0;
            }
        }
        if (json) {
            JsonOutput.print(out(), JsonOutput.job(job));
        } else {
            describe(job, out());
        }
        return 0;
    }

    private void describe(JobArray a, PrintWriter out) {
        out.println("job array " + a.getId() + (a.getName().isEmpty() ? "" : " (" + a.getName() + ")"));
        field(out, "state", JobText.state(a));
        field(out, "tasks", a.getTasks() + ", indices " + a.getFirstIndex() + " to " + a.getLastIndex() + ": "
                + JobText.counts(a));
        field(out, "account", a.getAccount());
        field(out, "member", a.getMember());
        field(out, "gpus", Plural.of(Math.max(1, a.getNodes()), "node") + " × " + Plural.of(a.getGpusPerNode(), "GPU")
                + " per task");
        if (a.getMaxRunning() > 0) {
            field(out, "throttle", "at most " + Plural.of(a.getMaxRunning(), "task") + " run at once");
        }
        field(out, "command", JobText.command(a));
        field(out, "submitted", Times.iso(a.getSubmittedAtMs()));
        if (a.getFinishedAtMs() != 0) {
            field(out, "finished", Times.iso(a.getFinishedAtMs()));
        }
        field(out, "age", JobText.age(a, clock.instant()));
        out.println("  (coop jobs --array " + a.getId() + " lists its tasks; coop job " + a.getId() + "_INDEX shows one)");
    }

    private void describe(Job job, PrintWriter out) {
        out.println("job " + job.getId() + (job.getName().isEmpty() ? "" : " (" + job.getName() + ")")
                + (job.getArrayId() == 0 ? "" : ", task " + JobRef.shown(job) + " of job array " + job.getArrayId()));
        field(out, "state", JobText.state(job.getState()));
        if (!job.getEndReason().isEmpty()) {
            field(out, "why ended", job.getEndReason());
        }
        if (job.getState() == JobState.PENDING || job.getState() == JobState.REVIEW) {
            field(out, "why pending", job.getWhyPending().isEmpty() ? "-" : job.getWhyPending());
        }
        if (job.getExpectedStartMs() != 0) {
            field(out, "starts by", Times.iso(job.getExpectedStartMs())
                    + " (GPUs reserved for it: the running walltimes it waits for end then)");
        }
        field(out, "account", job.getAccount());
        field(out, "member", job.getMember());
        String gpus = Plural.of(Math.max(1, job.getNodes()), "node") + " × " + Plural.of(job.getGpusPerNode(), "GPU")
                + " each, model "
                + (job.getGpuModel().isEmpty() ? "any" : job.getGpuModel())
                + (job.getCrossSite() ? ", may cross sites" : "");
        field(out, "gpus", gpus);
        field(out, "walltime", job.getWalltimeSeconds() == 0 ? "policy default"
                : Durations.format(Duration.ofSeconds(job.getWalltimeSeconds())));
        field(out, "priority", String.valueOf(job.getPriority()));
        field(out, "preemption", job.getNoPreempt() ? "never (--no-preempt: runs only within its account's share)"
                : JobText.preemptible(job) ? "PREEMPTIBLE now: its attempt runs on borrowed GPUs"
                : "only while it runs on borrowed GPUs");
        field(out, "stop signal", job.getSignal().isEmpty() ? "SIGTERM at the stop (default)"
                : JobText.signal(job.getSignal()));
        if (job.getRequeueOnTimeout() > 0) {
            field(out, "on timeout", "requeued, up to " + Plural.of(job.getRequeueOnTimeout(), "time"));
        }
        if (!job.getDependency().isEmpty()) {
            field(out, "dependency", job.getDependency());
        }
        field(out, "command", JobText.command(job));
        if (!job.getWorkdir().isEmpty()) {
            field(out, "workdir", "sha256 " + job.getWorkdir());
        }
        if (!job.getChdir().isEmpty()) {
            field(out, "folder", job.getChdir());
        }
        if (!job.getContainer().isEmpty()) {
            field(out, "container", job.getContainer());
        }
        if (job.getMountsCount() > 0) {
            field(out, "mounts", job.getMountsList().stream().map(m -> m.getSource() + ":" + m.getDestination()
                    + (m.getReadOnly() ? ":ro" : "")).collect(java.util.stream.Collectors.joining(" ")));
        }
        if (job.getEnvNamesCount() > 0) {
            field(out, "environment", String.join(" ", job.getEnvNamesList()));
        }
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
            line.append("  ").append(Plural.of(attempt.getGpus(), "GPU"));
            if (attempt.getBorrowed()) {
                line.append(" borrowed (preemptible)");
            }
            if (attempt.getOutcome().isEmpty()) {
                line.append("  running");
            } else {
                line.append("  ").append(JobText.outcome(attempt));
            }
            if (!attempt.getCheckpointSite().isEmpty()) {
                line.append("  checkpoints on site ").append(attempt.getCheckpointSite()).append("'s shared root");
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
