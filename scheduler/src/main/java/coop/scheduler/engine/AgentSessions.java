package coop.scheduler.engine;

import coop.scheduler.domain.Attempt;
import coop.scheduler.domain.CoopException;
import coop.scheduler.domain.Gpu;
import coop.scheduler.domain.GpuUsage;
import coop.scheduler.domain.HelloRules;
import coop.scheduler.domain.Job;
import coop.scheduler.domain.JobState;
import coop.scheduler.domain.NodeFeatures;
import coop.scheduler.domain.Placement;
import coop.scheduler.domain.RankRef;
import coop.scheduler.ledger.Event;
import coop.scheduler.ledger.EventType;
import java.time.Duration;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashSet;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The agents' sessions and what they report: Hello, heartbeats, rank exits, ranks lost with
 * their node, and where to read a rank's output. Owns each node's runtime (its session, GPUs
 * and the ranks running there).
 */
public final class AgentSessions {
    private static final Logger log = LoggerFactory.getLogger(AgentSessions.class);
    /** Heartbeats a node may miss before it is declared lost. */
    static final int MISSED_HEARTBEATS = 3;
    /**
     * After a restart, nodes with running work get at least this long to reconnect before they
     * can be declared lost: agents back off up to 5 s between attempts, and a restart must not
     * requeue work that is still running.
     */
    static final Duration RESTART_GRACE = Duration.ofSeconds(15);

    /** Where to ask for a rank's output. */
    public record LogSource(RankRef ref, String node, AgentLink link) {
    }

    /**
     * Where a follower of a job's output reads next: the latest attempt's ranks (attempt 0 and
     * none before the job first starts), and whether the job's output is complete, so that a
     * read made after this answer is the last one that can find anything new.
     */
    public record FollowPoint(int attempt, List<LogSource> sources, boolean ended) {
    }

    private final InstantSource clock;
    private final long heartbeatIntervalMs;
    private final JobBook jobs;
    private final Accounting accounting;
    private final GovernanceDesk desk;
    private final Map<String, NodeRuntime> nodes = new TreeMap<>();
    /**
     * The node of each open agent session, so that a report finds its node at once: with 10,000
     * agents heartbeating every second, a scan of the nodes per report is 10^8 steps a second.
     * Kept in step with {@code NodeRuntime.link} by {@link #attach} and {@link #detach}.
     */
    private final Map<AgentLink, NodeRuntime> sessions = new IdentityHashMap<>();

    /** The ranks of attempts still running by the stored jobs, on nodes that get a fresh grace to reconnect. */
    AgentSessions(InstantSource clock, Duration heartbeatInterval, JobBook jobs, Accounting accounting,
                  GovernanceDesk desk) {
        this.clock = clock;
        this.heartbeatIntervalMs = heartbeatInterval.toMillis();
        this.jobs = jobs;
        this.accounting = accounting;
        this.desk = desk;
        long now = clock.millis();
        for (Job j : jobs.all()) {
            for (Attempt a : j.attempts()) {
                if (a.isOver()) {
                    continue;
                }
                for (int r = 0; r < a.placements().size(); r++) {
                    if (!a.rankEnded(r)) {
                        Placement p = a.placements().get(r);
                        NodeRuntime n = nodes.computeIfAbsent(p.node(), name -> new NodeRuntime(name, p.site()));
                        // Counted as a heartbeat now, pushed so that loss is declared no sooner than the grace.
                        n.lastHeartbeat = now + Math.max(0, RESTART_GRACE.toMillis()
                                - MISSED_HEARTBEATS * heartbeatIntervalMs);
                        n.live.put(new RankRef(j.id(), a.number(), r), p.gpuIndices());
                    }
                }
            }
        }
    }

    /** Every node seen since the scheduler started (or running work when it did), by name. */
    Collection<NodeRuntime> all() {
        return nodes.values();
    }

    /** The node's runtime, or null if no agent of it connected and nothing runs there. */
    NodeRuntime node(String name) {
        return nodes.get(name);
    }

    /** An agent opened its stream: register its capacity and address, and fence what it reports running. */
    void hello(AgentLink link, String node, String site, List<Gpu> gpus, List<RankRef> running, String address,
               Tx tx) {
        HelloRules.check(node, site, address, gpus, running.size());
        NodeRuntime existing = nodes.get(node);
        if (existing != null && existing.link != null && existing.link != link) {
            long silentMs = clock.millis() - existing.lastHeartbeat;
            if (silentMs < 2 * heartbeatIntervalMs) {
                // Two agents with one identity would replace each other for ever, each time
                // requeueing what the other ran: the one already here and heard from keeps the node.
                throw new CoopException(CoopException.Kind.ALREADY_EXISTS, "node " + node
                        + " is already connected from another agent, last heard from " + silentMs
                        + " ms ago: only one agent may run with a node's identity");
            }
        }
        NodeRuntime n = nodes.computeIfAbsent(node, name -> new NodeRuntime(name, site));
        if (n.link != null && n.link != link) {
            AgentLink old = n.link;
            tx.afterCommit(() -> old.close("replaced by a newer session of node " + node));
        }
        n.site = site;
        n.gpus = List.copyOf(gpus);
        n.address = address;
        attach(n, link);
        n.lastHeartbeat = clock.millis();
        n.forgetTelemetry();
        Pulse pulse = new Pulse(clock, n.lastHeartbeat);
        n.pulse = pulse;
        // The accounts, so an agent can check its --run-as map names only accounts that exist.
        List<String> accounts = List.copyOf(desk.policy().shares().keySet());
        tx.afterCommit(() -> link.welcome(heartbeatIntervalMs, pulse, accounts));
        Set<RankRef> reported = new HashSet<>(running);
        for (RankRef ref : running) {
            if (!n.live.containsKey(ref)) {
                tx.afterCommit(() -> link.kill(ref, "stale attempt: the scheduler no longer runs it here", 0));
            }
        }
        n.missing.clear();
        for (RankRef ref : n.live.keySet()) {
            if (!reported.contains(ref)) {
                n.missing.add(ref);
            }
        }
        log.info("node {} at {} connected with {} GPUs", node, site, gpus.size());
        tx.allocationDue();
    }

    /**
     * A heartbeat: the node is alive, runs {@code running}, and its GPUs were last seen as
     * {@code usage}. The usage replaces what the node reported before (an agent that stops
     * sampling stops showing stale numbers); only entries for the node's own GPUs are kept.
     *
     * @param sentAtMs the agent's clock when it sent the heartbeat, 0 if not stated
     */
    void heartbeat(AgentLink link, List<RankRef> running, long sentAtMs, List<GpuUsage> usage, Tx tx) {
        NodeRuntime n = sessions.get(link);
        if (n == null) {
            return;
        }
        n.lastHeartbeat = clock.millis();
        n.heartbeatLagMs = sentAtMs > 0 ? n.lastHeartbeat - sentAtMs : 0;
        if (usage.isEmpty()) {
            // Most heartbeats: simulated GPUs, or no sample yet; nothing to match against the node's GPUs.
            n.usage = List.of();
        } else {
            Set<Integer> own = new HashSet<>();
            n.gpus.forEach(g -> own.add(g.index()));
            n.usage = usage.stream().filter(u -> own.contains(u.index())).toList();
        }
        if (!n.missing.isEmpty()) {
            Set<RankRef> gone = new HashSet<>(n.missing);
            gone.removeAll(running);
            n.missing.clear();
            for (RankRef ref : gone) {
                if (n.live.containsKey(ref)) {
                    rankLost(n, ref, "its agent no longer runs it", tx);
                }
            }
        }
    }

    void disconnected(AgentLink link) {
        NodeRuntime n = sessions.get(link);
        if (n != null) {
            detach(n);
            n.forgetTelemetry();
            log.info("node {} disconnected; running work is kept until it is declared lost", n.name);
        }
    }

    /** Makes {@code link} the node's session, in place of any earlier one. */
    private void attach(NodeRuntime n, AgentLink link) {
        detach(n);
        n.link = link;
        sessions.put(link, n);
    }

    /** Ends the node's session, if it has one. */
    private void detach(NodeRuntime n) {
        if (n.link != null) {
            n.foldPulse();
            sessions.remove(n.link);
            n.link = null;
            n.pulse = null;
        }
    }

    /** Notes how the node's agent confines its ranks, as it said in its Hello; not stored, it says so again. */
    void describe(String node, String isolation) {
        NodeRuntime n = nodes.get(node);
        if (n != null) {
            n.isolation = isolation == null ? "" : isolation;
        }
    }

    /**
     * Notes the node's shared checkpoint root, as its Hello said; not stored, it says so again. An
     * attempt whose nodes all have one keeps its checkpoints there, and its job prefers their site.
     */
    void checkpointRoot(String node, String root) {
        NodeRuntime n = nodes.get(node);
        if (n != null) {
            n.checkpointRoot = root == null ? "" : root;
        }
    }

    /** Notes what the node's agent offers besides GPUs, as its Hello said; not stored, it says so again. */
    void features(String node, NodeFeatures features) {
        NodeRuntime n = nodes.get(node);
        if (n != null) {
            n.features = features == null ? NodeFeatures.NONE : features;
        }
    }

    /** The name of the node whose session {@code link} is, or null if it has none (any more). */
    String nodeOf(AgentLink link) {
        NodeRuntime n = sessions.get(link);
        return n == null ? null : n.name;
    }

    /**
     * A rank's process ended. Duplicates and reports about stale attempts are acknowledged and
     * dropped. {@code why} is what the agent adds in the user's words ("OOM: exceeded 8 GiB"). A
     * {@link #NODE_FAULT} (the node refused to start the rank: its health check or the
     * prolog failed) is the node's failure, not the job's: the attempt is requeued as for a lost
     * node, with {@code why} as the reason its attempt shows.
     */
    void exited(AgentLink link, RankRef ref, int exitCode, String reason, String why, Tx tx) {
        NodeRuntime n = sessions.get(link);
        if (n == null) {
            return;
        }
        tx.afterCommit(() -> link.ackExit(ref));
        if (!n.live.containsKey(ref)) {
            return;
        }
        n.missing.remove(ref);
        if (NODE_FAULT.equals(reason)) {
            requeue(n, ref, "not started: " + (why == null || why.isBlank() ? "the node refused it" : why),
                    tx);
            return;
        }
        n.live.remove(ref);
        endRank(ref, exitCode, reason, why, tx);
    }

    /** The exit reason of a rank its agent stopped on the scheduler's order (cancel, preemption). */
    static final String KILLED = "killed";

    /** The exit reason of a rank its node refused to start; see {@link #exited}. */
    static final String NODE_FAULT = "node-fault";

    private void endRank(RankRef ref, int exitCode, String reason, String why, Tx tx) {
        Job j = jobs.get(ref.jobId());
        if (j == null || ref.attempt() < 1 || ref.attempt() > j.attempts().size()) {
            return;
        }
        Attempt a = j.attempts().get(ref.attempt() - 1);
        if (ref.rank() >= a.placements().size() || a.rankEnded(ref.rank())) {
            return;
        }
        long now = clock.millis();
        boolean current = ref.attempt() == j.attemptNumber();
        if (current && j.state() == JobState.RUNNING && exitCode != 0 && a.placements().size() > 1
                && !a.isStopping()) {
            // One rank of a gang failed: the rest cannot finish the job.
            stop(j, a, "rank " + ref.rank() + " failed with exit code " + exitCode, JobBook.STOP_FAILED,
                    JobBook.CANCEL_GRACE_SECONDS, tx);
        }
        if (current && j.state() == JobState.RUNNING && "walltime".equals(reason) && !a.isTimedOut()) {
            a = a.withOutcome(timedOut(j));
        } else if (current && j.state() == JobState.RUNNING && !why.isEmpty() && !a.isStopping()) {
            // The agent knows more than the code: "OOM: exceeded 8 GiB" rather than a bare 137.
            a = a.withOutcome(why);
        }
        a = a.withRankExit(ref.rank(), exitCode, now);
        j = j.withAttempt(a);
        if (a.isOver()) {
            accounting.ended(j, a, now);
            desk.apply(List.of(attemptEvent(j, a)), now, tx);
            if (j.attempts().stream().allMatch(Attempt::isOver)) {
                jobs.inFlight().remove(j.id());
            }
            if (current && j.state() == JobState.RUNNING && a.isPreempted()
                    && (a.exitCode() != 0 || KILLED.equals(reason))) {
                // Stopped to give borrowed GPUs back: it runs again as a new attempt, also when it
                // checkpointed and exited 0 on the stop signal, as a job that resumes is meant to. Only
                // one that ended by itself before the stop reached it is done.
                j = j.to(JobState.PENDING, now);
                jobs.pending().add(j);
                log.info("job {} requeued after preemption ({})", j.id(), a.outcome());
            } else if (current && j.state() == JobState.RUNNING && a.isTimedOut()
                    && j.timeouts() <= j.stop().requeueOnTimeout()) {
                // It asked to run again after a timeout (--requeue-on-timeout), as submitit resubmits.
                j = j.to(JobState.PENDING, now);
                jobs.pending().add(j);
                log.info("job {} requeued after its walltime ({})", j.id(), a.outcome());
            } else if (current && j.state() == JobState.RUNNING) {
                // Stopped at its walltime, it did not finish, even if it exited 0 on the signal.
                j = j.to(a.isTimedOut() ? JobState.TIMEOUT : a.exitCode() == 0 ? JobState.SUCCEEDED
                        : JobState.FAILED, now);
            }
        }
        jobs.save(j, tx);
        tx.allocationDue();
    }

    /** The outcome of the job's current attempt stopped at its walltime, saying whether it runs again. */
    private static String timedOut(Job j) {
        int allowed = j.stop().requeueOnTimeout();
        int count = j.timeouts() + 1;
        return Attempt.TIMED_OUT + " of " + j.walltimeSeconds() + " s reached"
                + (allowed == 0 ? "" : count <= allowed ? ", requeued (timeout " + count + " of the " + allowed
                + " --requeue-on-timeout allows)" : ", not requeued: --requeue-on-timeout " + allowed + " used up");
    }

    /** The ledger's record of an ended attempt's GPU time. */
    private static Event attemptEvent(Job j, Attempt a) {
        SortedMap<String, Object> b = new TreeMap<>();
        b.put("job", j.id());
        b.put("attempt", (long) a.number());
        b.put("account", j.account());
        b.put("member", j.member());
        b.put("gpus", (long) a.gpus());
        b.put("started_at", a.startedAt());
        // A clock stepped back while it ran must not make it end before it started.
        b.put("finished_at", Math.max(a.startedAt(), a.finishedAt()));
        b.put("gpu_ms", a.gpuMillis(0, a.finishedAt()));
        b.put("outcome", a.outcome() == null || a.outcome().isEmpty() ? "exit " + a.exitCode() : a.outcome());
        Decisions.placements(a, b);
        return Event.of(EventType.ATTEMPT, b);
    }

    /** A rank is gone without an exit code (its node or process was lost): requeue the job. */
    private void rankLost(NodeRuntime n, RankRef ref, String why, Tx tx) {
        requeue(n, ref, "lost, " + why, tx);
    }

    /** A rank ended for its node's sake, not the job's ({@code how}, after "rank R on NODE"): requeue the job. */
    private void requeue(NodeRuntime n, RankRef ref, String how, Tx tx) {
        n.live.remove(ref);
        Job j = jobs.get(ref.jobId());
        if (j != null && ref.attempt() == j.attemptNumber() && j.state() == JobState.RUNNING) {
            Attempt a = j.current().withOutcome("requeued: rank " + ref.rank() + " on " + n.name + " " + how);
            j = j.withAttempt(a).to(JobState.PENDING, clock.millis());
            stop(j, a, "requeued: another rank was lost", JobBook.STOP_REQUEUED, JobBook.CANCEL_GRACE_SECONDS, tx);
            jobs.save(j, tx);
            jobs.pending().add(j);
            log.info("job {} requeued: rank {} on node {} {}", j.id(), ref.rank(), n.name, how);
        }
        endRank(ref, -1, "lost", "", tx);
    }

    /**
     * Tells the agents running the attempt's live ranks to stop them: the job's signal (SIGTERM
     * unless it asked for another), then SIGKILL after the grace, with {@code cause} written for
     * the job to read first.
     */
    void stop(Job j, Attempt a, String reason, String cause, long graceSeconds, Tx tx) {
        for (int r = 0; r < a.placements().size(); r++) {
            if (a.rankEnded(r)) {
                continue;
            }
            RankRef ref = new RankRef(j.id(), a.number(), r);
            NodeRuntime n = nodes.get(a.placements().get(r).node());
            if (n != null && n.link != null) {
                AgentLink link = n.link;
                tx.afterCommit(() -> link.kill(ref, reason, graceSeconds, cause, j.stop()));
            }
        }
    }

    /**
     * A node left the cooperative: its agent is told to stop what it runs and its stream is
     * closed, and those attempts are requeued as new attempts elsewhere.
     */
    void removed(String name, String byMember, Tx tx) {
        NodeRuntime n = nodes.remove(name);
        if (n == null) {
            return;
        }
        AgentLink link = n.link;
        detach(n);
        for (RankRef ref : List.copyOf(n.live.keySet())) {
            if (link != null) {
                tx.afterCommit(() -> link.kill(ref, "node " + name + " was removed from the cooperative",
                        JobBook.CANCEL_GRACE_SECONDS));
            }
            rankLost(n, ref, "node removed by " + byMember, tx);
        }
        if (link != null) {
            tx.afterCommit(() -> link.close("node " + name + " was removed from the cooperative"));
        }
    }

    /** Declares lost the nodes silent for {@link #MISSED_HEARTBEATS} heartbeats as of {@code now}. */
    void declareSilentLost(long now, Tx tx) {
        long deadline = now - MISSED_HEARTBEATS * heartbeatIntervalMs;
        for (NodeRuntime n : nodes.values()) {
            n.foldPulse();
            if (!n.live.isEmpty() && n.lastHeartbeat < deadline) {
                log.warn("node {} lost: no heartbeat for {} ms", n.name, now - n.lastHeartbeat);
                if (n.link != null) {
                    AgentLink link = n.link;
                    detach(n);
                    tx.afterCommit(() -> link.close("node declared lost: missed " + MISSED_HEARTBEATS + " heartbeats"));
                }
                for (RankRef ref : List.copyOf(n.live.keySet())) {
                    rankLost(n, ref, "node missed " + MISSED_HEARTBEATS + " heartbeats", tx);
                }
                tx.allocationDue();
            } else if (n.link != null && n.lastHeartbeat < deadline) {
                log.warn("node {} lost: no heartbeat for {} ms (nothing ran there)", n.name, now - n.lastHeartbeat);
                AgentLink link = n.link;
                detach(n);
                tx.afterCommit(() -> link.close("node declared lost: missed " + MISSED_HEARTBEATS + " heartbeats"));
                tx.allocationDue();
            }
        }
    }

    /** Where to ask for the output of a job's latest attempt (every rank, or rank {@code rank}). */
    List<LogSource> logSources(long jobId, int rank, Supplier<String> whyNotStarted) {
        Job j = jobs.job(jobId);
        Attempt a = j.current();
        if (a == null) {
            throw CoopException.precondition("job " + jobId + " has not started yet: " + whyNotStarted.get());
        }
        if (rank < -1) {
            throw CoopException.invalid("rank", "must be -1 (every rank) or a rank of the job, got " + rank);
        }
        if (rank >= a.placements().size()) {
            throw CoopException.invalid("rank", "job " + jobId + " has ranks 0.." + (a.placements().size() - 1));
        }
        List<LogSource> out = new ArrayList<>();
        for (int r = 0; r < a.placements().size(); r++) {
            if (rank < 0 || rank == r) {
                NodeRuntime n = nodes.get(a.placements().get(r).node());
                out.add(new LogSource(new RankRef(jobId, a.number(), r), a.placements().get(r).node(),
                        n == null ? null : n.link));
            }
        }
        return out;
    }

    /** Where a follower of the job's output reads next; the job must have started if a rank is asked. */
    FollowPoint followPoint(Job j, int rank) {
        Attempt a = j.current();
        if (a == null) {
            return new FollowPoint(0, List.of(), j.state().isFinal());
        }
        // A cancelled job is final at once, but its ranks write until SIGTERM's grace ends them:
        // the output is complete only once no rank of the attempt is live anywhere.
        boolean live = false;
        for (int r = 0; r < a.placements().size(); r++) {
            NodeRuntime n = nodes.get(a.placements().get(r).node());
            live |= n != null && n.live.containsKey(new RankRef(j.id(), a.number(), r));
        }
        return new FollowPoint(a.number(), logSources(j.id(), rank, () -> ""), j.state().isFinal() && !live);
    }
}
