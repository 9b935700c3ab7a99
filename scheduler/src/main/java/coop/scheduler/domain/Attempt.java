package coop.scheduler.domain;

import java.util.ArrayList;
import java.util.List;

/**
 * One try at running a job: its placement (one entry per rank) and, per rank, the exit
 * code once that rank has ended. The attempt is over when every rank has ended; until then
 * its GPUs stay busy, even if the job was already cancelled. {@code checkpointSite} is the site
 * whose shared checkpoint root held its checkpoints ("" when they stayed on its nodes), where its
 * job prefers to run again when requeued. An attempt preempted for another job names it in
 * {@code preemptedFor} (0 otherwise).
 */
public record Attempt(int number, long startedAt, long finishedAt, List<Placement> placements,
                      List<Integer> exitCodes, String outcome, boolean borrowed, String checkpointSite,
                      long preemptedFor) {

    public Attempt {
        placements = List.copyOf(placements);
        exitCodes = java.util.Collections.unmodifiableList(new ArrayList<>(exitCodes));
        // Records stored before the field existed read it as null.
        checkpointSite = checkpointSite == null ? "" : checkpointSite;
    }

    /** An attempt not preempted for another job. */
    public Attempt(int number, long startedAt, long finishedAt, List<Placement> placements,
                   List<Integer> exitCodes, String outcome, boolean borrowed, String checkpointSite) {
        this(number, startedAt, finishedAt, placements, exitCodes, outcome, borrowed, checkpointSite, 0);
    }

    public Attempt(int number, long startedAt, long finishedAt, List<Placement> placements,
                   List<Integer> exitCodes, String outcome, boolean borrowed) {
        this(number, startedAt, finishedAt, placements, exitCodes, outcome, borrowed, "");
    }

    /** Prefix of the outcome of an attempt told to stop for another job. */
    public static final String PREEMPTED = "preempted";

    public static Attempt start(int number, long now, List<Placement> placements, boolean borrowed) {
        return start(number, now, placements, borrowed, "");
    }

    /** An attempt whose checkpoints go to the shared root of {@code checkpointSite} ("" for none). */
    public static Attempt start(int number, long now, List<Placement> placements, boolean borrowed,
                                String checkpointSite) {
        List<Integer> codes = new ArrayList<>();
        for (int i = 0; i < placements.size(); i++) {
            codes.add(null);
        }
        return new Attempt(number, now, 0, placements, codes, "", borrowed, checkpointSite);
    }

    /** Told to stop (cancel, preemption, loss) before its ranks ended on their own. */
    public boolean isStopping() {
        return !outcome.isEmpty() && !isOver();
    }

    /** Prefix of the outcome of an attempt stopped at its walltime. */
    public static final String TIMED_OUT = "walltime";

    /** Ran out of walltime, whether its job was requeued for it or failed. */
    public boolean isTimedOut() {
        return outcome.startsWith(TIMED_OUT);
    }

    /**
     * Told to stop so that job {@code forJob} can start on its GPUs: they are that job's while
     * the attempt stops, and nobody else counts them as freeing.
     */
    public Attempt preempted(long forJob, String why) {
        return new Attempt(number, startedAt, finishedAt, placements, exitCodes, why, borrowed, checkpointSite, forJob);
    }

    public boolean isPreempted() {
        return outcome.startsWith(PREEMPTED);
    }

    public int gpus() {
        return placements.stream().mapToInt(p -> p.gpuIndices().size()).sum();
    }

    public boolean isOver() {
        return finishedAt > 0;
    }

    public boolean rankEnded(int rank) {
        return exitCodes.get(rank) != null;
    }

    /** Records a rank's exit; the attempt ends when its last rank has ended. */
    public Attempt withRankExit(int rank, int code, long now) {
        List<Integer> codes = new ArrayList<>(exitCodes);
        codes.set(rank, code);
        boolean allEnded = codes.stream().allMatch(c -> c != null);
        String out = outcome.isEmpty() && allEnded ? "exited" : outcome;
        return new Attempt(number, startedAt, allEnded ? now : 0, placements, codes, out, borrowed, checkpointSite,
                preemptedFor);
    }

    /** Marks how the attempt ends when that is decided before its ranks report (cancel, loss). */
    public Attempt withOutcome(String why) {
        return new Attempt(number, startedAt, finishedAt, placements, exitCodes, why, borrowed, checkpointSite,
                preemptedFor);
    }

    /** The attempt's exit code: the first non-zero rank code, else 0. */
    public int exitCode() {
        return exitCodes.stream().filter(c -> c != null && c != 0).findFirst().orElse(0);
    }

    /** GPU-milliseconds held between {@code from} and {@code now} (running attempts count up to now). */
    public long gpuMillis(long from, long now) {
        long end = finishedAt > 0 ? finishedAt : now;
        long start = Math.max(startedAt, from);
        return end > start ? (end - start) * gpus() : 0;
    }
}
