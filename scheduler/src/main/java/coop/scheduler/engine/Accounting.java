package coop.scheduler.engine;

import coop.scheduler.allocation.AccountStanding;
import coop.scheduler.allocation.DecayedUsage;
import coop.scheduler.allocation.FairLevels;
import coop.scheduler.domain.Account;
import coop.scheduler.domain.Attempt;
import coop.scheduler.domain.Job;
import coop.scheduler.domain.JobState;
import coop.scheduler.domain.Policy;
import coop.scheduler.governance.Governance;
import coop.scheduler.domain.ShareVerdict;
import java.time.Duration;
import java.time.InstantSource;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collection;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * GPU time per account: what ended attempts used (under the live policy's shares, over the last
 * day and over all time), what running ones hold, usage decayed with the policy's half-life (the
 * fair-share order), the time each account's fair level would have given it (who is owed time),
 * and what preemption cost it. The usage report judges each account's share over three
 * stretches by {@link ShareVerdict}: since the live shares took effect, which starts again at
 * each enactment of new shares, and the trailing hour and day, which do not.
 */
public final class Accounting {
    private static final Logger log = LoggerFactory.getLogger(Accounting.class);

    /**
     * One account's row of {@link Usage}. {@code windows} holds its share over each {@link Stretch},
     * in that order. Preemptions count its attempts told to stop for another job over all time;
     * {@code lostGpuSeconds} is each such attempt's whole GPU time from its start to its end (see
     * {@link #lostGpuMillis}); {@code maxJobPreemptions} is the most preemptions of any one job.
     */
    public record AccountUsage(String account, int entitledBasisPoints, double achievedPercent, double gpuSeconds,
                               int runningJobs, int runningGpus, int pendingJobs, double totalGpuSeconds,
                               List<ShareWindow> windows, long preemptions, double lostGpuSeconds,
                               int maxJobPreemptions) {
    }

    /** The stretches of time each share is judged over. */
    public enum Stretch {
        /** Since the live shares took effect: starts again at each enactment of new shares. */
        POLICY(null),
        HOUR(Duration.ofHours(1)),
        DAY(Duration.ofDays(1));

        /** How far back a trailing stretch reaches; null for {@link #POLICY}. */
        public final Duration length;

        Stretch(Duration length) {
            this.length = length;
        }

        /** As the wire names it: "policy", "hour", "day". */
        public String label() {
            return name().toLowerCase(java.util.Locale.ROOT);
        }
    }

    /**
     * One account's share over one stretch from {@code from} to the report's end: its voted share
     * (the shares in force weighted by how long each was), the share of the GPU time used that it
     * got, its GPU-seconds, whether it had work waiting throughout, and the verdict.
     */
    public record ShareWindow(Stretch stretch, long from, double votedPercent, double achievedPercent,
                              double gpuSeconds, boolean waited, ShareVerdict verdict) {
    }

    /** The verdict on all accounts over one stretch, with the largest gap (absolute, in percentage points). */
    public record StretchVerdict(Stretch stretch, long from, ShareVerdict.Outcome outcome, double worstGapPp) {
    }

    /** Usage under the live policy, from its enactment to now, and the verdict over each {@link Stretch}. */
    public record Usage(long policyVersion, long windowStart, long windowEnd, List<AccountUsage> accounts,
                        int gpusOnline, int gpusBusy, List<StretchVerdict> verdicts) {
    }

    /**
     * Counts for metrics, taken on the loop thread and safe to read from any other once made: jobs
     * by state; GPUs held by running attempts and GPUs entitled (policy share of the GPUs of
     * connected nodes) per open account; connected agents and their GPUs; and when the least
     * recent heartbeat among connected agents was applied ({@code Long.MAX_VALUE}: none connected).
     */
    public record Census(long takenAt, Map<JobState, Integer> jobs, Map<String, Integer> allocatedGpus,
                         Map<String, Double> entitledGpus, int agentsConnected, int gpusOnline,
                         long oldestHeartbeat, Map<String, Long> preemptions, Map<String, Double> lostGpuSeconds) {
    }

    /** An ended attempt's GPU time, kept for the trailing stretches. */
    private record Span(String account, int gpus, long start, long end) {
        long gpuMillis(long from, long to) {
            long a = Math.max(start, from);
            long b = Math.min(end, to);
            return b > a ? (b - a) * gpus : 0;
        }
    }

    /** The longest trailing stretch: how long ended attempts are kept for them. */
    private static final Duration LONGEST = Stretch.DAY.length;

    private final InstantSource clock;
    private final GovernanceDesk desk;
    private final JobBook jobs;
    /** GPU-milliseconds of ended attempts, clipped to the live policy's period, per account. */
    private final Map<String, Long> periodGpuMillis = new HashMap<>();
    /** GPU-milliseconds of ended attempts over all time, per account. */
    private final Map<String, Long> totalGpuMillis = new HashMap<>();
    /** GPUs held by attempts that have not ended, per account. */
    private final Map<String, Integer> heldGpus = new HashMap<>();
    /** Attempts that ended within the longest trailing stretch, oldest end first. */
    private final ArrayDeque<Span> recent = new ArrayDeque<>();
    /** Attempts told to stop for another job, per account, over all time. */
    private final Map<String, Long> preemptions = new HashMap<>();
    /** GPU-milliseconds of those attempts, per account: see {@link #lostGpuMillis}. */
    private final Map<String, Long> lostGpuMillis = new HashMap<>();
    /** The most preemptions of any one job, per account. */
    private final Map<String, Integer> maxJobPreemptions = new HashMap<>();
    /** Usage decayed with the policy's half-life: the fair-share order among accounts. */
    private DecayedUsage decayed;
    /** GPU-seconds each account's fair level would have given it, decayed alike: who is owed time. */
    private DecayedUsage fairUsage;
    /** Fair levels from the last allocation cycle: the rates {@link #fairUsage} accrues at until the next. */
    private Map<String, Double> fairLevels = Map.of();

    /** Counts what the stored jobs used and hold, as of now. */
    Accounting(InstantSource clock, GovernanceDesk desk, JobBook jobs) {
        this.clock = clock;
        this.desk = desk;
        this.jobs = jobs;
        long now = clock.millis();
        decayed = new DecayedUsage(desk.policy().params().halfLife(), now);
        fairUsage = new DecayedUsage(desk.policy().params().halfLife(), now);
        List<Span> ended = new ArrayList<>();
        for (Job j : jobs.all()) {
            for (Attempt a : j.attempts()) {
                decayed.addInterval(j.account(), a.gpus(), a.startedAt(), a.isOver() ? a.finishedAt() : now);
                if (a.isOver()) {
                    accrue(j, a);
                    if (a.finishedAt() > now - LONGEST.toMillis()) {
                        ended.add(new Span(j.account(), a.gpus(), a.startedAt(), a.finishedAt()));
                    }
                } else {
                    heldGpus.merge(j.account(), a.gpus(), Integer::sum);
                }
            }
        }
        // The counts of preemption are derived from the stored attempts, so a restart keeps them.
        ended.sort(java.util.Comparator.comparingLong(Span::end));
        recent.addAll(ended);
        // Fair-level history is not stored: after a restart, count what was used as what was fair.
        decayed.all().forEach((a, u) -> fairUsage.addPast(a, u, now));
    }

    /** An attempt of the account's started on {@code gpus} GPUs. */
    void started(String account, int gpus, long now) {
        decayed.advance(now, heldGpus);
        heldGpus.merge(account, gpus, Integer::sum);
    }

    /** An attempt of job {@code j} (which already holds it as ended) ended: its GPUs are free and its time is counted. */
    void ended(Job j, Attempt a, long now) {
        decayed.advance(now, heldGpus);
        heldGpus.merge(j.account(), -a.gpus(), Integer::sum);
        accrue(j, a);
        recent.addLast(new Span(j.account(), a.gpus(), a.startedAt(), a.finishedAt()));
        forget(now);
    }

    private void accrue(Job j, Attempt a) {
        String account = j.account();
        periodGpuMillis.merge(account, a.gpuMillis(desk.policy().sharesSince(), a.finishedAt()), Long::sum);
        totalGpuMillis.merge(account, a.gpuMillis(0, a.finishedAt()), Long::sum);
        if (a.isPreempted()) {
            preemptions.merge(account, 1L, Long::sum);
            lostGpuMillis.merge(account, lostGpuMillis(a), Long::sum);
            int ofJob = (int) j.attempts().stream().filter(x -> x.isPreempted() && x.isOver()).count();
            maxJobPreemptions.merge(account, ofJob, Math::max);
        }
    }

    /**
     * The GPU time a preempted attempt lost: all of it, its GPUs times the time from its start to
     * its end. The scheduler cannot know when the job last saved a checkpoint, so it counts as the
     * simulator does under {@code --checkpoint none}, which makes the figure an upper bound: a job
     * that saves on the stop signal, or every so often, loses less.
     */
    static long lostGpuMillis(Attempt preempted) {
        return preempted.gpuMillis(0, preempted.finishedAt());
    }

    /** Drops ended attempts that no trailing stretch reaches any more. */
    private void forget(long now) {
        long horizon = now - LONGEST.toMillis();
        while (!recent.isEmpty() && recent.peekFirst().end() <= horizon) {
            recent.removeFirst();
        }
    }

    /** GPUs held by attempts that have not ended, per account; a live view. */
    Map<String, Integer> held() {
        return heldGpus;
    }

    /** Brings decayed usage and owed time up to {@code now}, ahead of an allocation cycle. */
    void advance(long now) {
        decayed.advance(now, heldGpus);
        fairUsage.advanceAtRates(now, fairLevels);
    }

    /** Each account's share, decayed usage and owed time: the allocator's view of the accounts. */
    Map<String, AccountStanding> standings() {
        Map<String, AccountStanding> standings = new HashMap<>();
        for (String a : desk.accounts().keySet()) {
            standings.put(a, new AccountStanding(a, desk.policy().share(a), decayed.of(a), fairUsage.of(a)));
        }
        return standings;
    }

    /** Sets the fair levels {@link #fairUsage} accrues at until the next cycle: {@code capacity} filled by demand. */
    void level(int capacity, Map<String, Double> demand, Map<String, AccountStanding> standings) {
        fairLevels = FairLevels.waterFill(capacity, demand, standings);
    }

    /**
     * A new policy is in force. New shares start a new period, a new agreement: usage under it
     * starts from zero, for the report, for the fair-share order and for owed time. What each
     * account used under the old shares was its due then; carrying it over would make an
     * account that was voted down pay, under the new shares, for GPU time the old ones gave it.
     */
    void enacted(Policy before, Policy policy, long now, Tx tx) {
        if (policy.sharesSince() != before.sharesSince()) {
            periodGpuMillis.clear();
            decayed.restart(now);
            fairUsage.restart(now);
        }
        if (!policy.params().halfLife().equals(before.params().halfLife())) {
            decayed = rebased(decayed, policy.params().halfLife(), now);
            fairUsage = rebased(fairUsage, policy.params().halfLife(), now);
        }
        tx.allocationDue();
        log.info("policy {} enacted: {}", policy.version(), Governance.describeShares(policy.shares()));
    }

    private static DecayedUsage rebased(DecayedUsage old, Duration halfLife, long now) {
        DecayedUsage next = new DecayedUsage(halfLife, now);
        old.all().forEach((a, u) -> next.addPast(a, u, now));
        return next;
    }

    /** Usage under the live policy, from its enactment to now, beside the GPUs of the connected nodes. */
    Usage usage(Collection<NodeRuntime> nodes) {
        long now = clock.millis();
        Policy policy = desk.policy();
        Map<String, Long> period = usedMillis(policy.sharesSince(), now, periodGpuMillis);
        Map<String, Long> total = usedMillis(0, now, totalGpuMillis);
        long sum = period.values().stream().mapToLong(Long::longValue).sum();
        List<AccountUsage> rows = new ArrayList<>();
        for (String a : desk.accounts().keySet()) {
            int runningJobs = 0;
            int runningGpus = 0;
            int pendingJobs = 0;
            for (long id : jobs.inFlight()) {
                Job j = jobs.get(id);
                if (j.account().equals(a) && j.state() == JobState.RUNNING) {
                    runningJobs++;
                    runningGpus += j.gpus();
                }
            }
            pendingJobs += jobs.pending().count(a);
            long used = period.getOrDefault(a, 0L);
            rows.add(new AccountUsage(a, policy.share(a), sum == 0 ? 0 : 100.0 * used / sum, used / 1000.0,
                    runningJobs, runningGpus, pendingJobs, total.getOrDefault(a, 0L) / 1000.0, List.of(),
                    preemptions.getOrDefault(a, 0L), lostGpuMillis.getOrDefault(a, 0L) / 1000.0,
                    maxJobPreemptions.getOrDefault(a, 0)));
        }
        List<StretchVerdict> verdicts = new ArrayList<>();
        rows = judged(rows, period, now, verdicts);
        int online = 0;
        int busy = 0;
        for (NodeRuntime n : nodes) {
            if (n.link != null) {
                online += n.gpus.size();
                busy += n.busyGpus().size();
            }
        }
        return new Usage(policy.version(), policy.sharesSince(), now, rows, online, busy, verdicts);
    }

    /** The rows with their share over each stretch and its verdict; the verdict on all accounts goes to {@code out}. */
    private List<AccountUsage> judged(List<AccountUsage> rows, Map<String, Long> period, long now,
                                      List<StretchVerdict> out) {
        forget(now);
        Map<String, Long> waitingSince = waitingSince(now);
        List<Policy> policies = desk.policies();
        long origin = policies.isEmpty() ? now : policies.get(0).enactedAt();
        Map<String, List<ShareWindow>> windows = new HashMap<>();
        for (Stretch s : Stretch.values()) {
            long from = s == Stretch.POLICY ? desk.policy().sharesSince()
                    : Math.max(origin, now - s.length.toMillis());
            Map<String, Long> used = s == Stretch.POLICY ? period : recentMillis(from, now);
            long sum = used.values().stream().mapToLong(Long::longValue).sum();
            Map<String, Double> voted = votedOver(policies, from, now);
            List<ShareVerdict.Outcome> outcomes = new ArrayList<>();
            double worst = 0;
            for (AccountUsage r : rows) {
                String a = r.account();
                boolean waited = waitingSince.getOrDefault(a, Long.MAX_VALUE) <= from;
                boolean othersWaited = rows.stream().map(AccountUsage::account)
                        .filter(o -> !o.equals(a) && voted.getOrDefault(o, 0.0) > 0)
                        .allMatch(o -> waitingSince.getOrDefault(o, Long.MAX_VALUE) <= from);
                long mine = used.getOrDefault(a, 0L);
                double achieved = sum == 0 ? 0 : 100.0 * mine / sum;
                double v = voted.getOrDefault(a, 0.0);
                ShareVerdict verdict = ShareVerdict.of(v, achieved, waited, othersWaited, sum > 0);
                windows.computeIfAbsent(a, k -> new ArrayList<>()).add(new ShareWindow(s, from, v, achieved,
                        mine / 1000.0, waited, verdict));
                outcomes.add(verdict.outcome());
                worst = Math.max(worst, Math.abs(verdict.gapPp()));
            }
            out.add(new StretchVerdict(s, from, ShareVerdict.overall(outcomes), worst));
        }
        List<AccountUsage> judged = new ArrayList<>(rows.size());
        for (AccountUsage r : rows) {
            judged.add(new AccountUsage(r.account(), r.entitledBasisPoints(), r.achievedPercent(), r.gpuSeconds(),
                    r.runningJobs(), r.runningGpus(), r.pendingJobs(), r.totalGpuSeconds(),
                    List.copyOf(windows.getOrDefault(r.account(), List.of())), r.preemptions(), r.lostGpuSeconds(),
                    r.maxJobPreemptions()));
        }
        return judged;
    }

    /**
     * Since when each account has had work waiting without a break, as far as its pending jobs
     * show: the earliest time one of them has waited since (its submission, or the end of its last
     * attempt when it was requeued). Accounts with nothing pending are absent. It may start later
     * than the true stretch (jobs that waited before it and have started since are not counted),
     * never earlier, so an account is never said to have waited when it did not.
     */
    private Map<String, Long> waitingSince(long now) {
        Map<String, Long> since = new HashMap<>();
        for (var r : jobs.pending().all()) {
            Job j = jobs.get(r.id());
            Attempt last = j.current();
            long t = last == null ? j.submittedAt() : last.isOver() ? last.finishedAt() : now;
            since.merge(j.account(), t, Math::min);
        }
        return since;
    }

    /** Each account's voted share (percent) over [from, to]: the shares in force, weighted by how long each was. */
    static Map<String, Double> votedOver(List<Policy> policies, long from, long to) {
        Map<String, Double> voted = new HashMap<>();
        if (to <= from) {
            // An empty stretch: the shares in force at its end.
            for (Policy p : policies) {
                if (p.enactedAt() <= to) {
                    voted.clear();
                    p.shares().forEach((a, bp) -> voted.put(a, bp / 100.0));
                }
            }
            return voted;
        }
        for (int i = 0; i < policies.size(); i++) {
            Policy p = policies.get(i);
            long start = Math.max(from, p.enactedAt());
            long end = Math.min(to, i + 1 < policies.size() ? policies.get(i + 1).enactedAt() : Long.MAX_VALUE);
            if (end > start) {
                double weight = (double) (end - start) / (to - from);
                p.shares().forEach((a, bp) -> voted.merge(a, weight * bp / 100.0, Double::sum));
            }
        }
        return voted;
    }

    /** GPU-milliseconds used in [from, now] per account: ended attempts of the last day and running ones. */
    private Map<String, Long> recentMillis(long from, long now) {
        Map<String, Long> out = new HashMap<>();
        for (Span s : recent) {
            long ms = s.gpuMillis(from, now);
            if (ms > 0) {
                out.merge(s.account(), ms, Long::sum);
            }
        }
        return usedMillis(from, now, out);
    }

    /** Ended usage plus the part of running attempts after {@code from}, per account. */
    private Map<String, Long> usedMillis(long from, long now, Map<String, Long> ended) {
        Map<String, Long> out = new HashMap<>(ended);
        for (long id : jobs.inFlight()) {
            Job j = jobs.get(id);
            for (Attempt a : j.attempts()) {
                if (!a.isOver()) {
                    out.merge(j.account(), a.gpuMillis(from, now), Long::sum);
                }
            }
        }
        return out;
    }

    /** The counts as of now; linear in jobs and nodes, so the caller decides how often. */
    Census census(Collection<NodeRuntime> nodes) {
        Map<JobState, Integer> byState = new EnumMap<>(JobState.class);
        for (JobState s : JobState.values()) {
            byState.put(s, 0);
        }
        for (Job j : jobs.all()) {
            byState.merge(j.state(), 1, Integer::sum);
        }
        int agents = 0;
        int gpus = 0;
        long oldest = Long.MAX_VALUE;
        for (NodeRuntime n : nodes) {
            if (n.link != null) {
                agents++;
                gpus += n.gpus.size();
                oldest = Math.min(oldest, n.lastHeartbeat);
            }
        }
        Policy policy = desk.policy();
        Map<String, Integer> allocated = new TreeMap<>();
        Map<String, Double> entitled = new TreeMap<>();
        for (Map.Entry<String, Account> a : desk.accounts().entrySet()) {
            if (a.getValue().open()) {
                allocated.put(a.getKey(), heldGpus.getOrDefault(a.getKey(), 0));
                entitled.put(a.getKey(), gpus * policy.share(a.getKey()) / 10_000.0);
            }
        }
        Map<String, Double> lost = new TreeMap<>();
        lostGpuMillis.forEach((a, ms) -> lost.put(a, ms / 1000.0));
        return new Census(clock.millis(), Map.copyOf(byState), Map.copyOf(allocated), Map.copyOf(entitled), agents,
                gpus, oldest, Map.copyOf(preemptions), Map.copyOf(lost));
    }
}
