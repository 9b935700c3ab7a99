package coop.scheduler.domain;

import java.util.EnumMap;
import java.util.List;
import java.util.Map;

/**
 * A job array seen as one line: what its tasks ask for (they all ask the same) and how many of
 * them are in each state. Not stored: the tasks are, each carrying the array's id, so an array
 * is whatever its tasks say it is. {@code maxRunning} is how many of its tasks may run at once
 * (0: no limit), as each task carries it.
 */
public record JobArray(long id, String name, String account, String member, int gpusPerNode, int nodes,
                       String command, long submittedAt, int tasks, Map<JobState, Integer> counts, int firstIndex,
                       int lastIndex, long finishedAt, int maxRunning) {

    public JobArray {
        counts = Map.copyOf(counts);
    }

    /** The summary of {@code tasks}, all of array {@code id}, in index order; there is at least one. */
    public static JobArray of(long id, List<Job> tasks) {
        Job first = tasks.get(0);
        Map<JobState, Integer> counts = new EnumMap<>(JobState.class);
        long finished = 0;
        boolean allFinal = true;
        for (Job t : tasks) {
            counts.merge(t.state(), 1, Integer::sum);
            allFinal &= t.state().isFinal();
            finished = Math.max(finished, t.finishedAt());
        }
        return new JobArray(id, first.name(), first.account(), first.member(), first.gpusPerNode(), first.nodes(),
                first.command(), first.submittedAt(), tasks.size(), counts, first.arrayIndex(),
                tasks.get(tasks.size() - 1).arrayIndex(), allFinal ? finished : 0,
                first.options().arrayMaxRunning());
    }

    /** Tasks in {@code state}. */
    public int count(JobState state) {
        return counts.getOrDefault(state, 0);
    }

    /** Whether every task has reached a final state. */
    public boolean isOver() {
        return finishedAt != 0 || counts.keySet().stream().allMatch(JobState::isFinal);
    }
}
