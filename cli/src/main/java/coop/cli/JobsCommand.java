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

    /** The states {@code coop jobs} lists unless told otherwise: the jobs still to finish, as squeue's. */
    static final List<StateName> ACTIVE = List.of(StateName.pending, StateName.review, StateName.running);

    private final OptionSpec account = accountOption();

    private final OptionSpec member = memberOption();

    private final OptionSpec states = OptionSpec.builder("--state").paramLabel("STATE").type(List.class)
            .auxiliaryTypes(StateName.class).splitRegex(",")
            .description("Only jobs in these states, comma-separated: ${COMPLETION-CANDIDATES} "
                    + "(default: pending, review, running; every state with --all).").build();

    private final OptionSpec all = Models.flag("--all",
            "Every member's jobs in every state, as far as --account, --member and --state narrow them.");

    private final OptionSpec limit = OptionSpec.builder("--limit").paramLabel("N").type(int.class).defaultValue("0")
            .description("At most N lines, the newest (default: every one).").build();

    private final OptionSpec expand = Models.flag("--expand",
            "List each task of a job array as a line of its own (ARRAY_INDEX).");

    private final OptionSpec arrayId = OptionSpec.builder("--array").paramLabel("ARRAY").type(long.class)
            .initialValue(0L).description("Every task of this job array, whoever submitted it (implies --expand).")
            .build();

    private final OptionSpec json = Models.flag("--json", "Print a JSON array of jobs.");

    private JobsCommand() {
    }

    /** The model of a new jobs command, the command its user object. */
    static CommandSpec model() {
        JobsCommand jobs = new JobsCommand();
        return Models.clientCommand(jobs, NAME,
                List.of(jobs.account, jobs.member, jobs.states, jobs.all, jobs.limit, jobs.expand, jobs.arrayId,
                        jobs.json),
                "List jobs, newest first. By default only your own pending, in-review and running jobs, as "
                        + "Slurm's squeue --me; --member, --account, --state and --all widen it (coop history lists "
                        + "finished jobs).",
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
        boolean everything = all.<Boolean>getValue() || arrayId != 0;
        String accountName = account.getValue();
        String memberName = whose(client, accountName, member.getValue(), everything);
        ListJobsRequest.Builder request = ListJobsRequest.newBuilder().setAccount(accountName).setMember(memberName)
                .setArrayId(arrayId).setGroupArrays(grouped);
        List<StateName> wanted = states.getValue();
        for (StateName s : wanted != null ? wanted : everything ? List.<StateName>of() : ACTIVE) {
            request.addStates(s.proto);
        }
        ListJobsResponse reply;
        try (Client c = client.connect()) {
            reply = c.pages(request, limit.<Integer>getValue());
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

    /** {@code --account}: jobs of an account, any member's; jobs and history alike. */
    static OptionSpec accountOption() {
        return OptionSpec.builder("--account").paramLabel("ACCOUNT").type(String.class).initialValue("")
                .description("Jobs charged to this account, any member's.").build();
    }

    /** {@code --member}: another member's jobs; jobs and history alike. */
    static OptionSpec memberOption() {
        return OptionSpec.builder("--member").paramLabel("NAME").type(String.class).initialValue("")
                .description("Jobs submitted by this member rather than you.").build();
    }

    /**
     * Whose jobs a listing asks for: {@code member} when given; else, unless an account or
     * {@code everyone} widens it, the caller's own, as Slurm's {@code --me}; "" for any member.
     */
    static String whose(ClientOptions client, String account, String member, boolean everyone) {
        return member.isEmpty() && account.isEmpty() && !everyone ? client.requireIdentity().member() : member;
    }

    private static void arrayRow(Table table, JobArray a, Instant now) {
        table.row(JobText.id(a), a.getName(), a.getAccount(), a.getMember(), JobText.state(a),
                a.getTasks() + "x" + (a.getNodes() > 1 ? a.getNodes() + "x" : "") + a.getGpusPerNode(), "",
                JobText.age(a, now), JobText.counts(a));
    }
}
