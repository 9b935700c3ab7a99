package coop.cli;

import com.fasterxml.jackson.databind.node.ObjectNode;
import coop.v1.Attempt;
import coop.v1.Job;
import coop.v1.JobState;
import coop.v1.ListJobsRequest;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.BiFunction;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;

/**
 * {@code coop history}: the jobs that ended lately, newest first, with the GPU time each used, as
 * Slurm's {@code sacct}. The caller's own by default, like {@code coop jobs}; its picocli model is
 * built in code as {@link JobsCommand}'s is.
 */
final class HistoryCommand extends ClientCommand {

    static final String NAME = "history";

    /** What each column shows, by the name {@code --format} gives it, in the order --help lists them. */
    static final Map<String, BiFunction<Job, Instant, String>> COLUMNS = columns();

    static final String DEFAULT_FORMAT = "id,name,account,member,state,gpus,started,ended,elapsed,gpu_hours,exit_code";

    private static Map<String, BiFunction<Job, Instant, String>> columns() {
        Map<String, BiFunction<Job, Instant, String>> c = new LinkedHashMap<>();
        c.put("id", (j, now) -> JobRef.shown(j));
        c.put("name", (j, now) -> j.getName());
        c.put("account", (j, now) -> j.getAccount());
        c.put("member", (j, now) -> j.getMember());
        c.put("state", (j, now) -> JobText.state(j.getState()));
        c.put("gpus", (j, now) -> String.valueOf(j.getGpusPerNode() * Math.max(1, j.getNodes())));
        c.put("nodes", (j, now) -> String.valueOf(Math.max(1, j.getNodes())));
        c.put("model", (j, now) -> JobText.model(j));
        c.put("submitted", (j, now) -> Times.brief(j.getSubmittedAtMs(), now));
        c.put("started", (j, now) -> Times.brief(j.getAttemptsCount() == 0 ? 0 : j.getAttempts(0).getStartedAtMs(),
                now));
        c.put("ended", (j, now) -> Times.brief(j.getFinishedAtMs(), now));
        c.put("elapsed", (j, now) -> j.getAttemptsCount() == 0 ? "-" : JobText.elapsed(j, now));
        c.put("attempts", (j, now) -> String.valueOf(j.getAttemptsCount()));
        c.put("gpu_hours", (j, now) -> String.format(Locale.ROOT, "%.2f", gpuHours(j)));
        c.put("exit_code", (j, now) -> JobText.latest(j).map(a -> String.valueOf(a.getExitCode())).orElse("-"));
        c.put("reason", (j, now) -> !j.getEndReason().isEmpty() ? j.getEndReason()
                : JobText.latest(j).map(a -> a.getOutcome().isEmpty() ? "" : JobText.outcome(a)).orElse(""));
        return c;
    }

    /** The states a finished job can be in, as {@code --state} takes them. */
    enum FinalState {
        succeeded(JobState.SUCCEEDED), failed(JobState.FAILED), cancelled(JobState.CANCELLED),
        timeout(JobState.TIMEOUT);

        final JobState proto;

        FinalState(JobState proto) {
            this.proto = proto;
        }
    }

    private final OptionSpec since = OptionSpec.builder("--since").paramLabel("DURATION").type(String.class)
            .defaultValue("7d").description("Jobs that ended within this long before now: 7d, 12h, 90m "
                    + "(default: ${DEFAULT-VALUE}).").build();

    private final OptionSpec account = JobsCommand.accountOption();

    private final OptionSpec member = JobsCommand.memberOption();

    private final OptionSpec all = Models.flag("--all", "Every member's jobs, as far as --account and --member "
            + "narrow them.");

    private final OptionSpec states = OptionSpec.builder("--state").paramLabel("STATE").type(List.class)
            .auxiliaryTypes(FinalState.class).splitRegex(",")
            .description("Only jobs that ended in these states, comma-separated: ${COMPLETION-CANDIDATES} "
                    + "(default: all four).").build();

    private final OptionSpec format = OptionSpec.builder("--format").paramLabel("COLUMNS").type(String.class)
            .defaultValue(DEFAULT_FORMAT).description("Columns, comma-separated, from "
                    + String.join(", ", COLUMNS.keySet()) + " (default: ${DEFAULT-VALUE}). gpu_hours is the GPUs "
                    + "of each attempt times its run time, summed over the job's attempts.").build();

    private final OptionSpec limit = OptionSpec.builder("--limit").paramLabel("N").type(int.class).defaultValue("0")
            .description("At most N jobs, the latest submitted (default: every one).").build();

    private final OptionSpec json = Models.flag("--json",
            "Print a JSON array of jobs, as coop jobs --json does, each with its gpu_hours.");

    private HistoryCommand() {
    }

    /** The model of a new history command, the command its user object. */
    static CommandSpec model() {
        HistoryCommand history = new HistoryCommand();
        return Models.clientCommand(history, NAME,
                List.of(history.since, history.account, history.member, history.all, history.states, history.format,
                        history.limit, history.json),
                "List jobs that ended, newest first, with the GPU-hours each used, as Slurm's sacct. By default "
                        + "only your own that ended in the last 7 days; --member, --account and --all widen it, "
                        + "--since reaches further back.");
    }

    @Override
    int run() {
        Duration back = Durations.option("--since", since.getValue());
        List<String> columns = columns(format.getValue());
        boolean json = this.json.<Boolean>getValue();
        String accountName = account.getValue();
        String memberName = JobsCommand.whose(client, accountName, member.getValue(), all.<Boolean>getValue());
        Instant now = clock.instant();
        long sinceMs = Math.max(1, now.toEpochMilli() - back.toMillis());
        ListJobsRequest.Builder request = ListJobsRequest.newBuilder().setAccount(accountName).setMember(memberName)
                .setFinishedSinceMs(sinceMs);
        List<FinalState> wanted = states.getValue();
        if (wanted != null) {
            wanted.forEach(s -> request.addStates(s.proto));
        }
        List<Job> jobs;
        try (Client c = client.connect()) {
            jobs = c.pages(request, limit.<Integer>getValue()).getJobsList();
        }
        if (json) {
            JsonOutput.print(out(), JsonOutput.array(jobs, j -> {
                ObjectNode o = JsonOutput.job(j);
                o.put("gpu_hours", gpuHours(j));
                return o;
            }));
            return 0;
        }
        Table table = new Table(columns.stream().map(c -> c.toUpperCase(Locale.ROOT)).toArray(String[]::new));
        for (Job j : jobs) {
            table.row(columns.stream().map(c -> COLUMNS.get(c).apply(j, now)).toArray());
        }
        table.print(out());
        return 0;
    }

    /** The columns {@code --format} names, in its order; an unknown one is refused naming the choices. */
    static List<String> columns(String format) {
        List<String> chosen = new ArrayList<>();
        for (String name : format.split(",", -1)) {
            String column = name.strip().toLowerCase(Locale.ROOT);
            if (!COLUMNS.containsKey(column)) {
                throw new CliException("--format: unknown column '" + name.strip() + "'; choose from "
                        + String.join(",", COLUMNS.keySet()));
            }
            chosen.add(column);
        }
        return chosen;
    }

    /**
     * The GPU time a job used, in hours: each attempt's GPUs times how long it ran (to its end, or
     * to the job's end for an attempt whose end was never reported).
     */
    static double gpuHours(Job job) {
        long gpuMs = 0;
        for (Attempt a : job.getAttemptsList()) {
            long end = a.getFinishedAtMs() != 0 ? a.getFinishedAtMs() : job.getFinishedAtMs();
            if (a.getStartedAtMs() != 0 && end > a.getStartedAtMs()) {
                gpuMs += (long) a.getGpus() * (end - a.getStartedAtMs());
            }
        }
        return gpuMs / 3_600_000.0;
    }
}
