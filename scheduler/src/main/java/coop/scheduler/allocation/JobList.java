package coop.scheduler.allocation;

import java.util.AbstractList;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;
import java.util.RandomAccess;

/**
 * An unmodifiable list of jobs that is handed to an allocation cycle without copying them: the
 * first {@code size} slots of an array its owner only ever appends to, or lists laid end to end.
 * With tens of thousands of jobs queued, copying the queue for every cycle (one per turn of the
 * event loop) cost more than the cycle itself and most of the garbage. {@link AccountQueue} and
 * {@link ClusterSnapshot} keep a JobList as it is instead of copying it.
 */
public abstract sealed class JobList extends AbstractList<JobRequest> implements RandomAccess {

    private JobList() {
    }

    /**
     * The first {@code size} jobs of {@code array}. The owner promises never to change those
     * slots again (it may fill later ones, or move to a new array); that promise is what lets
     * the list be shared instead of copied.
     */
    public static JobList prefix(JobRequest[] array, int size) {
        Objects.checkFromToIndex(0, size, array.length);
        return new Prefix(array, size);
    }

    /** The lists laid end to end; none of them may change afterwards. */
    public static JobList concat(List<? extends List<JobRequest>> runs) {
        return new Runs(runs);
    }

    private static final class Prefix extends JobList {
        private final JobRequest[] array;
        private final int size;

        Prefix(JobRequest[] array, int size) {
            this.array = array;
            this.size = size;
        }

        @Override
        public JobRequest get(int index) {
            return array[Objects.checkIndex(index, size)];
        }

        @Override
        public int size() {
            return size;
        }
    }

    private static final class Runs extends JobList {
        private final List<JobRequest>[] runs;
        /** Where each run ends, counted over all runs; empty runs are left out. */
        private final int[] ends;

        @SuppressWarnings("unchecked")
        Runs(List<? extends List<JobRequest>> given) {
            runs = given.stream().filter(r -> !r.isEmpty()).toArray(List[]::new);
            ends = new int[runs.length];
            int end = 0;
            for (int i = 0; i < runs.length; i++) {
                end += runs[i].size();
                ends[i] = end;
            }
        }

        @Override
        public JobRequest get(int index) {
            Objects.checkIndex(index, size());
            int r = Arrays.binarySearch(ends, index);
            r = r < 0 ? -r - 1 : r + 1;
            return runs[r].get(index - (r == 0 ? 0 : ends[r - 1]));
        }

        @Override
        public int size() {
            return ends.length == 0 ? 0 : ends[ends.length - 1];
        }
    }
}
