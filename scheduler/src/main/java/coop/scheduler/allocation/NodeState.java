package coop.scheduler.allocation;

import coop.scheduler.domain.Placement;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * A node during a cycle: its GPU models (sorted), how many of each it has and how many are
 * free, and the attempts running on it. Free GPU indices are listed only once something is
 * placed here, since most nodes of a large cluster are never touched in a cycle.
 */
final class NodeState {
    /** {@code count} GPUs of the model at index {@code model} of a node, busy until {@code endsBy} by walltime. */
    record Hold(int model, int count, long endsBy) {
    }

    final NodeView view;
    final String[] models;
    final int[] total;
    final int[] free;
    private TreeSet<Integer>[] freeIndices;
    final List<RunningAttempt> running = new ArrayList<>(2);
    /**
     * GPUs this cycle placed jobs on or claimed for jobs waiting on preemptions: busy from now
     * on, though no running attempt holds them.
     */
    final List<Hold> holds = new ArrayList<>(0);
    /** When the first attempt here ends by its walltime (now, for one told to stop). */
    long earliestEnd = Long.MAX_VALUE;
    /** The operator's account, its reserve here, and how much of the reserve its attempts use. */
    final String operator;
    final int reserve;
    int ownUse;
    /** Attempts that started after this time have not run the minimum run yet: they are not preempted. */
    private final long exemptAfter;

    NodeState(NodeView view, long exemptAfter) {
        this.view = view;
        this.exemptAfter = exemptAfter;
        this.operator = view.operatorAccount();
        this.reserve = view.reservedGpus();
        List<GpuSlot> gpus = view.gpus();
        if (!gpus.isEmpty() && oneModel(gpus)) {
            models = new String[] {gpus.get(0).model()};
            total = new int[] {gpus.size()};
            int f = 0;
            for (GpuSlot g : gpus) {
                f += g.free() ? 1 : 0;
            }
            free = new int[] {f};
            return;
        }
        TreeMap<String, int[]> counts = new TreeMap<>();
        for (GpuSlot g : view.gpus()) {
            int[] c = counts.computeIfAbsent(g.model(), m -> new int[2]);
            c[0]++;
            if (g.free()) {
                c[1]++;
            }
        }
        models = counts.keySet().toArray(new String[0]);
        total = new int[models.length];
        free = new int[models.length];
        int m = 0;
        for (int[] c : counts.values()) {
            total[m] = c[0];
            free[m++] = c[1];
        }
    }

    /** The free GPUs of models the job accepts, most of one model. */
    int freeAccepted(JobRequest job) {
        int most = 0;
        for (int m = 0; m < models.length; m++) {
            if (job.accepts(models[m])) {
                most = Math.max(most, free[m]);
            }
        }
        return most;
    }

    /** The accepted model with the fewest free GPUs that still fits {@code gpus}, or null. */
    String modelFor(JobRequest job, int gpus) {
        String best = null;
        int bestFree = Integer.MAX_VALUE;
        for (int m = 0; m < models.length; m++) {
            if (job.accepts(models[m]) && free[m] >= gpus && free[m] < bestFree) {
                best = models[m];
                bestFree = free[m];
            }
        }
        return best;
    }

    private static boolean oneModel(List<GpuSlot> gpus) {
        String model = gpus.get(0).model();
        for (GpuSlot g : gpus) {
            if (!g.model().equals(model)) {
                return false;
            }
        }
        return true;
    }

    boolean anyFree() {
        for (int f : free) {
            if (f > 0) {
                return true;
            }
        }
        return false;
    }

    int index(String model) {
        for (int m = 0; m < models.length; m++) {
            if (models[m].equals(model)) {
                return m;
            }
        }
        return -1;
    }

    int total(String model) {
        int m = index(model);
        return m < 0 ? 0 : total[m];
    }

    int free(String model) {
        int m = index(model);
        return m < 0 ? 0 : free[m];
    }

    @SuppressWarnings("unchecked")
    private TreeSet<Integer> freeIndices(int m) {
        if (freeIndices == null) {
            freeIndices = new TreeSet[models.length];
        }
        if (freeIndices[m] == null) {
            freeIndices[m] = new TreeSet<>();
            for (GpuSlot g : view.gpus()) {
                if (g.free() && g.model().equals(models[m])) {
                    freeIndices[m].add(g.index());
                }
            }
        }
        return freeIndices[m];
    }

    List<Integer> take(String model, int count, long endsBy) {
        int m = index(model);
        hold(m, count, endsBy);
        TreeSet<Integer> s = freeIndices(m);
        List<Integer> out = new ArrayList<>(count);
        for (int i = 0; i < count; i++) {
            out.add(s.pollFirst());
        }
        free[m] -= count;
        return out;
    }

    /**
     * Sets aside up to {@code count} free GPUs of the model for a job they are held for, busy
     * until {@code endsBy} for reservations' sake; returns their indices, for {@link #putBack}.
     */
    List<Integer> setAside(String model, int count, long endsBy) {
        int m = index(model);
        if (m < 0) {
            return List.of();
        }
        TreeSet<Integer> s = freeIndices(m);
        List<Integer> out = new ArrayList<>(count);
        while (out.size() < count && !s.isEmpty()) {
            out.add(s.pollFirst());
        }
        free[m] -= out.size();
        hold(m, out.size(), endsBy);
        return out;
    }

    /** GPUs set aside for a job are free again, for that job to be placed on them. */
    void putBack(String model, List<Integer> gpus, long endsBy) {
        int m = index(model);
        if (gpus.isEmpty()) {
            return;
        }
        freeIndices(m).addAll(gpus);
        free[m] += gpus.size();
        holds.remove(new Hold(m, gpus.size(), endsBy));
    }

    /** Takes up to {@code count} free GPUs of the model off the table for this cycle; returns how many. */
    int claim(String model, int count, long endsBy) {
        return setAside(model, count, endsBy).size();
    }

    private void hold(int model, int count, long endsBy) {
        if (count > 0) {
            holds.add(new Hold(model, count, endsBy));
            earliestEnd = Math.min(earliestEnd, endsBy);
        }
    }

    int here(RunningAttempt a, String model) {
        int n = 0;
        for (Placement p : a.placements()) {
            if (p.node().equals(view.name()) && p.gpuModel().equals(model)) {
                n += p.gpuIndices().size();
            }
        }
        return n;
    }

    /**
     * GPUs of the model held by attempts already told to stop, that {@code forJob} may count on:
     * those stopping for it, or for no job in particular (cancelled, out of walltime), never those
     * freed for another job, earlier or in this cycle.
     */
    int terminating(String model, Map<Long, Long> preemptedNow, long forJob) {
        int n = 0;
        for (RunningAttempt a : running) {
            Long now = preemptedNow.get(a.jobId());
            boolean forIt = now != null ? now == forJob
                    : a.terminating() && (a.stoppingFor() == 0 || a.stoppingFor() == forJob);
            if (forIt) {
                n += here(a, model);
            }
        }
        return n;
    }

    /**
     * Other accounts' preemptible attempts, not already stopping and past the minimum run,
     * holding GPUs of the model here.
     */
    List<RunningAttempt> othersPreemptible(String model, String exceptAccount, Map<Long, Long> preemptedNow) {
        List<RunningAttempt> out = new ArrayList<>();
        for (RunningAttempt a : running) {
            if (a.preemptible() && !a.terminating() && a.startedAt() <= exemptAfter
                    && !preemptedNow.containsKey(a.jobId())
                    && !a.account().equals(exceptAccount) && !(reserve > 0 && a.account().equals(operator))
                    && here(a, model) > 0) {
                out.add(a);
            }
        }
        return out;
    }

    /** GPUs of the model free at {@code time}, counting attempts and holds whose walltime ends by then. */
    int freeAt(String model, long time) {
        int n = free(model);
        for (RunningAttempt a : running) {
            if (a.terminating() || a.endsBy() <= time) {
                n += here(a, model);
            }
        }
        int m = index(model);
        for (Hold hold : holds) {
            if (hold.model() == m && hold.endsBy() <= time) {
                n += hold.count();
            }
        }
        return n;
    }
}
