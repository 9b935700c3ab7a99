package coop.cli;

import coop.v1.Job;
import coop.v1.JobArray;
import coop.v1.JobState;
import coop.v1.ListJobsRequest;
import coop.v1.ListJobsResponse;
import java.time.Instant;
import java.util.List;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code coop jobs}: lists jobs, newest first, with why pending ones wait. */
@Command(name = "jobs", mixinStandardHelpOptions = true,
        description = {"List jobs, newest first.",
                "Pending jobs show why they wait; running jobs show their nodes.",
                "A job array is one line (ARRAY_[FIRST-LAST], its tasks counted by state) unless --expand is given; "
                        + "--json always lists the tasks, with array_id and array_index."})
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

    @Option(names = "--expand", description = "List each task of a job array as a line of its own (ARRAY_INDEX).")
    boolean expand;

    @Option(names = "--array", paramLabel = "ARRAY", description = "Only the tasks of this job array (implies "
            + "--expand).")
    long arrayId;

    @Option(names = "--json", description = "Print a JSON array of jobs.")
    boolean json;

    @Override
    int run() {
        boolean grouped = !expand && !json && arrayId == 0;
        ListJobsRequest.Builder request = ListJobsRequest.newBuilder().setAccount(account).setLimit(limit)
                .setArrayId(arrayId).setGroupArrays(grouped);
        states.forEach(s -> request.addStates(s.proto));
        ListJobsResponse reply;
        try (Client c = client.connect()) {
            reply = c.jobs().listJobs(request.build());
        }
        List<Job> jobs = reply.getJobsList();
        if (json) {
            JsonOutput.print(out(), JsonOutput.array(jobs, JsonOutput::job));
            return 0;
        }
        Instant now = clock.instant();
        Table table = new Table("ID", "NAME", "ACCOUNT", "MEMBER", "STATE", "GPUS", "MODEL", "AGE/ELAPSED", "NODES/WHY");
        // Both lists are newest first; a line's place is its id (an array's is below its tasks').
        int a = 0;
        for (Job job : jobs) {
            for (; a < reply.getArraysCount() && reply.getArrays(a).getId() > job.getId(); a++) {
                arrayRow(table, reply.getArrays(a), now);
            }
            table.row(JobRef.shown(job), job.getName(), job.getAccount(), job.getMember(), JobText.state(job.getState()),
                    JobText.gpus(job), JobText.model(job), JobText.elapsed(job, now), JobText.nodesOrWhy(job));
        }
        for (; a < reply.getArraysCount(); a++) {
            arrayRow(table, reply.getArrays(a), now);
        }
        table.print(out());
        return 0;
    }

    private static void arrayRow(Table table, JobArray a, Instant now) {
        table.row(JobText.id(a), a.getName(), a.getAccount(), a.getMember(), JobText.state(a),
                a.getTasks() + "x" + (a.getNodes() > 1 ? a.getNodes() + "x" : "") + a.getGpusPerNode(), "",
                JobText.age(a, now), JobText.counts(a));
    }
}
