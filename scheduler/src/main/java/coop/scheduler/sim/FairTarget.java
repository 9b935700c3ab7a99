package coop.scheduler.sim;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.ToDoubleFunction;

/**
 * The fair target of DESIGN.md ("How fairness is judged"): a fluid simulation of the ideal
 * scheduler on the same trace, capacity and shares. At every instant each account with
 * submitted, unfinished work gets GPUs by weighted max-min water-filling: weights are the
 * voted shares, each account is capped by its demand (the GPUs of its unfinished jobs), and
 * what capped accounts leave flows to the others. GPUs are divisible and preemption is free.
 * Within an account its GPUs go to its jobs in submit order, each capped at its own GPU count,
 * and a job advances at (its GPUs now) / (its GPUs in the trace).
 *
 * <p>Between two events (a submit or a fluid job's completion) every rate is constant, so the
 * fluid simulation is exact and event-driven. Accounts with a zero share get only what the
 * others cannot use, divided equally among them.
 */
public final class FairTarget {
    /** A fluid job is done when less than this fraction of its work is left (floating-point dust). */
    private static final double DONE_FRACTION = 1e-9;

    private FairTarget() {
    }

    /** The ideal's GPU-seconds per account inside {@code window}, for all of the trace. */
    public static FairShares compute(List<TraceJob> jobs, int capacity, Shares shares, Window window) {
        return new Fluid(jobs, capacity, shares, window).run();
    }

    private static final class FluidJob {
        final int gpus;
        final double doneBelowGpuMs;
        double remainingGpuMs;
        double rate;

        FluidJob(TraceJob j) {
            this.gpus = j.gpus();
            this.remainingGpuMs = j.gpuMs();
            this.doneBelowGpuMs = j.gpuMs() * DONE_FRACTION;
        }

        boolean done() {
            return rate > 0 && remainingGpuMs <= doneBelowGpuMs;
        }
    }

    private static final class Account {
        final String name;
        final double weight;
        final List<FluidJob> jobs = new ArrayList<>();
        long demand;
        double allocation;
        double gpuMs;

        Account(String name, double weight) {
            this.name = name;
            this.weight = weight;
        }
    }

    private static final class Fluid {
        private final List<TraceJob> jobs;
        private final int capacity;
        private final Window window;
        private final Map<String, Account> accounts = new HashMap<>();
        private final Account[] all;

        Fluid(List<TraceJob> jobs, int capacity, Shares shares, Window window) {
            this.jobs = jobs.stream().sorted(Comparator.comparingLong(TraceJob::submitMs)).toList();
            this.capacity = capacity;
            this.window = window;
            for (String a : shares.basisPoints().keySet()) {
                accounts.put(a, new Account(a, shares.of(a)));
            }
            for (TraceJob j : jobs) {
                accounts.computeIfAbsent(j.account(), a -> new Account(a, shares.of(a)));
            }
            this.all = accounts.values().toArray(new Account[0]);
            Arrays.sort(all, Comparator.comparing(a -> a.name));
        }

        FairShares run() {
            int next = 0;
            double t = jobs.isEmpty() ? window.startMs() : Math.min(window.startMs(), jobs.get(0).submitMs());
            double end = window.endMs();
            while (t < end) {
                while (next < jobs.size() && jobs.get(next).submitMs() <= t) {
                    TraceJob j = jobs.get(next++);
                    Account a = accounts.get(j.account());
                    a.jobs.add(new FluidJob(j));
                    a.demand += j.gpus();
                }
                allocate();
                double dt = end - t;
                if (next < jobs.size()) {
                    dt = Math.min(dt, jobs.get(next).submitMs() - t);
                }
                for (Account a : all) {
                    for (FluidJob f : a.jobs) {
                        if (f.rate <= 0) {
                            break;
                        }
                        dt = Math.min(dt, f.remainingGpuMs / f.rate);
                    }
                }
                double from = Math.max(t, window.startMs());
                double counted = Math.max(0, Math.min(t + dt, end) - from);
                for (Account a : all) {
                    a.gpuMs += a.allocation * counted;
                    boolean done = false;
                    for (FluidJob f : a.jobs) {
                        if (f.rate <= 0) {
                            break;
                        }
                        f.remainingGpuMs -= f.rate * dt;
                        done |= f.done();
                    }
                    if (done) {
                        a.jobs.removeIf(f -> {
                            boolean over = f.done();
                            if (over) {
                                a.demand -= f.gpus;
                            }
                            return over;
                        });
                    }
                }
                t += dt;
            }
            Map<String, Double> gpuSeconds = new HashMap<>();
            double busy = 0;
            for (Account a : all) {
                gpuSeconds.put(a.name, a.gpuMs / 1000.0);
                busy += a.gpuMs / 1000.0;
            }
            return new FairShares(gpuSeconds, busy, capacity, window);
        }

        /** Weighted max-min water-filling over accounts, then submit order within each account. */
        private void allocate() {
            List<Account> wanting = new ArrayList<>();
            List<Account> unweighted = new ArrayList<>();
            for (Account a : all) {
                a.allocation = 0;
                if (a.demand > 0) {
                    (a.weight > 0 ? wanting : unweighted).add(a);
                }
            }
            double left = waterFill(wanting, capacity, a -> a.weight);
            waterFill(unweighted, left, a -> 1.0);
            for (Account a : all) {
                double give = a.allocation;
                for (FluidJob f : a.jobs) {
                    f.rate = Math.min(f.gpus, give);
                    give -= f.rate;
                }
            }
        }

        /** Gives {@code capacity} to {@code accounts} by weight, each capped at its demand; returns what is left. */
        private static double waterFill(List<Account> accounts, double capacity,
                                        ToDoubleFunction<Account> weight) {
            accounts.sort(Comparator.comparingDouble(a -> a.demand / weight.applyAsDouble(a)));
            double left = capacity;
            double weights = 0;
            for (Account a : accounts) {
                weights += weight.applyAsDouble(a);
            }
            for (Account a : accounts) {
                if (left <= 0) {
                    break;
                }
                double w = weight.applyAsDouble(a);
                double level = left / weights;
                a.allocation = Math.min(a.demand, level * w);
                left -= a.allocation;
                weights -= w;
            }
            return Math.max(0, left);
        }
    }
}
