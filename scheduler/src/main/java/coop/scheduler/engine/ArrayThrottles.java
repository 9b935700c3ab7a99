package coop.scheduler.engine;

import coop.scheduler.domain.Job;
import coop.scheduler.domain.JobState;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.LongFunction;

/**
 * Arrays that run at most so many tasks at once (Slurm's {@code --array=0-99%10}). Of a throttled
 * array, only as many tasks as it allows are admitted, running or in the allocator's queue; the
 * rest are held out of the queue, lowest id first to be admitted when an admitted task ends. The
 * allocator never sees a held task, so it neither starts, reserves for nor preempts for one, and
 * the simulator's allocator needs no notion of arrays. Rebuilt from the stored jobs at recovery.
 */
final class ArrayThrottles {
    private static final class Throttle {
        final int most;
        /** Tasks running, or queued to run (a preempted task stays admitted while it is requeued). */
        final Set<Long> admitted = new HashSet<>();
        final TreeSet<Long> held = new TreeSet<>();

        Throttle(int most) {
            this.most = most;
        }
    }

    private final Map<Long, Throttle> byArray = new HashMap<>();

    private Throttle of(Job task) {
        int most = task.options().arrayMaxRunning();
        return !task.inArray() || most <= 0 ? null : byArray.computeIfAbsent(task.arrayId(), a -> new Throttle(most));
    }

    /** Whether the task may join the queue now; if not, it is held until an admitted task of its array ends. */
    boolean admit(Job task) {
        Throttle t = of(task);
        if (t == null) {
            return true;
        }
        if (t.admitted.size() < t.most) {
            t.admitted.add(task.id());
            return true;
        }
        t.held.add(task.id());
        return false;
    }

    /** A task running, or requeued after it ran, when the state is rebuilt: it holds a place whatever the count. */
    void admitted(Job task) {
        Throttle t = of(task);
        if (t != null) {
            t.admitted.add(task.id());
        }
    }

    /** A task reached a final state; returns the held task now admitted in its place, or 0. */
    long ended(Job task) {
        Throttle t = task.inArray() ? byArray.get(task.arrayId()) : null;
        if (t == null) {
            return 0;
        }
        t.held.remove(task.id());
        long next = 0;
        if (t.admitted.remove(task.id()) && !t.held.isEmpty()) {
            next = t.held.pollFirst();
            t.admitted.add(next);
        }
        if (t.admitted.isEmpty() && t.held.isEmpty()) {
            byArray.remove(task.arrayId());
        }
        return next;
    }

    boolean isHeld(Job task) {
        Throttle t = task.inArray() ? byArray.get(task.arrayId()) : null;
        return t != null && t.held.contains(task.id());
    }

    /** Why a held task waits: how many of its array's tasks run, and how many are queued before it. */
    String why(Job task, LongFunction<Job> jobs) {
        Throttle t = byArray.get(task.arrayId());
        long running = t.admitted.stream().filter(id -> jobs.apply(id).state() == JobState.RUNNING).count();
        long queued = t.admitted.size() - running;
        return "ARRAY THROTTLE: " + running + " of array " + task.arrayId() + "'s tasks run"
                + (queued == 0 ? ", the most it allows" : " and " + queued + " more are queued to start, "
                + t.most + " at once being the most it allows");
    }
}
