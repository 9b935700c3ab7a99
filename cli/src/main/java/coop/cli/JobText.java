package coop.cli;

import coop.v1.Attempt;
import coop.v1.Job;
import coop.v1.JobArray;
import coop.v1.JobState;
import coop.v1.Placement;
import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashSet;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Collectors;

/** How a job's fields read in human output, shared by {@code coop jobs} and {@code coop job}. */
public final class JobText {

    private JobText() {
    }

    /** {@code pending}, {@code running}, ... */
    static String state(JobState state) {
        return state == JobState.UNRECOGNIZED ? "unknown" : state.name().toLowerCase();
    }

    /**
     * The state as {@code coop jobs} lists it: a running job whose attempt runs on borrowed GPUs,
     * beyond its account's entitlement, is marked {@code PREEMPTIBLE}, since it may be stopped
     * (after its signal and grace) to give them back.
     */
    static String listedState(Job job) {
        return state(job.getState()) + (preemptible(job) ? " PREEMPTIBLE" : "");
    }

    /** Whether the job runs now on borrowed GPUs, and so may be preempted. */
    static boolean preemptible(Job job) {
        return job.getState() == JobState.RUNNING && !job.getNoPreempt()
                && latest(job).map(a -> a.getBorrowed() && a.getFinishedAtMs() == 0).orElse(false);
    }

    /** {@code B:USR1@120} in words: "SIGUSR1 120 s before the stop, to the rank's shell only". */
    static String signal(String terms) {
        boolean shell = terms.startsWith("B:");
        String rest = shell ? terms.substring(2) : terms;
        int at = rest.indexOf('@');
        String name = at < 0 ? rest : rest.substring(0, at);
        String lead = at < 0 ? "" : rest.substring(at + 1);
        return "SIG" + name + " " + lead + " s before the stop" + (shell ? ", to the rank's shell only" : "")
                + " (" + terms + ")";
    }

    /**
     * How an attempt ended, in words: "exited with code 0", "preempted by lab-b reclaiming its
     * share ... (exit code 143)": the scheduler's outcome, with the code where it adds to it.
     */
    static String outcome(Attempt attempt) {
        String outcome = attempt.getOutcome();
        if (outcome.equals("exited")) {
            return attempt.getExitCode() == 0 ? "exited with code 0" : "failed with exit code " + attempt.getExitCode();
        }
        return outcome + ", exit code " + attempt.getExitCode();
    }

    /** The command, or why the scheduler withheld it from the caller. */
    static String command(Job job) {
        return job.getCommandWithheld() ? withheld(job.getAccount()) : job.getCommand();
    }

    static String command(JobArray array) {
        return array.getCommandWithheld() ? withheld(array.getAccount()) : array.getCommand();
    }

    private static String withheld(String account) {
        return "(withheld: only members of " + account + ", operators of the nodes that ran it and its review "
                + "panel may read it)";
    }

    /** {@code 4} for one node, {@code 2x4} for 2 nodes of 4 GPUs each. */
    static String gpus(Job job) {
        int nodes = Math.max(1, job.getNodes());
        return nodes == 1 ? String.valueOf(job.getGpusPerNode()) : nodes + "x" + job.getGpusPerNode();
    }

    /** The model asked for, else the models it got, else {@code any}. */
    static String model(Job job) {
        if (!job.getGpuModel().isEmpty()) {
            return job.getGpuModel();
        }
        Set<String> models = latest(job).stream()
                .flatMap(a -> a.getPlacementsList().stream())
                .map(Placement::getGpuModel)
                .filter(m -> !m.isEmpty())
                .collect(Collectors.toCollection(LinkedHashSet::new));
        return models.isEmpty() ? "any" : String.join(",", models);
    }

    /** The current (last) attempt, if any. */
    static Optional<Attempt> latest(Job job) {
        int count = job.getAttemptsCount();
        return count == 0 ? Optional.empty() : Optional.of(job.getAttempts(count - 1));
    }

    /**
     * How long: a pending job's age since submission, a running job's time since its
     * attempt started, a finished job's run time.
     */
    static String elapsed(Job job, Instant now) {
        Optional<Attempt> attempt = latest(job);
        long from;
        long to;
        if (job.getState() == JobState.PENDING || attempt.isEmpty()) {
            from = job.getSubmittedAtMs();
            to = job.getFinishedAtMs() != 0 ? job.getFinishedAtMs() : now.toEpochMilli();
        } else {
            from = attempt.get().getStartedAtMs();
            to = attempt.get().getFinishedAtMs() != 0 ? attempt.get().getFinishedAtMs() : now.toEpochMilli();
        }
        return from == 0 ? "-" : Durations.format(Duration.ofMillis(to - from));
    }

    /** Why a pending job waits; otherwise the nodes of its current attempt. */
    static String nodesOrWhy(Job job) {
        if (job.getState() == JobState.PENDING || job.getState() == JobState.REVIEW) {
            return job.getWhyPending();
        }
        return latest(job).map(a -> a.getPlacementsList().stream()
                        .map(Placement::getNode)
                        .collect(Collectors.joining(",")))
                .orElse("");
    }

    /** The tasks of an array by state, running first: "8 running, 1990 pending, 2 succeeded". */
    public static String counts(JobArray array) {
        return array.getCountsList().stream().sorted(java.util.Comparator.comparingInt(c -> order(c.getState())))
                .map(c -> c.getCount() + " " + state(c.getState())).collect(Collectors.joining(", "));
    }

    private static int order(JobState s) {
        return switch (s) {
            case RUNNING -> 0;
            case PENDING -> 1;
            case REVIEW -> 2;
            case SUCCEEDED -> 3;
            case FAILED -> 4;
            case TIMEOUT -> 5;
            case CANCELLED -> 6;
            default -> 7;
        };
    }

    /** One word for an array: running while any task runs, pending while any waits, else ended. */
    static String state(JobArray array) {
        java.util.Set<JobState> in = array.getCountsList().stream().map(c -> c.getState())
                .collect(Collectors.toSet());
        return in.contains(JobState.RUNNING) ? "running"
                : in.contains(JobState.PENDING) || in.contains(JobState.REVIEW) ? "pending" : "ended";
    }

    /** {@code 122_[0-1999]}: the array's id and the span of its indices, as Slurm shows an array. */
    static String id(JobArray array) {
        return array.getId() + "_[" + array.getFirstIndex() + (array.getTasks() > 1 ? "-" + array.getLastIndex() : "")
                + "]";
    }

    /** Time since submission, or from submission to the last task's end. */
    static String age(JobArray array, Instant now) {
        long to = array.getFinishedAtMs() != 0 ? array.getFinishedAtMs() : now.toEpochMilli();
        return array.getSubmittedAtMs() == 0 ? "-" : Durations.format(Duration.ofMillis(to - array.getSubmittedAtMs()));
    }
}
