package coop.cli;

import coop.v1.Job;
import coop.v1.JobState;
import coop.v1.ListJobsRequest;
import java.time.Instant;
import java.util.List;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code coop jobs}: lists jobs, newest first, with why pending ones wait. */
@Command(name = "jobs", mixinStandardHelpOptions = true,
        description = {"List jobs, newest first.",
                "Pending jobs show why they wait; running jobs show their nodes."})
final class JobsCommand extends ClientCommand {

    /** The states a user may filter on, as typed. */
    enum StateName {
        pending(JobState.PENDING), running(JobState.RUNNING), succeeded(JobState.SUCCEEDED),
        failed(JobState.FAILED), cancelled(JobState.CANCELLED), review(JobState.REVIEW);

        final JobState proto;

        StateName(JobState proto) {
            this.proto = proto;
        }
    }

    @Option(names = "--account", paramLabel = "ACCOUNT", description = "Only jobs charged to this account.")
    String account = "";

    @Option(names = "--state", paramLabel = "STATE", split = ",",
            description = "Only jobs in these states, comma-separated: ${COMPLETION-CANDIDATES}.")
    List<StateName> states = List.of();

    @Option(names = "--limit", paramLabel = "N", defaultValue = "0", description = "At most N jobs (default: all).")
    int limit;

    @Option(names = "--json", description = "Print a JSON array of jobs.")
    boolean json;

    @Override
    int run() {
        ListJobsRequest.Builder request = ListJobsRequest.newBuilder().setAccount(account).setLimit(limit);
        states.forEach(s -> request.addStates(s.proto));
        List<Job> jobs;
        try (Client c = client.connect()) {
            jobs = c.jobs().listJobs(request.build()).getJobsList();
        }
        if (json) {
            JsonOutput.print(out(), JsonOutput.array(jobs, JsonOutput::job));
            return 0;
        }
        Instant now = clock.instant();
        Table table = new Table("ID", "NAME", "ACCOUNT", "MEMBER", "STATE", "GPUS", "MODEL", "AGE/ELAPSED", "NODES/WHY");
        for (Job job : jobs) {
            table.row(job.getId(), job.getName(), job.getAccount(), job.getMember(), JobText.state(job.getState()),
                    JobText.gpus(job), JobText.model(job), JobText.elapsed(job, now), JobText.nodesOrWhy(job));
        }
        table.print(out());
        return 0;
    }
}
