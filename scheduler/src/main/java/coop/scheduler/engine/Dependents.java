package coop.scheduler.engine;

import coop.scheduler.domain.Dependency;
import coop.scheduler.domain.Job;
import coop.scheduler.domain.JobState;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.LongFunction;

/**
 * Pending jobs whose dependencies are not met, kept out of the allocator's queue, and the indexes
 * that find them again the moment a job they wait for ends: by parent (a job, an array task, or a
 * whole array) and, for singletons, by member and name, with the unfinished jobs of each member
 * and name a singleton waits behind. Nothing here is stored: it is rebuilt from the stored jobs at
 * recovery, so a restart can never disagree with what the jobs say.
 */
final class Dependents {
    /** Waiting dependents by the id of a job or array they name. */
    private final Map<Long, Set<Long>> byParent = new HashMap<>();
    /** Waiting singletons by member and name. */
    private final Map<String, Set<Long>> singletons = new HashMap<>();
    /** Unfinished jobs by member and name, ids ascending: the ones a singleton waits behind. */
    private final Map<String, TreeSet<Long>> unfinishedByName = new HashMap<>();
    /** Unfinished tasks per array: the array's dependents are looked at again when it reaches 0. */
    private final Map<Long, Integer> unfinishedTasks = new HashMap<>();
    /** Per array, the id of a task that ended other than SUCCEEDED: an afterok on the array can never be met. */
    private final Map<Long, Long> unsucceeded = new HashMap<>();
    /** Each waiting dependent's dependency, as its job says it. */
    private final Map<Long, Dependency> waiting = new HashMap<>();

    private static String key(Job j) {
        // Names hold no control characters (JobSpec.checked), so the newline cannot be forged.
        return j.member() + "\n" + j.name();
    }

    /** A stored job, at recovery: unfinished ones as {@link #unfinished}, an array's ended tasks counted. */
    void recovered(Job j) {
        if (!j.state().isFinal()) {
            unfinished(j);
        } else if (j.inArray() && j.state() != JobState.SUCCEEDED) {
            unsucceeded.putIfAbsent(j.arrayId(), j.id());
        }
    }

    /** Where an array stands for its dependents, its tasks read through {@code jobs}. */
    Dependency.ArrayProgress progress(long arrayId, LongFunction<Job> jobs) {
        Long failed = unsucceeded.get(arrayId);
        return new Dependency.ArrayProgress(unfinishedTasks.getOrDefault(arrayId, 0),
                failed == null ? null : jobs.apply(failed));
    }

    /** A job that has not reached a final state: singletons of its name wait behind it. */
    void unfinished(Job j) {
        unfinishedByName.computeIfAbsent(key(j), k -> new TreeSet<>()).add(j.id());
        if (j.inArray()) {
            unfinishedTasks.merge(j.arrayId(), 1, Integer::sum);
        }
    }

    /**
     * A job reached a final state; the waiting dependents whose standing that may change: those
     * naming it, those naming its array when the array has no unfinished task left or this task did
     * not succeed (an afterok on the array can then never be met), and singletons of its name.
     */
    Set<Long> finished(Job j) {
        String key = key(j);
        TreeSet<Long> same = unfinishedByName.get(key);
        if (same != null && same.remove(j.id()) && same.isEmpty()) {
            unfinishedByName.remove(key);
        }
        Set<Long> out = new LinkedHashSet<>(byParent.getOrDefault(j.id(), Set.of()));
        if (j.inArray()) {
            Integer left = unfinishedTasks.merge(j.arrayId(), -1, (a, b) -> a + b == 0 ? null : a + b);
            if (j.state() != JobState.SUCCEEDED) {
                unsucceeded.putIfAbsent(j.arrayId(), j.id());
            }
            if (left == null || j.state() != JobState.SUCCEEDED) {
                out.addAll(byParent.getOrDefault(j.arrayId(), Set.of()));
            }
        }
        out.addAll(singletons.getOrDefault(key, Set.of()));
        return out;
    }

    /** The earliest unfinished job of {@code j}'s member and name submitted before it, or 0. */
    long namesake(Job j) {
        TreeSet<Long> same = unfinishedByName.get(key(j));
        if (same == null) {
            return 0;
        }
        Long first = same.first();
        return first < j.id() ? first : 0;
    }

    /** The job waits for its dependency. */
    void hold(Job j, Dependency d) {
        waiting.put(j.id(), d);
        for (long parent : d.ids()) {
            byParent.computeIfAbsent(parent, p -> new HashSet<>()).add(j.id());
        }
        if (d.singleton()) {
            singletons.computeIfAbsent(key(j), k -> new HashSet<>()).add(j.id());
        }
    }

    boolean isWaiting(long id) {
        return waiting.containsKey(id);
    }

    /** The job waits no more (its dependency is met, can never be, or it left the pending state). */
    void forget(Job j) {
        Dependency d = waiting.remove(j.id());
        if (d == null) {
            return;
        }
        for (long parent : d.ids()) {
            Set<Long> set = byParent.get(parent);
            if (set != null && set.remove(j.id()) && set.isEmpty()) {
                byParent.remove(parent);
            }
        }
        if (d.singleton()) {
            Set<Long> set = singletons.get(key(j));
            if (set != null && set.remove(j.id()) && set.isEmpty()) {
                singletons.remove(key(j));
            }
        }
    }
}
