package coop.scheduler.engine;

import coop.scheduler.domain.Attempt;
import coop.scheduler.domain.Constitution;
import coop.scheduler.domain.CoopException;
import coop.scheduler.domain.Gpu;
import coop.scheduler.domain.GpuInventory;
import coop.scheduler.domain.GpuUsage;
import coop.scheduler.domain.Job;
import coop.scheduler.domain.JobArray;
import coop.scheduler.domain.JobContainer;
import coop.scheduler.domain.JobSpec;
import coop.scheduler.domain.JobState;
import coop.scheduler.domain.JobVisibility;
import coop.scheduler.domain.Member;
import coop.scheduler.domain.NodeFeatures;
import coop.scheduler.domain.NodeRecord;
import coop.scheduler.domain.NotifyChoice;
import coop.scheduler.domain.NotifyReach;
import coop.scheduler.domain.Params;
import coop.scheduler.domain.Policy;
import coop.scheduler.domain.Proposal;
import coop.scheduler.domain.RankRef;
import coop.scheduler.domain.Topic;
import coop.scheduler.domain.WaitTime;
import coop.scheduler.governance.Governance;
import coop.scheduler.ledger.Checkpoint;
import coop.scheduler.ledger.EventType;
import coop.scheduler.store.Store;
import java.time.Duration;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SortedMap;

/**
 * The scheduler's whole state in memory, and every command that changes it. Owned by the
 * event loop's thread: no locks, one writer. Each command validates completely before it
 * changes anything, then records what it changed in the turn's {@link Tx}.
 *
 * <p>A thin front over the parts that hold the state, each a plain object without threads of its
 * own: {@link GovernanceDesk} (members, statements, ledger), {@link JobBook} (jobs, arrays,
 * queues), {@link Accounting} (usage and owed time), {@link NodeRegistry} (enrolled nodes and
 * their terms), {@link AgentSessions} (agents' sessions and reports) and {@link CycleRunner}
 * (the allocation cycle). Where a command spans parts, the order is spelled out here.
 */
public final class ClusterState {
    private final GovernanceDesk desk;
    private final JobBook jobs;
    private final Accounting accounting;
    private final AgentSessions sessions;
    private final NodeRegistry registry;
    private final CycleRunner cycles;
    private final InstantSource clock;
    /** Members' notification defaults, by member (personal settings, stored in META). */
    private final Map<String, NotifyChoice> notifyDefaults;
    private volatile NotifyReach notifyReach = NotifyReach.NONE;

    /**
     * The state from what was stored ({@link Recovery}); nodes of running attempts get a fresh
     * grace period to reconnect.
     *
     * @param preemptionGrace the operator's override of the policy's grace, or null
     */
    public ClusterState(Recovery.Stored stored, InstantSource clock, Duration heartbeatInterval,
                        Duration preemptionGrace) {
        this.clock = clock;
        desk = new GovernanceDesk(clock, stored.governance(), stored.ledger(), new GovernanceDesk.Consequences() {
            @Override
            public void memberRemoved(String member, String how, long now, Tx tx) {
                jobs.cancelWaiting(member, how, now, tx);
            }

            @Override
            public void enacted(Policy before, Policy policy, long now, Tx tx) {
                accounting.enacted(before, policy, now, tx);
            }

            @Override
            public void verdict(long jobId, boolean approved, long now, Tx tx) {
                jobs.verdict(jobId, approved, now, sessions::stop, tx);
            }
        }, stored.beaconSecret(), stored.checkpointed());
        jobs = new JobBook(clock, desk, stored.jobs(), stored.nextJobId());
        accounting = new Accounting(clock, desk, jobs);
        sessions = new AgentSessions(clock, heartbeatInterval, jobs, accounting, desk);
        registry = new NodeRegistry(clock, desk, sessions, stored.nodes());
        cycles = new CycleRunner(clock, preemptionGrace, desk, jobs, accounting, sessions, registry);
        notifyDefaults = new java.util.HashMap<>(stored.notifyDefaults());
    }

    /** Recovers the state from the store: governance by replaying the ledger, jobs and nodes from their records. */
    public static ClusterState recover(Store store, InstantSource clock, Duration heartbeatInterval,
                                       Duration preemptionGrace) {
        return new ClusterState(Recovery.read(store), clock, heartbeatInterval, preemptionGrace);
    }

    /**
     * Writes the genesis entry of the ledger (founding members, accounts, and a policy of equal
     * shares) into an empty store.
     */
    public static void found(Store store, List<Member> founders, List<String> accountNames, long now) {
        Recovery.found(store, founders, accountNames, Params.DEFAULTS, Constitution.FOUNDING, now);
    }

    /** As {@link #found(Store, List, List, long)}, with founding parameters other than the defaults. */
    public static void found(Store store, List<Member> founders, List<String> accountNames, Params params, long now) {
        Recovery.found(store, founders, accountNames, params, Constitution.FOUNDING, now);
    }

    /** As {@link #found(Store, List, List, long)}, with founding parameters and constitution of its own. */
    public static void found(Store store, List<Member> founders, List<String> accountNames, Params params,
                             Constitution constitution, long now) {
        Recovery.found(store, founders, accountNames, params, constitution, now);
    }

    // ------------------------------------------------------------------ members and governance

    public Member member(String name) {
        return desk.member(name);
    }

    public List<Member> members() {
        return desk.members();
    }

    /** Token digests of the active members; a live view, safe to read from any thread. */
    public Map<String, String> tokenDigests() {
        return desk.tokenDigests();
    }

    /** The member, if it may back up the scheduler (an operator); anyone else gets PERMISSION_DENIED. */
    public Member backupOperator(String memberName) {
        return desk.backupOperator(memberName);
    }

    public Proposal propose(String memberName, SortedMap<String, Object> statement, String signature, Tx tx) {
        return desk.propose(memberName, statement, signature, tx);
    }

    public Proposal vote(String memberName, SortedMap<String, Object> statement, String signature, Tx tx) {
        return desk.vote(memberName, statement, signature, tx);
    }

    /** Sets or revokes a delegation; returns the member's delegations after it, by topic. */
    public Map<Topic, String> delegate(String memberName, SortedMap<String, Object> statement, String signature,
                                       Tx tx) {
        desk.statement(memberName, EventType.DELEGATE, statement, signature, tx);
        return desk.delegations(memberName);
    }

    /** The calling member leaves the cooperative; returns its record as it now stands. */
    public Member resign(String memberName, SortedMap<String, Object> statement, String signature, Tx tx) {
        desk.statement(memberName, EventType.RESIGN, statement, signature, tx);
        return desk.governance().member(memberName);
    }

    /** The answer of the member a removal proposal names; returns the proposal with it. */
    public Proposal respond(String memberName, SortedMap<String, Object> statement, String signature, Tx tx) {
        desk.statement(memberName, EventType.RESPOND, statement, signature, tx);
        return desk.proposal(((Number) statement.get("proposal")).longValue());
    }

    /** Whether a member left of its own will. */
    public boolean resigned(String memberName) {
        return desk.governance().resigned(memberName);
    }

    public Map<Topic, String> delegations(String memberName) {
        return desk.delegations(memberName);
    }

    /** A panelist's review of a job; the job must exist. */
    public Job review(String memberName, SortedMap<String, Object> statement, String signature, Tx tx) {
        long id = ((Number) statement.getOrDefault("job", 0L)).longValue();
        jobs.job(id);
        desk.statement(memberName, EventType.REVIEW, statement, signature, tx);
        return jobs.job(id);
    }

    /**
     * A member's signed report on a job running or waiting without a panel: recorded, and a panel
     * is drawn for the job as one would be at submission (the reporter left off it too); a panel
     * that rejects cancels the job. A member may report only a job it may see.
     */
    public Job report(String memberName, SortedMap<String, Object> statement, String signature, Tx tx) {
        desk.requireMember(memberName);
        long id = ((Number) statement.getOrDefault("job", 0L)).longValue();
        Job j = jobs.job(id);
        if (!visibility(memberName).mayRead(j)) {
            throw CoopException.denied("member " + memberName + " cannot see job " + id + ", so cannot report it ("
                    + coop.scheduler.domain.JobVisibility.RULE + ")");
        }
        if (j.state() != JobState.PENDING && j.state() != JobState.RUNNING) {
            throw CoopException.precondition("job " + id + " is " + j.state().name().toLowerCase() + "; a report "
                    + "opens a panel only on a job running or waiting");
        }
        if (desk.governance().panel(id) != null) {
            throw CoopException.precondition("job " + id + " already has a review panel; a report opens one only on "
                    + "a job without");
        }
        Set<String> excluded = new java.util.TreeSet<>(registry.operatorsFor(j.gpusPerNode(), j.models(),
                j.purpose()));
        excluded.add(memberName);
        // Every check that can refuse comes before anything is recorded.
        desk.governance().panelPool(j.member(), j.account(), excluded);
        long now = desk.now();
        desk.tick(now, tx);
        String reveal = desk.nextReveal(now, tx);
        desk.statement(memberName, EventType.REPORT, statement, signature, tx);
        desk.apply(desk.governance().openReportedPanel(id, j.member(), j.account(), j.gpus(), j.purpose(),
                desk.head(), reveal, excluded, memberName, now), now, tx);
        return jobs.job(id);
    }

    public Governance.Panel panel(long job) {
        return desk.panel(job);
    }

    /** A proposal with its tally so far (delegations included) while it is open. */
    public Proposal proposal(long id) {
        return desk.proposal(id);
    }

    public List<Proposal> proposals(boolean openOnly) {
        return desk.proposals(openOnly);
    }

    public Policy policy() {
        return desk.policy();
    }

    /** A policy by version; 0 is the live one. */
    public Policy policy(long version) {
        return desk.policy(version);
    }

    public List<Policy> policies() {
        return desk.policies();
    }

    public GovernanceDesk.LedgerHead ledgerHead() {
        return desk.ledgerHead();
    }

    /** Records a member's signed witness of a recent ledger head ({@link coop.scheduler.ledger.SignedHead.Witness}). */
    public void witness(String memberName, SortedMap<String, Object> statement, String signature, Tx tx) {
        desk.witness(memberName, statement, signature, tx);
    }

    /** Records the scheduler's head-signing key in the ledger unless it is the one announced last. */
    public boolean announceSchedulerKey(String publicKey, Tx tx) {
        return desk.announceSchedulerKey(publicKey, tx);
    }

    // ------------------------------------------------------------------ jobs

    /** Queues a job, or every task of an array; returns the (first) job's id. */
    public long submit(String memberName, JobSpec spec, Tx tx) {
        return submitJobs(memberName, spec, tx).firstJobId();
    }

    /** Queues a job, or every task of an array at once: an array is stored whole or not at all. */
    public JobBook.Submitted submitJobs(String memberName, JobSpec spec, Tx tx) {
        desk.requireMember(memberName);
        JobSpec notified = spec.withOptions(notifyDefault(memberName).appliedTo(spec.options(), notifyReach));
        return jobs.submit(memberName, notified, this::unservable,
                c -> registry.operatorsFor(c.spec().gpusPerNode(),
                        c.gpuModel().isEmpty() ? List.of() : List.of(c.gpuModel().split(",")), c.purpose()), tx);
    }

    /**
     * Where the operator lets members' notifications go (coop scheduler --notify-hosts, --smtp);
     * set before the loop starts. Until then, nowhere: a job asking for a target is refused.
     */
    public void notifyReach(NotifyReach reach) {
        this.notifyReach = java.util.Objects.requireNonNull(reach, "reach");
    }

    /** The member's notification default ({@link NotifyChoice#NONE} when it set none). */
    public NotifyChoice notifyDefault(String memberName) {
        desk.requireMember(memberName);
        return notifyDefaults.getOrDefault(memberName, NotifyChoice.NONE);
    }

    /**
     * Sets the member's own notification default: {@code notifyOn} and {@code notifyTo} replace
     * what it had where given (null keeps it, "" clears it). Checked as a job's would be; stored
     * in this turn's batch, not in the ledger: it is the member's, not the cooperative's.
     */
    public NotifyChoice setNotifyDefault(String memberName, String notifyOn, String notifyTo, Tx tx) {
        NotifyChoice was = notifyDefault(memberName);
        NotifyChoice now = new NotifyChoice(notifyOn == null ? was.notifyOn() : notifyOn,
                notifyTo == null ? was.notifyTo() : notifyTo).checked(notifyReach);
        if (now.equals(NotifyChoice.NONE)) {
            notifyDefaults.remove(memberName);
            tx.batch().delete(Store.Kind.META, Recovery.notifyDefaultKey(memberName));
        } else {
            notifyDefaults.put(memberName, now);
            tx.batch().put(Store.Kind.META, Recovery.notifyDefaultKey(memberName), now);
        }
        return now;
    }

    /**
     * Why no node could ever run a job in this container, naming the field, or null when some
     * enrolled node's agent (or, on a scheduler without enrolment, a connected one) last said it
     * offers what the job needs. An operator may enable a runtime later; until one does, a job
     * would wait for ever, so it is refused instead.
     */
    private String unservable(JobSpec.Checked job) {
        String container = unservable(job.container());
        if (container != null) {
            return container;
        }
        String memory = memoryNeverGiven(job.spec().gpusPerNode(), job.options().memMb());
        return memory != null ? memory : neverHeld(job);
    }

    /**
     * Why no node gives a rank of {@code gpusPerNode} GPUs {@code memMib} of memory, naming the
     * field, or null when one does, or no agent has said what its ranks get (agents from before
     * they said).
     */
    private String memoryNeverGiven(int gpusPerNode, long memMib) {
        if (memMib <= 0) {
            return null;
        }
        List<NodeFeatures> said = new ArrayList<>(registry.allFeatures());
        sessions.all().forEach(n -> said.add(n.features));
        long most = said.stream().mapToLong(f -> f.memoryPerGpuMib() * Math.max(1, gpusPerNode)).max().orElse(0);
        if (most == 0 || most >= memMib) {
            return null;
        }
        return "mem_mb: asks " + memMib + " MiB for each rank; the most any node of the cooperative gives a rank of "
                + gpusPerNode + " GPU" + (gpusPerNode == 1 ? "" : "s") + " is " + most + " MiB, so it is not queued";
    }

    /**
     * Why no set of the cooperative's nodes could ever hold the job, however idle, naming the field,
     * or null when one could: judged on the GPUs each node's agent last reported (connected nodes
     * as they are now, enrolled ones as their records keep), and not at all while an enrolled
     * node has never reported or no node has.
     */
    private String neverHeld(JobSpec.Checked job) {
        Set<String> connected = new HashSet<>();
        List<GpuInventory.Node> nodes = new ArrayList<>();
        for (NodeRuntime n : sessions.all()) {
            if (!n.gpus.isEmpty() || n.link != null) {
                connected.add(n.name);
                nodes.add(GpuInventory.Node.of(n.name, n.site, n.gpus.stream().map(Gpu::model).toList()));
            }
        }
        List<GpuInventory.Node> enrolled = registry.reportedGpus(connected);
        if (enrolled == null) {
            return null;
        }
        nodes.addAll(enrolled);
        String model = job.gpuModel();
        String why = new GpuInventory(nodes).whyNever(job.spec().gpusPerNode(), job.spec().nodes(),
                model.isEmpty() ? List.of() : List.of(model.split(",")), job.spec().crossSite());
        return why == null ? null : why + "; no node of the cooperative could ever start it, so it is not queued";
    }

    private String unservable(JobContainer container) {
        if (!container.present() || registry.anyServes(container)
                || sessions.all().stream().anyMatch(n -> n.features.serves(container))) {
            return null;
        }
        boolean runtime = registry.anyRunsContainers()
                || sessions.all().stream().anyMatch(n -> n.features.runsContainers());
        if (!runtime) {
            return "container: no node of the cooperative runs a container runtime (an operator enables one "
                    + "with coop agent --container-runtime podman)";
        }
        return "mounts: no node that runs containers allows mounting " + String.join(", ", container.sources())
                + " (an operator allows folders with coop agent --allow-mount)";
    }

    public Job job(long id) {
        return jobs.job(id);
    }

    /** Jobs the scheduler holds, in every state. */
    public int jobCount() {
        return jobs.count();
    }

    /** A job array by id, summarized. */
    public JobArray array(long arrayId) {
        return jobs.array(arrayId);
    }

    /** The tasks of a job array, in index order. */
    public List<Job> tasks(long arrayId) {
        return jobs.tasks(arrayId);
    }

    /** Whether {@code id} names a job array. */
    public boolean isArray(long id) {
        return jobs.isArray(id);
    }

    /** Jobs newest first, filtered. */
    public List<Job> jobs(String account, Set<JobState> states, int limit) {
        return jobs.jobs(account, states, limit);
    }

    /** One page of jobs newest first, filtered, below id {@code before} (0: from the newest); see {@link JobBook#page}. */
    public JobBook.Page listing(JobBook.Filter filter, long before, int size) {
        return jobs.page(filter, before, size);
    }

    public Job cancel(String memberName, long id, Tx tx) {
        return jobs.cancel(memberName, id, sessions::stop, tx);
    }

    /** Cancels every unfinished task of an array, as {@link #cancel} would each. */
    public JobArray cancelArray(String memberName, long arrayId, Tx tx) {
        return jobs.cancelArray(memberName, arrayId, sessions::stop, tx);
    }

    /**
     * Whose commands and output {@code memberName} may read, in the state as it is now; a caller
     * who is no member (null, unknown or removed) reads none.
     */
    public JobVisibility visibility(String memberName) {
        return JobVisibility.of(memberName == null ? null : desk.member(memberName), registry::record, id -> {
            Governance.Panel p = desk.governance().panel(id);
            return p == null ? List.of() : p.drawn();
        });
    }

    /**
     * Why a job waits: its review panel, its dependency or array throttle, what the last cycle
     * decided for it, or what its plan says.
     */
    public String whyPending(long id) {
        Job job = jobs.get(id);
        if (job != null && job.state() == JobState.REVIEW) {
            String review = desk.reviewWait(id);
            if (review != null) {
                return review;
            }
        }
        String held = jobs.heldWhy(id);
        if (held != null) {
            return held;
        }
        String why = jobs.waitNote(id);
        if (why == null) {
            return cycles.explain(id);
        }
        long start = jobs.expectedStart(id);
        // The reservation's start as of this reading: "from 14:05 UTC, in 3 min" counts down.
        return start == 0 ? why : why + " " + WaitTime.from(start, clock.millis());
    }

    /**
     * When a pending job is expected to start at the latest, as the last cycle's reservation for
     * it says (epoch ms), or 0 when no reservation gives a time.
     */
    public long expectedStart(long id) {
        return jobs.expectedStart(id);
    }

    // ------------------------------------------------------------------ usage

    public Accounting.Usage usage() {
        return accounting.usage(sessions.all());
    }

    /** Counts for metrics; linear in jobs and nodes, so the caller decides how often. */
    public Accounting.Census census() {
        return accounting.census(sessions.all());
    }

    // ------------------------------------------------------------------ nodes

    /** A live view of the enrolled nodes' names. */
    public Set<String> enrolledNodes() {
        return registry.names();
    }

    public List<NodeRegistry.NodeStatus> nodes() {
        return registry.statuses();
    }

    /** Enrolls a node for the operator's account, or renews the token of a node the same account enrolled. */
    public NodeRecord enroll(String memberName, String name, String site, String account, String tokenSha256,
                             Tx tx) {
        return registry.enroll(memberName, name, site, account, tokenSha256, tx);
    }

    /** Drains a node (no new work is placed there; what runs is left to finish) or undrains it. */
    public NodeRegistry.NodeStatus drain(String memberName, String name, boolean drain, String reason, Tx tx) {
        return registry.drain(memberName, name, drain, reason, tx);
    }

    /** Sets a node's operator's terms: its reserve, and when it is offered. */
    public NodeRegistry.NodeStatus setTerms(String memberName, String name, Integer reservedGpus,
                                            List<String> windows, String timeZone, Tx tx) {
        return registry.setTerms(memberName, name, reservedGpus, windows, timeZone, tx);
    }

    /** As above, and the declared purposes the node's operator refuses to run there (null keeps them). */
    public NodeRegistry.NodeStatus setTerms(String memberName, String name, Integer reservedGpus,
                                            List<String> windows, String timeZone, List<String> refusedPurposes,
                                            Tx tx) {
        return registry.setTerms(memberName, name, reservedGpus, windows, timeZone, refusedPurposes, tx);
    }

    /** Removes a node from the cooperative; what ran there is requeued elsewhere. */
    public NodeRegistry.NodeStatus removeNode(String memberName, String name, Tx tx) {
        return registry.remove(memberName, name, tx);
    }

    /**
     * Records a certificate the cooperative's authority issued ({@code kind} member or node), in the
     * ledger, before the certificate is handed over: an issuance nobody can see is a way in.
     */
    public void certificateIssued(String kind, String name, String serial, Tx tx) {
        desk.record(Decisions.certificate(kind, name, serial), tx);
    }

    /** Checks that a connecting agent speaks for the enrolled node it names, with its token, from its site. */
    public void authenticateNode(String headerNode, String token, String helloNode, String helloSite) {
        registry.authenticate(headerNode, token, helloNode, helloSite);
    }

    /**
     * The folder shipped with a job, for the enrolled node that asks for it to start one of the
     * job's ranks: only a node its latest attempt is placed on may read it, as only they run its
     * command.
     */
    public String workdirForNode(String headerNode, String token, long jobId, String digest) {
        NodeRecord r = headerNode == null ? null : registry.record(headerNode);
        registry.authenticate(headerNode, token, headerNode, r == null ? "" : r.site());
        Job j = jobs.job(jobId);
        Attempt a = j == null ? null : j.current();
        if (a == null || a.placements().stream().noneMatch(p -> p.node().equals(headerNode))) {
            throw CoopException.denied("node " + headerNode + " runs no rank of job " + jobId);
        }
        if (j.workdir().isEmpty() || !j.workdir().equals(digest)) {
            throw CoopException.notFound("job " + jobId + " ships no folder " + JobSpec.abbreviated(digest));
        }
        return j.workdir();
    }

    // ------------------------------------------------------------------ agents

    /** An agent opened its stream: register its capacity, and fence what it reports running. */
    public void hello(AgentLink link, String node, String site, List<Gpu> gpus, List<RankRef> running, Tx tx) {
        hello(link, node, site, gpus, running, "127.0.0.1", tx);
    }

    /** As {@link #hello(AgentLink, String, String, List, List, Tx)}, with the address its peers reach it at. */
    public void hello(AgentLink link, String node, String site, List<Gpu> gpus, List<RankRef> running,
                      String address, Tx tx) {
        hello(link, node, site, gpus, running, address, "", tx);
    }

    /** As above, with how the agent confines its ranks, in its own words, for {@code coop node status}. */
    public void hello(AgentLink link, String node, String site, List<Gpu> gpus, List<RankRef> running,
                      String address, String isolation, Tx tx) {
        sessions.hello(link, node, site, gpus, running, address, tx);
        sessions.describe(node, isolation);
        registry.gpuModels(node, gpus.stream().map(Gpu::model).toList(), tx);
    }

    /** Notes the shared checkpoint root the node's agent said it has in its Hello ("" for none). */
    public void checkpointRoot(String node, String root) {
        sessions.checkpointRoot(node, root);
    }

    /**
     * Notes what the node's agent offers besides GPUs (container runtimes, mounts), as its Hello
     * said, and keeps it with the node's record, so that a container job no enrolled node could
     * run is refused at submit even while agents reconnect.
     */
    public void features(String node, NodeFeatures features, Tx tx) {
        sessions.features(node, features);
        registry.features(node, features, tx);
    }

    public void heartbeat(AgentLink link, List<RankRef> running, Tx tx) {
        heartbeat(link, running, 0, List.of(), tx);
    }

    /** A heartbeat with the node's GPU usage; {@code sentAtMs} is the agent's clock when sent, 0 if not stated. */
    public void heartbeat(AgentLink link, List<RankRef> running, long sentAtMs, List<GpuUsage> usage, Tx tx) {
        sessions.heartbeat(link, running, sentAtMs, usage, tx);
    }

    public void disconnected(AgentLink link) {
        sessions.disconnected(link);
    }

    /** A rank's process ended. Duplicates and reports about stale attempts are acknowledged and dropped. */
    public void exited(AgentLink link, RankRef ref, int exitCode, String reason, Tx tx) {
        exited(link, ref, exitCode, reason, "", tx);
    }

    /**
     * As {@link #exited(AgentLink, RankRef, int, String, Tx)}, with what the agent adds in the
     * user's words: "OOM: exceeded 8 GiB", or for a {@code node-fault} (the node refused to start the
     * rank) what failed, and the attempt is then requeued elsewhere rather than failing the job.
     */
    public void exited(AgentLink link, RankRef ref, int exitCode, String reason, String why, Tx tx) {
        sessions.exited(link, ref, exitCode, reason, why, tx);
    }

    /**
     * What a node's agent found of its own health: a failure drains the node with {@code reason},
     * a pass lifts that drain (never its operator's). Ignored from a link that is no node's session.
     */
    public void nodeHealth(AgentLink link, boolean healthy, String reason, Tx tx) {
        String node = sessions.nodeOf(link);
        if (node != null) {
            registry.health(node, healthy, reason, tx);
        }
    }

    /**
     * Where to ask for the output of a job's latest attempt, for {@code readerName}, who must be a
     * member allowed to read it ({@link JobVisibility}).
     */
    public List<AgentSessions.LogSource> logSources(String readerName, long jobId, int rank) {
        Member m = desk.requireMember(readerName);
        visibility(m.name()).requireReadable(jobs.job(jobId));
        return sessions.logSources(jobId, rank, () -> whyPending(jobId));
    }

    /** As {@link #logSources(String, long, int)}, checked on every poll: a panel's access ends with its review. */
    public AgentSessions.FollowPoint followPoint(String readerName, long jobId, int rank) {
        Member m = desk.requireMember(readerName);
        Job j = jobs.job(jobId);
        visibility(m.name()).requireReadable(j);
        return sessions.followPoint(j, rank);
    }

    // ------------------------------------------------------------------ time and allocation

    /** Closes proposals past their deadline and declares silent nodes lost. */
    /** Writes a checkpoint of the ledger and governance in this turn's batch if one is due (see {@link Checkpoint}). */
    public void checkpointIfDue(Tx tx) {
        desk.checkpointIfDue(tx);
    }

    /** Sets how many ledger entries are appended between checkpoints ({@link Checkpoint#EVERY} unless set). */
    public void checkpointEvery(long entries) {
        desk.checkpointEvery(entries);
    }

    public void tick(Tx tx) {
        long now = desk.now();
        desk.tick(now, tx);
        if (cycles.wakeDue(clock.millis())) {
            tx.allocationDue();
        }
        sessions.declareSilentLost(now, tx);
    }

    /** Runs one allocation cycle and applies its decisions. */
    public void allocate(Tx tx) {
        cycles.run(tx);
    }

    static int masterPort(long jobId, int attempt) {
        return CycleRunner.masterPort(jobId, attempt);
    }
}
