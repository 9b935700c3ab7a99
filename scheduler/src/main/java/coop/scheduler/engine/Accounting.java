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
import java.time.Duration;
import java.time.InstantSource;
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
 * GPU time per account: what ended attempts used (under the live policy's shares and over all
 * time), what running ones hold, usage decayed with the policy's half-life (the fair-share
 * order), and the time each account's fair level would have given it (who is owed time).
 */
public final class Accounting {
    private static final Logger log = LoggerFactory.getLogger(Accounting.class);

    /** One account's row of {@link Usage}. */
    public record AccountUsage(String account, int entitledBasisPoints, double achievedPercent, double gpuSeconds,
                               int runningJobs, int runningGpus, int pendingJobs, double totalGpuSeconds) {
    }

    /** Usage under the live policy, from its enactment to now. */
    public record Usage(long policyVersion, long windowStart, long windowEnd, List<AccountUsage> accounts,
                        int gpusOnline, int gpusBusy) {
    }

    /**
     * Counts for metrics, taken on the loop thread and safe to read from any other once made: jobs
     * by state; GPUs held by running attempts and GPUs entitled (policy share of the GPUs of
     * connected nodes) per open account; connected agents and their GPUs; and when the least
     * recent heartbeat among connected agents was applied ({@code Long.MAX_VALUE}: none connected).
     */
    public record Census(long takenAt, Map<JobState, Integer> jobs, Map<String, Integer> allocatedGpus,
                         Map<String, Double> entitledGpus, int agentsConnected, int gpusOnline,
                         long oldestHeartbeat) {
    }

    private final InstantSource clock;
    private final GovernanceDesk desk;
    private final JobBook jobs;
    /** GPU-milliseconds of ended attempts, clipped to the live policy's period, per account. */
    private final Map<String, Long> periodGpuMillis = new HashMap<>();
    /** GPU-milliseconds of ended attempts over all time, per account. */
    private final Map<String, Long> totalGpuMillis = new HashMap<>();
    /** GPUs held by attempts that have not ended, per account. */
    private final Map<String, Integer> heldGpus = new HashMap<>();
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
        for (Job j : jobs.all()) {
            for (Attempt a : j.attempts()) {
                decayed.addInterval(j.account(), a.gpus(), a.startedAt(), a.isOver() ? a.finishedAt() : now);
                if (a.isOver()) {
                    accrue(j.account(), a);
                } else {
                    heldGpus.merge(j.account(), a.gpus(), Integer::sum);
                }
            }
        }
        // Fair-level history is not stored: after a restart, count what was used as what was fair.
        decayed.all().forEach((a, u) -> fairUsage.addPast(a, u, now));
    }

    /** An attempt of the account's started on {@code gpus} GPUs. */
    void started(String account, int gpus, long now) {
        decayed.advance(now, heldGpus);
        heldGpus.merge(account, gpus, Integer::sum);
    }

    /** An attempt of the account's ended: its GPUs are free and its time is counted. */
    void ended(String account, Attempt a, long now) {
        decayed.advance(now, heldGpus);
        heldGpus.merge(account, -a.gpus(), Integer::sum);
        accrue(account, a);
    }

    private void accrue(String account, Attempt a) {
        periodGpuMillis.merge(account, a.gpuMillis(desk.policy().sharesSince(), a.finishedAt()), Long::sum);
        totalGpuMillis.merge(account, a.gpuMillis(0, a.finishedAt()), Long::sum);
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
                    runningJobs, runningGpus, pendingJobs, total.getOrDefault(a, 0L) / 1000.0));
        }
        int online = 0;
        int busy = 0;
        for (NodeRuntime n : nodes) {
            if (n.link != null) {
                online += n.gpus.size();
                busy += n.busyGpus().size();
            }
        }
        return new Usage(policy.version(), policy.sharesSince(), now, rows, online, busy);
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
        return new Census(clock.millis(), Map.copyOf(byState), Map.copyOf(allocated), Map.copyOf(entitled), agents,
                gpus, oldest);
    }
}
