package coop.scheduler.http;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import coop.scheduler.store.Batch;
import coop.scheduler.store.Store;
import coop.scheduler.view.WireJson;
import coop.v1.AccountUsage;
import coop.v1.ShareWindow;
import coop.v1.UsageResponse;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Usage sampled over time, for the dashboard's chart: each sample is the usage report of one
 * moment (the same one {@code coop usage} prints). The recent samples are kept in a ring of
 * fixed size; with a store, the first sample of each {@code keepEvery} is also written to it and
 * kept for {@code keep}, so the chart reaches back a day at coarser steps and a restarted
 * scheduler shows what came before it. Both are bounded however long the scheduler runs; the
 * oldest samples fall out first.
 *
 * <p>The samples are written beside the event loop's batches, not through them: they are a view
 * of the state, not part of it, and a lost one costs a point of the chart, never a decision.
 */
final class History {
    private static final Logger log = LoggerFactory.getLogger(History.class);

    /** One moment: each account's voted share and the share of GPU time it got. */
    record Sample(long atMs, long policyVersion, int gpusOnline, int gpusBusy, List<AccountPoint> accounts) {
        Sample {
            accounts = accounts == null ? List.of() : List.copyOf(accounts);
        }
    }

    /**
     * One account at one moment: its voted share and achieved share under the live shares (which
     * start again at each enactment), and over the trailing hour (which does not).
     */
    record AccountPoint(String account, double votedPercent, double achievedPercent, int runningGpus,
                        int pendingJobs, double hourVotedPercent, double hourAchievedPercent) {
    }

    private final int capacity;
    private final Duration interval;
    private final ArrayDeque<Sample> samples;
    /** Where the kept samples are written; null keeps none. */
    private final Store store;
    private final Duration keep;
    private final long keepEveryMs;
    /** The kept samples, oldest first: one per {@link #keepEveryMs}, for {@link #keep}. */
    private final ArrayDeque<Sample> kept = new ArrayDeque<>();

    /** A history in memory only: the last {@code capacity} samples. */
    History(int capacity, Duration interval) {
        this(capacity, interval, null, Duration.ZERO, Duration.ofMinutes(1));
    }

    /**
     * A history that also keeps one sample per {@code keepEvery} for {@code keep} in {@code store},
     * starting with those a previous run kept there (newer than {@code keep} before {@code nowMs}).
     */
    History(int capacity, Duration interval, Store store, Duration keep, Duration keepEvery, long nowMs) {
        this(capacity, interval, store, keep, keepEvery);
        if (store != null) {
            restore(nowMs);
        }
    }

    private History(int capacity, Duration interval, Store store, Duration keep, Duration keepEvery) {
        if (capacity < 1) {
            throw new IllegalArgumentException("capacity must be at least 1, got " + capacity);
        }
        this.capacity = capacity;
        this.interval = interval;
        this.samples = new ArrayDeque<>(capacity);
        this.store = store;
        this.keep = keep;
        this.keepEveryMs = Math.max(1, keepEvery.toMillis());
    }

    private void restore(long nowMs) {
        Batch stale = new Batch();
        store.scan(Store.Kind.HISTORY, Sample.class, (key, s) -> {
            if (s.atMs() <= nowMs - keep.toMillis()) {
                stale.delete(Store.Kind.HISTORY, s.atMs());
            } else if (kept.isEmpty() || kept.peekLast().atMs() < s.atMs()) {
                kept.addLast(s);
            }
        });
        if (!stale.isEmpty()) {
            store.commit(stale);
        }
    }

    synchronized void add(UsageResponse usage) {
        List<AccountPoint> points = usage.getAccountsList().stream().map(History::point).toList();
        Sample s = new Sample(usage.getWindowEndMs(), usage.getPolicyVersion(), usage.getGpusOnline(),
                usage.getGpusBusy(), points);
        // The clock may step back (NTP); a sample dated before the last one would make the chart loop back.
        if (!samples.isEmpty() && samples.peekLast().atMs() >= s.atMs()
                || !kept.isEmpty() && kept.peekLast().atMs() >= s.atMs()) {
            return;
        }
        if (samples.size() == capacity) {
            samples.removeFirst();
        }
        samples.addLast(s);
        if (store != null && (kept.isEmpty() || s.atMs() / keepEveryMs != kept.peekLast().atMs() / keepEveryMs)) {
            keep(s);
        }
    }

    private void keep(Sample s) {
        Batch batch = new Batch();
        batch.put(Store.Kind.HISTORY, s.atMs(), s);
        kept.addLast(s);
        while (kept.peekFirst().atMs() <= s.atMs() - keep.toMillis()) {
            batch.delete(Store.Kind.HISTORY, kept.removeFirst().atMs());
        }
        try {
            store.commit(batch);
        } catch (RuntimeException e) {
            // The store closing under a late sample at shutdown; the next run starts from what was written.
            log.debug("history sample at {} not kept: {}", s.atMs(), e.toString());
        }
    }

    private static AccountPoint point(AccountUsage a) {
        ShareWindow hour = a.getWindowsList().stream().filter(w -> w.getStretch().equals("hour")).findFirst()
                .orElse(null);
        return new AccountPoint(a.getAccount(), a.getEntitledBasisPoints() / 100.0, a.getAchievedPercent(),
                a.getRunningGpus(), a.getPendingJobs(), hour == null ? a.getEntitledBasisPoints() / 100.0
                : hour.getVotedPercent(), hour == null ? a.getAchievedPercent() : hour.getAchievedPercent());
    }

    /** The samples after {@code afterMs}: the kept ones older than the ring, then the ring's, oldest first. */
    synchronized List<Sample> since(long afterMs) {
        long ringStart = samples.isEmpty() ? Long.MAX_VALUE : samples.peekFirst().atMs();
        List<Sample> out = new ArrayList<>();
        Stream.concat(kept.stream().filter(s -> s.atMs() < ringStart), samples.stream())
                .filter(s -> s.atMs() > afterMs).forEach(out::add);
        return out;
    }

    /**
     * The samples taken after {@code afterMs} (all of them for 0), oldest first, so a page that
     * polls asks only for what it has not seen.
     */
    ObjectNode json(long afterMs) {
        ObjectNode o = WireJson.object();
        o.put("interval_ms", interval.toMillis());
        o.put("capacity", capacity);
        o.put("kept_every_ms", store == null ? 0 : keepEveryMs);
        o.put("kept_ms", store == null ? 0 : keep.toMillis());
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
                        .put("pending_jobs", p.pendingJobs()).put("hour_voted_percent", p.hourVotedPercent())
                        .put("hour_achieved_percent", p.hourAchievedPercent());
            }
        }
        return o;
    }
}
