package coop.scheduler.sim;

import java.util.HashMap;
import java.util.Map;

/**
 * Each multi-node job's wait under a policy against its wait under FIFO on the same trace: how
 * many waited more than twice as long (the target is none), and the worst of them. A gang is
 * compared when it started under both policies.
 *
 * @param compared     multi-node jobs that started under both
 * @param overTwice    of those, how many waited more than twice their FIFO wait
 * @param worstJobId   the job with the largest excess over twice its FIFO wait, or -1
 * @param worstWaitS   its wait under the policy, in seconds
 * @param worstFifoS   its wait under FIFO, in seconds
 */
public record GangWaits(int compared, int overTwice, long worstJobId, double worstWaitS, double worstFifoS) {

    public static GangWaits of(SimulationResult policy, SimulationResult fifo) {
        Map<Long, JobOutcome> underFifo = new HashMap<>();
        for (JobOutcome j : fifo.jobs()) {
            underFifo.put(j.job().id(), j);
        }
        int compared = 0;
        int over = 0;
        long worst = -1;
        double worstExcess = 0;
        double worstWait = Double.NaN;
        double worstFifo = Double.NaN;
        for (JobOutcome j : policy.jobs()) {
            JobOutcome f = underFifo.get(j.job().id());
            if (!j.gang() || !j.started() || f == null || !f.started()) {
                continue;
            }
            compared++;
            double excess = j.waitMs() - 2.0 * f.waitMs();
            if (excess > 0) {
                over++;
                if (excess > worstExcess) {
                    worstExcess = excess;
                    worst = j.job().id();
                    worstWait = j.waitMs() / 1000.0;
                    worstFifo = f.waitMs() / 1000.0;
                }
            }
        }
        return new GangWaits(compared, over, worst, worstWait, worstFifo);
    }
}
