package coop.scheduler.engine;

import coop.scheduler.allocation.AccountQueue;
import coop.scheduler.allocation.AccountStanding;
import coop.scheduler.allocation.Allocator;
import coop.scheduler.allocation.ClusterSnapshot;
import coop.scheduler.allocation.Decision;
import coop.scheduler.allocation.GpuSlot;
import coop.scheduler.allocation.Holds;
import coop.scheduler.allocation.JobList;
import coop.scheduler.allocation.JobRequest;
import coop.scheduler.allocation.NodeView;
import coop.scheduler.allocation.Plan;
import coop.scheduler.allocation.PreemptionRules;
import coop.scheduler.allocation.RunningAttempt;
import coop.scheduler.audit.CycleRecord;
import coop.scheduler.domain.Attempt;
import coop.scheduler.domain.Availability;
import coop.scheduler.domain.Job;
import coop.scheduler.domain.JobState;
import coop.scheduler.domain.NodeRecord;
import coop.scheduler.domain.Params;
import coop.scheduler.domain.Placement;
import coop.scheduler.domain.RankRef;
import coop.scheduler.store.Store;
import java.time.Duration;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One allocation cycle: a snapshot of nodes, running attempts, queues and standings goes to the
 * pure {@link Allocator}; its decisions come back as attempts started (with their launch
 * environment), attempts preempted, and why-pending notes.
 */
final class CycleRunner {
    private static final Logger log = LoggerFactory.getLogger(CycleRunner.class);
    /**
     * One deciding cycle in this many is recorded for audit (coop audit replay), besides the first
     * after a start and the first under each new policy: often enough that a member can re-derive
     * the allocator's work across every policy, rarely enough that its snapshots cost little.
     */
    static final int RECORD_EVERY = 16;

    private final InstantSource clock;
    /** Grace the operator set with --preemption-grace, or null to follow the policy. */
    private final Duration preemptionGrace;
    private final Allocator allocator = new Allocator();
    /** GPUs preemptions freed for jobs that have not started yet; kept in memory only (see {@link Holds}). */
    private final Holds holds = new Holds();
    private final GovernanceDesk desk;
    private final JobBook jobs;
    private final Accounting accounting;
    private final AgentSessions sessions;
    private final NodeRegistry registry;
    private Plan lastPlan;
    /**
     * Whether the last cycle had no node offered and no attempt running, so that it could decide
     * nothing and left every wait to {@link #lastPlan} to explain.
     */
    private boolean lastCycleIdle;
    /** Cycles that started, preempted or held something since the scheduler started. */
    private long decidingCycles;
    /** The policy in force at the last recorded cycle; -1 before the first. */
    private long recordedPolicy = -1;
    /** The next instant a windowed node opens or closes, as of the last cycle: a cycle is due then. */
    private long wakeAt = Long.MAX_VALUE;

    CycleRunner(InstantSource clock, Duration preemptionGrace, GovernanceDesk desk, JobBook jobs,
                Accounting accounting, AgentSessions sessions, NodeRegistry registry) {
        this.clock = clock;
        this.preemptionGrace = preemptionGrace;
        this.desk = desk;
        this.jobs = jobs;
        this.accounting = accounting;
        this.sessions = sessions;
        this.registry = registry;
    }

    /** Whether a windowed node has opened or closed, or the preemption rules let more be preempted, since the last cycle. */
    boolean wakeDue(long now) {
        return now >= wakeAt;
    }

    /** Why the last plan left a pending job waiting; empty when no plan has seen it. */
    String explain(long jobId) {
        JobRequest r = jobs.pending().get(jobId);
        return r == null || lastPlan == null ? "" : lastPlan.explain(r).detail();
    }

    /** Runs one allocation cycle and applies its decisions. */
    void run(Tx tx) {
        long now = clock.millis();
        accounting.advance(now);
        if (lastCycleIdle && tx.onlyJobsQueued()) {
            // Only new jobs since a cycle that had no node offered and no attempt running: this one
            // could start, reserve or preempt nothing either, and the last plan explains the new
            // jobs' waits as it does any job it did not see. A cooperative whose nodes are away can
            // take submits at full speed without re-reading a queue of tens of thousands each turn.
            return;
        }
        Map<String, AccountStanding> standings = accounting.standings();
        List<AccountQueue> queues = jobs.pending().queues();
        // The queues laid end to end, not copied: the allocator reads the queues.
        List<JobRequest> requests = JobList.concat(queues.stream().map(AccountQueue::jobs).toList());
        // Nothing waits, so nothing can start and nothing is preempted for anyone: agents connecting
        // to an idle cooperative (thousands of them after a restart) cost no views and no plan.
        boolean idle = requests.isEmpty();
        List<NodeView> views = new ArrayList<>();
        Map<String, Integer> ownReserveUse = new HashMap<>();
        wakeAt = Long.MAX_VALUE;
        // As the allocator counts them: reserves are not the cooperative's, nor what operators run on them.
        int capacity = 0;
        for (NodeRuntime n : sessions.all()) {
            if (n.link != null) {
                NodeRecord r = registry.record(n.name);
                Availability when = registry.availability(n.name);
                boolean offered = when.openAt(now);
                wakeAt = Math.min(wakeAt, when.nextChange(now));
                int reserve = r == null ? 0 : registry.reserveInForce(r, n.gpus.size());
                if (reserve > 0 && offered && !r.takesNoWork()) {
                    int own = 0;
                    for (Map.Entry<RankRef, List<Integer>> e : n.live.entrySet()) {
                        Job j = jobs.get(e.getKey().jobId());
                        if (j != null && j.account().equals(r.account())) {
                            own += e.getValue().size();
                        }
                    }
                    ownReserveUse.merge(r.account(), Math.min(own, reserve), Integer::sum);
                }
                if (offered && !(r != null && r.takesNoWork())) {
                    capacity += n.gpus.size() - reserve;
                }
                if (idle) {
                    continue;
                }
                Set<Integer> busy = n.busyGpus();
                views.add(new NodeView(n.name, n.site, n.gpus.stream()
                        .map(g -> new GpuSlot(g.index(), g.model(), !busy.contains(g.index()))).toList(),
                        r == null ? "" : r.account(), reserve, offered, r != null && r.takesNoWork(),
                        offered ? when.closesAt(now) : now, n.features,
                        r == null || r.refusedPurposes().isEmpty() ? Set.of() : Set.copyOf(r.refusedPurposes())));
            }
        }
        List<RunningAttempt> running = new ArrayList<>();
        for (long id : idle ? Set.<Long>of() : jobs.inFlight()) {
            Job j = jobs.get(id);
            int preemptions = 0;
            for (Attempt a : j.attempts()) {
                if (!a.isOver()) {
                    boolean stopping = a.isStopping() || a.number() != j.attemptNumber() || j.state() != JobState.RUNNING;
                    // Its work is at stake since it started: the scheduler does not see the job's own checkpoints.
                    running.add(new RunningAttempt(j.id(), a.number(), j.account(), a.placements(), a.startedAt(),
                            j.walltimeSeconds(), a.borrowed(), !j.noPreempt(), stopping,
                            stopping ? a.preemptedFor() : 0, a.startedAt(), preemptions));
                } else if (a.isPreempted()) {
                    preemptions++;
                }
            }
        }
        Map<String, Double> demand = new HashMap<>();
        accounting.held().forEach((a, g) -> demand.merge(a, (double) g, Double::sum));
        ownReserveUse.forEach((a, g) -> demand.merge(a, (double) -g, Double::sum));
        jobs.pending().demand().forEach((a, g) -> demand.merge(a, (double) g, Double::sum));
        accounting.level(capacity, demand, standings);
        jobs.clearWaitNotes();
        if (idle) {
            lastPlan = null;
            return;
        }
        Params params = desk.policy().params();
        PreemptionRules rules = PreemptionRules.of(params.minRunBeforePreemptS(), params.reserveWaitS(), graceSeconds());
        ClusterSnapshot snapshot = new ClusterSnapshot(now, views, requests, running, standings, queues, rules,
                holds.live(now));
        lastPlan = allocator.plan(snapshot);
        recordIfDue(snapshot, lastPlan, now, tx);
        lastCycleIdle = running.isEmpty() && views.stream().noneMatch(NodeView::schedulable);
        boolean startedPreemptible = false;
        for (Decision d : lastPlan.taken()) {
            if (d instanceof Decision.Admit admit) {
                startedPreemptible |= !jobs.get(admit.jobId()).noPreempt();
                start(jobs.get(admit.jobId()), admit.placements(), admit.borrowed(), now, tx);
            } else if (d instanceof Decision.Preempt p) {
                preempt(jobs.get(p.jobId()), p, tx);
            } else if (d instanceof Decision.Hold h) {
                holds.apply(h);
            } else if (d instanceof Decision.Reserve r) {
                if (r.startAt() != Long.MAX_VALUE) {
                    jobs.noteExpectedStart(r.jobId(), r.startAt());
                }
                // From when is added as the text is read (ClusterState.whyPending), to count down.
                jobs.noteWait(r.jobId(), r.detail());
            } else if (d instanceof Decision.Wait w) {
                jobs.noteWait(w.jobId(), w.detail());
            }
        }
        // A due job that could not reclaim from attempts still in their minimum run can once they pass
        // it, the ones started just now included; GPUs held, once the hold lapses (this plan's holds too).
        wakeAt = Math.min(wakeAt, rules.nextChange(now, running, holds.live(now)));
        if (startedPreemptible && rules.minRunMs() > 0) {
            wakeAt = Math.min(wakeAt, now + rules.minRunMs());
        }
    }

    /**
     * Records a cycle that decided something in the ledger (the hashes of its snapshot and
     * decisions) and the store (the snapshot and decisions themselves), when one is due: the
     * first after a start, the first under a new policy, then every {@link #RECORD_EVERY}th.
     * Only a recorded cycle is encoded; the others cost a counter.
     */
    private void recordIfDue(ClusterSnapshot snapshot, Plan plan, long now, Tx tx) {
        boolean decided = false;
        for (Decision d : plan.taken()) {
            decided |= d instanceof Decision.Admit || d instanceof Decision.Preempt || d instanceof Decision.Hold;
        }
        if (!decided) {
            return;
        }
        long version = desk.policy().version();
        if (decidingCycles++ % RECORD_EVERY != 0 && version == recordedPolicy) {
            return;
        }
        recordedPolicy = version;
        long started = System.nanoTime();
        CycleRecord record = CycleRecord.of(snapshot, plan.taken(), version);
        long seq = desk.ledgerHead().size();
        desk.apply(List.of(record.event()), now, tx);
        byte[] stored = record.stored();
        tx.batch().putRaw(Store.Kind.CYCLES, seq, stored);
        log.info("deciding allocation cycle {} (policy v{}) recorded for audit at ledger entry {}: {} bytes in {} µs",
                decidingCycles, version, seq, stored.length, (System.nanoTime() - started) / 1000);
    }

    /** Stops a borrowed attempt with the checkpoint signal and the grace period; its job is requeued when it ends. */
    private void preempt(Job j, Decision.Preempt p, Tx tx) {
        Attempt a = j.current();
        if (a == null || a.number() != p.attempt() || a.isStopping() || j.state() != JobState.RUNNING) {
            return;
        }
        a = a.preempted(p.forJobId(), Attempt.PREEMPTED + " by " + p.reason());
        j = j.withAttempt(a);
        desk.record(Decisions.preempt(j, a.number(), p.forJobId(), p.reason()), tx);
        jobs.save(j, tx);
        sessions.stop(j, a, "preempted for job " + p.forJobId(), JobBook.STOP_PREEMPTED, graceSeconds(), tx);
        log.info("job {} attempt {} preempted: {}", j.id(), a.number(), p.reason());
    }

    /** The preemption grace: the scheduler's override where it has one, else the policy's. */
    private long graceSeconds() {
        return preemptionGrace != null ? preemptionGrace.toSeconds() : desk.policy().params().preemptionGraceS();
    }

    private void start(Job j, List<Placement> placements, boolean borrowed, long now, Tx tx) {
        holds.release(j.id());
        Attempt a = Attempt.start(j.attemptNumber() + 1, now, placements, borrowed, checkpointSite(placements));
        accounting.started(j.account(), a.gpus(), now);
        j = j.withAttempt(a).to(JobState.RUNNING, now);
        jobs.pending().remove(j.id());
        jobs.inFlight().add(j.id());
        jobs.save(j, tx);
        NodeRuntime master = sessions.node(placements.get(0).node());
        for (int r = 0; r < placements.size(); r++) {
            Placement p = placements.get(r);
            NodeRuntime n = sessions.node(p.node());
            RankRef ref = new RankRef(j.id(), a.number(), r);
            n.live.put(ref, p.gpuIndices());
            Map<String, String> env = launchEnvironment(j, a, r, master.address);
            AgentLink link = n.link;
            Job started = j;
            tx.afterCommit(() -> link.launch(ref, started.command(), p.gpuIndices(), env, started.walltimeSeconds(),
                    started.stop(), started.env(), started.chdir(), started.container(),
                    started.workdir(), started.options().forRank(started, ref.rank(), p.node())));
        }
    }

    /**
     * The site whose shared checkpoint root holds the attempt's checkpoints: rank 0's, when every
     * node of the attempt has a root (COOP_CHECKPOINT_DIR is then the same folder for every rank);
     * "" when any rank keeps them on its own node, where another attempt may not find them.
     */
    private String checkpointSite(List<Placement> placements) {
        for (Placement p : placements) {
            NodeRuntime n = sessions.node(p.node());
            if (n == null || n.checkpointRoot.isEmpty()) {
                return "";
            }
        }
        return placements.get(0).site();
    }

    /** What a rank is told of its job and gang, torchrun's rendezvous variables among them. */
    private static Map<String, String> launchEnvironment(Job j, Attempt a, int rank, String masterAddress) {
        Map<String, String> env = new LinkedHashMap<>();
        env.put("COOP_ACCOUNT", j.account());
        env.put("COOP_JOB_NAME", j.name());
        env.put("NODE_RANK", Integer.toString(rank));
        env.put("NNODES", Integer.toString(j.nodes()));
        env.put("COOP_GPUS_PER_NODE", Integer.toString(j.gpusPerNode()));
        env.put("WORLD_SIZE", Integer.toString(j.gpus()));
        env.put("MASTER_ADDR", masterAddress);
        env.put("MASTER_PORT", Integer.toString(masterPort(j.id(), a.number())));
        // The job's side of the bargain: on borrowed GPUs it may be stopped (after its signal) to give them back.
        env.put("COOP_PREEMPTIBLE", a.borrowed() && !j.noPreempt() ? "1" : "0");
        if (j.inArray()) {
            env.put("COOP_ARRAY_JOB_ID", Long.toString(j.arrayId()));
            env.put("COOP_ARRAY_INDEX", Integer.toString(j.arrayIndex()));
        }
        return env;
    }

    /**
     * The rendezvous port of a job's attempt on its rank-0 node (torchrun's MASTER_PORT): spread
     * over 20000–29999 by job and attempt, so a retried attempt does not meet its predecessor's
     * socket in TIME_WAIT.
     */
    static int masterPort(long jobId, int attempt) {
        return 20_000 + (int) Math.floorMod(jobId * 31 + attempt, 10_000L);
    }
}
