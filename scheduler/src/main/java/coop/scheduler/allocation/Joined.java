package coop.scheduler.allocation;

import java.util.AbstractList;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;

/**
 * The jobs waiting behind the reservation, kept as runs of the queues they come from rather
 * than copied: most of a large queue is one run. The queues are not changed after the cycle.
 */
final class Joined extends AbstractList<JobRequest> {
    private final List<List<JobRequest>> runs = new ArrayList<>();
    /** Where each run ends, counted over all runs. */
    private int[] ends = new int[4];
    private List<JobRequest> loose;
    private int size;

    @Override
    public boolean add(JobRequest job) {
        if (loose == null) {
            loose = new ArrayList<>();
            append(loose, 0);
        }
        loose.add(job);
        ends[runs.size() - 1]++;
        size++;
        return true;
    }

    void addRun(List<JobRequest> run) {
        if (!run.isEmpty()) {
            loose = null;
            append(run, run.size());
        }
    }

    private void append(List<JobRequest> run, int length) {
        if (runs.size() == ends.length) {
            ends = Arrays.copyOf(ends, ends.length * 2);
        }
        size += length;
        ends[runs.size()] = size;
        runs.add(run);
    }

    @Override
    public JobRequest get(int index) {
        Objects.checkIndex(index, size);
        int r = Arrays.binarySearch(ends, 0, runs.size(), index);
        r = r < 0 ? -r - 1 : r + 1;
        return runs.get(r).get(index - (r == 0 ? 0 : ends[r - 1]));
    }

    @Override
    public int size() {
        return size;
    }
}
