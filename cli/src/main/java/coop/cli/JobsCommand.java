package coop.cli;

import coop.v1.Job;
import coop.v1.JobArray;
import coop.v1.JobState;
import coop.v1.ListJobsRequest;
import coop.v1.ListJobsResponse;
import java.time.Instant;
import java.util.List;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;

/**
 * {@code coop jobs}: lists jobs, newest first, with why pending ones wait. Like
 * {@link SubmitCommand}, a researcher's frequent call, so its picocli model is built in code
 * ({@link #model()}; see {@link Main}).
 */
final class JobsCommand extends ClientCommand {

    static final String NAME = "jobs";

    /** The states a user may filter on, as typed. */
    enum StateName {
        pending(JobState.PENDING), running(JobState.RUNNING), succeeded(JobState.SUCCEEDED),
        failed(JobState.FAILED), cancelled(JobState.CANCELLED), review(JobState.REVIEW), timeout(JobState.TIMEOUT);

        final JobState proto;

        StateName(JobState proto) {
            this.proto = proto;
        }
    }

    private final OptionSpec account = OptionSpec.builder("--account").paramLabel("ACCOUNT").type(String.class)
            .initialValue("").description("Only jobs charged to this account.").build();

    private final OptionSpec states = OptionSpec.builder("--state").paramLabel("STATE").type(List.class)
            .auxiliaryTypes(StateName.class).splitRegex(",")
            .description("Only jobs in these states, comma-separated: ${COMPLETION-CANDIDATES}.").build();

    private final OptionSpec limit = OptionSpec.builder("--limit").paramLabel("N").type(int.class).defaultValue("0")
            .description("At most N jobs (default: all).").build();

    private final OptionSpec expand = Models.flag("--expand",
            "List each task of a job array as a line of its own (ARRAY_INDEX).");

    private final OptionSpec arrayId = OptionSpec.builder("--array").paramLabel("ARRAY").type(long.class)
            .initialValue(0L).description("Only the tasks of this job array (implies --expand).").build();

    private final OptionSpec json = Models.flag("--json", "Print a JSON array of jobs.");

    private JobsCommand() {
    }

    /** The model of a new jobs command, the command its user object. */
    static CommandSpec model() {
        JobsCommand jobs = new JobsCommand();
        return Models.clientCommand(jobs, NAME,
                List.of(jobs.account, jobs.states, jobs.limit, jobs.expand, jobs.arrayId, jobs.json),
                "List jobs, newest first.",
                "Pending jobs show why they wait; running jobs show their nodes, and PREEMPTIBLE when they run on "
                        + "borrowed GPUs.",
                "A job array is one line (ARRAY_[FIRST-LAST], its tasks counted by state) unless --expand is given; "
                        + "--json always lists the tasks, with array_id and array_index.");
    }

    @Override
    int run() {
        boolean json = this.json.<Boolean>getValue();
        long arrayId = this.arrayId.<Long>getValue();
        boolean grouped = !expand.<Boolean>getValue() && !json && arrayId == 0;
        ListJobsRequest.Builder request = ListJobsRequest.newBuilder().setAccount(account.<String>getValue())
                .setLimit(limit.<Integer>getValue()).setArrayId(arrayId).setGroupArrays(grouped);
        List<StateName> wanted = states.getValue();
        if (wanted != null) {
            wanted.forEach(s -> request.addStates(s.proto));
        }
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
            table.row(JobRef.shown(job), job.getName(), job.getAccount(), job.getMember(), JobText.listedState(job),
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
