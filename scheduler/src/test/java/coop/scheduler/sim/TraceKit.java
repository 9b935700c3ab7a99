package coop.scheduler.sim;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;

/** Test kit: {@code aTrace().job(0, "a", 2, 10).job(1, "b", 1, 5).build()}, times in seconds. */
final class TraceKit {
    private final List<TraceJob> jobs = new ArrayList<>();

    static TraceKit aTrace() {
        return new TraceKit();
    }

    TraceKit job(double submitS, String account, int gpus, double durationS) {
        jobs.add(new TraceJob(jobs.size() + 1, jobs.size() + 2, Math.round(submitS * 1000), account, gpus,
                Math.round(durationS * 1000), ""));
        return this;
    }

    Trace build() {
        return new Trace("test", jobs);
    }

    /** A random trace: sizes from {@code sizes}, exponential gaps and heavy-ish durations. */
    static Trace random(long seed, int count, List<String> accounts, int[] sizes) {
        Random r = new Random(seed);
        TraceKit kit = aTrace();
        double t = 0;
        for (int i = 0; i < count; i++) {
            t += Math.floor(-Math.log(1 - r.nextDouble()) * 120);
            double duration = 60 + Math.floor(Math.exp(r.nextDouble() * 9));
            kit.job(t, accounts.get(r.nextInt(accounts.size())), sizes[r.nextInt(sizes.length)], duration);
        }
        return kit.build();
    }

    /** Shares in percent: {@code shares("a", 60, "b", 40)}. */
    static Shares shares(Object... accountPercent) {
        Map<String, Integer> bp = new TreeMap<>();
        for (int i = 0; i < accountPercent.length; i += 2) {
            bp.put((String) accountPercent[i], ((Number) accountPercent[i + 1]).intValue() * 100);
        }
        return new Shares(bp);
    }

    /** Attempts' start times by job id (the first attempt's). */
    static Map<Long, Long> firstStarts(SimulationResult result) {
        Map<Long, Long> starts = new HashMap<>();
        for (JobOutcome j : result.jobs()) {
            starts.put(j.job().id(), j.firstStartMs());
        }
        return starts;
    }
}
