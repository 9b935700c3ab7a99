package coop.scheduler.http;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import coop.scheduler.view.WireJson;
import coop.v1.AccountUsage;
import coop.v1.UsageResponse;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.List;

/**
 * Usage sampled over time, for the dashboard's chart: each sample is the usage report of one
 * moment (the same one {@code coop usage} prints), kept in a ring of fixed size so the history
 * costs bounded memory however long the scheduler runs. The oldest samples fall out first.
 */
final class History {
    /** One moment: each account's voted share and the share of GPU time it got under the live policy. */
    record Sample(long atMs, long policyVersion, int gpusOnline, int gpusBusy, List<AccountPoint> accounts) {
    }

    record AccountPoint(String account, double votedPercent, double achievedPercent, int runningGpus,
                        int pendingJobs) {
    }

    private final int capacity;
    private final Duration interval;
    private final ArrayDeque<Sample> samples;

    History(int capacity, Duration interval) {
        if (capacity < 1) {
            throw new IllegalArgumentException("capacity must be at least 1, got " + capacity);
        }
        this.capacity = capacity;
        this.interval = interval;
        this.samples = new ArrayDeque<>(capacity);
    }

    synchronized void add(UsageResponse usage) {
        List<AccountPoint> points = usage.getAccountsList().stream().map(History::point).toList();
        Sample s = new Sample(usage.getWindowEndMs(), usage.getPolicyVersion(), usage.getGpusOnline(),
                usage.getGpusBusy(), points);
        // The clock may step back (NTP); a sample dated before the last one would make the chart loop back.
        if (!samples.isEmpty() && samples.peekLast().atMs() >= s.atMs()) {
            return;
        }
        if (samples.size() == capacity) {
            samples.removeFirst();
        }
        samples.addLast(s);
    }

    private static AccountPoint point(AccountUsage a) {
        return new AccountPoint(a.getAccount(), a.getEntitledBasisPoints() / 100.0, a.getAchievedPercent(),
                a.getRunningGpus(), a.getPendingJobs());
    }

    synchronized List<Sample> since(long afterMs) {
        return samples.stream().filter(s -> s.atMs() > afterMs).toList();
    }

    /**
     * The samples taken after {@code afterMs} (all of them for 0), oldest first, so a page that
     * polls asks only for what it has not seen.
     */
    ObjectNode json(long afterMs) {
        ObjectNode o = WireJson.object();
        o.put("interval_ms", interval.toMillis());
        o.put("capacity", capacity);
        ArrayNode list = o.putArray("samples");
        for (Sample s : since(afterMs)) {
            ObjectNode n = list.addObject();
            n.put("at_ms", s.atMs());
            n.put("policy_version", s.policyVersion());
            n.put("gpus_online", s.gpusOnline());
            n.put("gpus_busy", s.gpusBusy());
            n.put("utilization_percent", s.gpusOnline() == 0 ? 0.0 : 100.0 * s.gpusBusy() / s.gpusOnline());
            ArrayNode accounts = n.putArray("accounts");
            for (AccountPoint p : s.accounts()) {
                accounts.addObject().put("account", p.account()).put("voted_percent", p.votedPercent())
                        .put("achieved_percent", p.achievedPercent()).put("running_gpus", p.runningGpus())
                        .put("pending_jobs", p.pendingJobs());
            }
        }
        return o;
    }
}
