package coop.scheduler.sim;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.TreeSet;

/**
 * A job trace, in submit order (ties keep the file's order). The measurement window of a
 * trace runs from its first to its last submit: its long jobs run for weeks after the last
 * submit, when nothing new competes, so shares there say nothing about a policy.
 */
public record Trace(String source, List<TraceJob> jobs) {
    public Trace {
        List<TraceJob> sorted = new ArrayList<>(jobs);
        sorted.sort(Comparator.comparingLong(TraceJob::submitMs));
        jobs = List.copyOf(sorted);
    }

    /** The accounts that submit jobs, sorted by name. */
    public List<String> accounts() {
        TreeSet<String> names = new TreeSet<>();
        jobs.forEach(j -> names.add(j.account()));
        return List.copyOf(names);
    }

    /** [first submit, last submit]; an empty trace has the empty window at 0. */
    public Window window() {
        if (jobs.isEmpty()) {
            return new Window(0, 0);
        }
        return new Window(jobs.get(0).submitMs(), jobs.get(jobs.size() - 1).submitMs());
    }
}
