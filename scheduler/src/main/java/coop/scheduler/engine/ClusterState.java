package coop.scheduler.engine;

import coop.scheduler.allocation.AccountQueue;
import coop.scheduler.allocation.AccountStanding;
import coop.scheduler.allocation.Allocator;
import coop.scheduler.allocation.ClusterSnapshot;
import coop.scheduler.allocation.DecayedUsage;
import coop.scheduler.allocation.Decision;
import coop.scheduler.allocation.FairLevels;
import coop.scheduler.allocation.GpuSlot;
import coop.scheduler.allocation.JobList;
import coop.scheduler.allocation.JobRequest;
import coop.scheduler.allocation.NodeView;
import coop.scheduler.allocation.Plan;
import coop.scheduler.allocation.RunningAttempt;
import coop.scheduler.audit.LedgerVerifier;
import coop.scheduler.domain.Account;
import coop.scheduler.domain.ArraySpec;
import coop.scheduler.domain.Attempt;
import coop.scheduler.domain.Availability;
import coop.scheduler.domain.CoopException;
import coop.scheduler.domain.Gpu;
import coop.scheduler.domain.GpuUsage;
import coop.scheduler.domain.Job;
import coop.scheduler.domain.JobArray;
import coop.scheduler.domain.JobState;
import coop.scheduler.domain.JobVisibility;
import coop.scheduler.domain.Member;
import coop.scheduler.domain.Names;
import coop.scheduler.domain.NodeRecord;
import coop.scheduler.domain.Params;
import coop.scheduler.domain.Placement;
import coop.scheduler.domain.Policy;
import coop.scheduler.domain.Proposal;
import coop.scheduler.domain.ProposalKind;
import coop.scheduler.domain.ProposalState;
import coop.scheduler.domain.RankRef;
import coop.scheduler.domain.Role;
import coop.scheduler.domain.Topic;
import coop.scheduler.governance.Governance;
import coop.scheduler.ledger.Event;
import coop.scheduler.ledger.EventType;
import coop.scheduler.ledger.Ledger;
import coop.scheduler.store.Store;
import coop.scheduler.store.Store.Kind;
import java.time.Duration;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The scheduler's whole state in memory, and every command that changes it. Owned by the
 * event loop's thread: no locks, one writer. Each command validates completely before it
 * changes anything, then records what it changed in the turn's {@link Tx}.
 */
public final class ClusterState {
    private static final Logger log = LoggerFactory.getLogger(ClusterState.class);
    /** Grace between SIGTERM and SIGKILL when a job is cancelled. */
    static final long CANCEL_GRACE_SECONDS = 10;
    /** Heartbeats a node may miss before it is declared lost. */
    static final int MISSED_HEARTBEATS = 3;
    /**
     * After a restart, nodes with running work get at least this long to reconnect before they
     * can be declared lost: agents back off up to 5 s between attempts, and a restart must not
     * requeue work that is still running.
     */
    static final Duration RESTART_GRACE = Duration.ofSeconds(15);
    static final int MAX_COMMAND_BYTES = 64 * 1024;
    private static final java.time.format.DateTimeFormatter CLOCK_TIME =
            java.time.format.DateTimeFormatter.ofPattern("HH:mm").withZone(java.time.ZoneOffset.UTC);
    static final int MAX_GPUS_PER_NODE = 64;
    static final int MAX_NODES = 256;
    static final int MAX_PRIORITY = 1000;
    /** Highest GPU index a node may report (driver numbering within one machine). */
    static final int MAX_GPU_INDEX = 1023;
    static final String GPU_MODEL = "[A-Za-z0-9][A-Za-z0-9._-]{0,31}";
    /** Longest availability window or time zone name a node's terms may hold. */
    static final int MAX_TERM_TEXT = 64;

    private final InstantSource clock;
    private final long heartbeatIntervalMs;
    /** Grace the operator set with --preemption-grace, or null to follow the policy. */
    private final Duration preemptionGrace;
    private final Allocator allocator = new Allocator();

    /** Members, accounts, policies, proposals and panels: rebuilt from the ledger, changed only through it. */
    private final Governance gov;
    private final Ledger ledger;
    /** Token digests of active members, read by the rpc edge's threads. */
    private final Map<String, String> tokenDigests = new ConcurrentHashMap<>();
    private final TreeMap<Long, Job> jobs = new TreeMap<>();
    /** The task ids of each job array, in index order (ids are given in index order at submission). */
    private final Map<Long, List<Long>> arrays = new HashMap<>();
    /** Jobs waiting (pending or in review) per submitting member: the policy's max_pending_per_member caps it. */
    private final Map<String, Integer> waitingByMember = new HashMap<>();
    /** Enrolled nodes, by name: only these may connect, each only as itself. */
    private final Map<String, NodeRecord> enrolled = new TreeMap<>();
    /** Names of the enrolled nodes, read by the rpc edge's threads: a removed node's certificate is refused at once. */
    private final Set<String> enrolledNames = ConcurrentHashMap.newKeySet();
    /** When each enrolled node with availability windows is offered, parsed once from its record. */
    private final Map<String, Availability> windowed = new HashMap<>();
    /** The next instant a windowed node opens or closes, as of the last allocation cycle: a cycle is due then. */
    private long nextWindowChange = Long.MAX_VALUE;
    private final Map<String, NodeRuntime> nodes = new TreeMap<>();
    /**
     * The node of each open agent session, so that a report finds its node at once: with 10,000
     * agents heartbeating every second, a scan of the nodes per report is 10^8 steps a second.
     * Kept in step with {@code NodeRuntime.link} by {@link #attach} and {@link #detach}.
     */
    private final Map<AgentLink, NodeRuntime> sessions = new java.util.IdentityHashMap<>();
    private final PendingQueue pending = new PendingQueue();
    /** Jobs with an attempt whose ranks have not all ended. */
    private final Set<Long> inFlight = new HashSet<>();
    /** Why-pending of the jobs the last cycle decided on; {@link #lastPlan} explains the others. */
    private final Map<Long, String> whyPending = new HashMap<>();
    private Plan lastPlan;
    /**
     * Whether the last cycle had no node offered and no attempt running, so that it could decide
     * nothing and left every wait to {@link #lastPlan} to explain.
     */
    private boolean lastCycleIdle;
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
    private long nextJobId = 1;

    /**
     * Recovers the state from the store: governance by replaying the ledger, jobs from their
     * records. Nodes of running attempts get a fresh grace period.
     *
     * @param preemptionGrace the operator's override of the policy's grace, or null
     */
    public ClusterState(Store store, InstantSource clock, Duration heartbeatInterval, Duration preemptionGrace) {
        this.clock = clock;
        this.heartbeatIntervalMs = heartbeatInterval.toMillis();
        this.preemptionGrace = preemptionGrace;
        // Governance is rebuilt by running the rules over the ledger, checking on the way that
        // they yield exactly what is recorded; a scheduler whose ledger does not verify refuses to start.
        LedgerVerifier.Replayed replayed = LedgerVerifier.replay(store, false);
        if (!replayed.report().ok()) {
            throw new IllegalStateException("the ledger does not verify, so the scheduler will not start on it: "
                    + replayed.report().problem());
        }
        if (replayed.report().entries() == 0) {
            throw new IllegalStateException("the data directory has no ledger: run `coop init` first");
        }
        gov = replayed.governance();
        ledger = Ledger.resume(replayed.report().entries(), replayed.report().head(), replayed.lastAt());
        gov.members().forEach(m -> {
            if (m.active()) {
                tokenDigests.put(m.name(), m.tokenSha256());
            }
        });
        store.scan(Kind.JOBS, Job.class, (k, j) -> {
            jobs.put(j.id(), j);
            countWaiting(j, 1);
        });
        for (Job j : jobs.values()) {
            if (j.inArray()) {
                arrays.computeIfAbsent(j.arrayId(), a -> new ArrayList<>()).add(j.id());
            }
        }
        store.scan(Kind.NODES, NodeRecord.class, (k, r) -> remember(r));
        Long nj = store.get(Kind.META, Store.key("next_job_id"), Long.class);
        nextJobId = nj == null ? 1 : nj;
        long now = clock.millis();
        decayed = new DecayedUsage(policy().params().halfLife(), now);
        fairUsage = new DecayedUsage(policy().params().halfLife(), now);
        for (Job j : jobs.values()) {
            if (j.state() == JobState.PENDING) {
                pending.add(j);
            }
            for (Attempt a : j.attempts()) {
                decayed.addInterval(j.account(), a.gpus(), a.startedAt(), a.isOver() ? a.finishedAt() : now);
                if (a.isOver()) {
                    accrue(j.account(), a);
                    continue;
                }
                heldGpus.merge(j.account(), a.gpus(), Integer::sum);
                inFlight.add(j.id());
                for (int r = 0; r < a.placements().size(); r++) {
                    if (!a.rankEnded(r)) {
                        Placement p = a.placements().get(r);
                        NodeRuntime n = nodes.computeIfAbsent(p.node(), name -> new NodeRuntime(name, p.site()));
                        // Counted as a heartbeat now, pushed so that loss is declared no sooner than the grace.
                        n.lastHeartbeat = now + Math.max(0, RESTART_GRACE.toMillis()
                                - MISSED_HEARTBEATS * heartbeatInterval.toMillis());
                        n.live.put(new RankRef(j.id(), a.number(), r), p.gpuIndices());
                    }
                }
            }
        }
        // Fair-level history is not stored: after a restart, count what was used as what was fair.
        decayed.all().forEach((a, u) -> fairUsage.addPast(a, u, now));
    }

    // ------------------------------------------------------------------ founding

    /**
     * Writes the genesis entry of the ledger (founding members, accounts, and a policy of equal
     * shares) into an empty store.
     */
    public static void found(Store store, List<Member> founders, List<String> accountNames, long now) {
        found(store, founders, accountNames, Params.DEFAULTS, now);
    }

    /** As {@link #found(Store, List, List, long)}, with founding parameters other than the defaults. */
    public static void found(Store store, List<Member> founders, List<String> accountNames, Params params, long now) {
        var batch = store.batch();
        SortedMap<String, Object> body = Governance.genesis(founders, accountNames, params);
        Governance.found(body, now);
        new Ledger().append(now, Event.of(EventType.GENESIS, body), batch);
        batch.put(Kind.META, "next_job_id", 1L);
        store.commit(batch);
    }

    // ------------------------------------------------------------------ members

    public Member member(String name) {
        return gov.member(name);
    }

    /** Token digests of the active members; a live view, safe to read from any thread. */
    /** A live view of the enrolled nodes' names. */
    public Set<String> enrolledNodes() {
        return java.util.Collections.unmodifiableSet(enrolledNames);
    }

    public Map<String, String> tokenDigests() {
        return java.util.Collections.unmodifiableMap(tokenDigests);
    }

    private Member requireMember(String name) {
        Member m = name == null ? null : gov.member(name);
        if (m == null) {
            throw new CoopException(CoopException.Kind.UNAUTHENTICATED,
                    "this call needs a member identity (--identity FILE or COOP_IDENTITY)");
        }
        if (!m.active()) {
            throw CoopException.denied("member " + name + " was removed from the cooperative");
        }
        return m;
    }

    // ------------------------------------------------------------------ jobs

    /**
     * What a researcher asks for; validated by {@link #submit}. {@code array}, when not empty, makes
     * it a job array: one task per index (see {@link ArraySpec}).
     */
    public record JobSpec(String account, int gpusPerNode, int nodes, String gpuModel, long walltimeSeconds,
                          String command, int priority, String name, boolean crossSite, boolean noPreempt,
                          String purpose, String array) {
        public JobSpec(String account, int gpusPerNode, int nodes, String gpuModel, long walltimeSeconds,
                       String command, int priority, String name, boolean crossSite, boolean noPreempt,
                       String purpose) {
            this(account, gpusPerNode, nodes, gpuModel, walltimeSeconds, command, priority, name, crossSite,
                    noPreempt, purpose, "");
        }

        public JobSpec(String account, int gpusPerNode, int nodes, String gpuModel, long walltimeSeconds,
                       String command, int priority, String name, boolean crossSite, boolean noPreempt) {
            this(account, gpusPerNode, nodes, gpuModel, walltimeSeconds, command, priority, name, crossSite,
                    noPreempt, "", "");
        }
    }

    /** What a submit created: one job ({@code arrayId} 0), or the tasks of an array, ids first to first + tasks - 1. */
    public record Submitted(long firstJobId, long arrayId, int tasks) {
    }

    /** Queues a job, or every task of an array; returns the (first) job's id. */
    public long submit(String memberName, JobSpec spec, Tx tx) {
        return submitJobs(memberName, spec, tx).firstJobId();
    }

    /**
     * Queues a job, or every task of an array at once: all is validated first, then every task is
     * written in this turn's batch, so an array is stored whole or not at all.
     */
    public Submitted submitJobs(String memberName, JobSpec spec, Tx tx) {
        Member m = requireMember(memberName);
        Names.require("account", spec.account());
        Account account = gov.accounts().get(spec.account());
        if (account == null || !account.open()) {
            throw CoopException.invalid("account", "no open account named '" + spec.account() + "'");
        }
        if (!m.belongsTo(spec.account())) {
            throw CoopException.denied("member " + m.name() + " does not belong to account " + spec.account());
        }
        if (!m.has(Role.RESEARCHER)) {
            throw CoopException.denied("member " + m.name() + " has no researcher role, so cannot submit jobs");
        }
        if (spec.gpusPerNode() < 1 || spec.gpusPerNode() > MAX_GPUS_PER_NODE) {
            throw CoopException.invalid("gpus_per_node", "must be between 1 and " + MAX_GPUS_PER_NODE
                    + ", got " + spec.gpusPerNode());
        }
        int nodeCount = spec.nodes();
        if (nodeCount < 1 || nodeCount > MAX_NODES) {
            throw CoopException.invalid("nodes", "must be between 1 and " + MAX_NODES + ", got " + spec.nodes());
        }
        String model = spec.gpuModel() == null ? "" : spec.gpuModel().replace(" ", "");
        if (!model.isEmpty() && !model.matches(GPU_MODEL + "(," + GPU_MODEL + "){0,7}")) {
            throw CoopException.invalid("gpu_model", "'" + abbreviated(model) + "' must be up to 8 comma-separated "
                    + "models, each matching " + GPU_MODEL);
        }
        long maxWalltime = policy().params().maxWalltimeS();
        long walltime = spec.walltimeSeconds() == 0 ? Math.min(Policy.DEFAULT_WALLTIME.toSeconds(), maxWalltime)
                : spec.walltimeSeconds();
        if (walltime < 1 || walltime > maxWalltime) {
            throw CoopException.invalid("walltime_seconds", "must be between 1 and " + maxWalltime
                    + " (the policy's max_walltime_s), got " + spec.walltimeSeconds());
        }
        if (spec.command() == null || spec.command().isBlank()) {
            throw CoopException.invalid("command", "is required");
        }
        if (spec.command().getBytes(java.nio.charset.StandardCharsets.UTF_8).length > MAX_COMMAND_BYTES) {
            throw CoopException.invalid("command", "must be at most 64 KiB (65536 bytes in UTF-8)");
        }
        if (spec.command().indexOf('\0') >= 0) {
            throw CoopException.invalid("command", "must not contain NUL characters");
        }
        if (Math.abs(spec.priority()) > MAX_PRIORITY) {
            throw CoopException.invalid("priority", "must be between -1000 and 1000, got " + spec.priority());
        }
        String name = spec.name() == null ? "" : spec.name();
        if (name.length() > 128 || name.chars().anyMatch(Character::isISOControl)) {
            throw CoopException.invalid("name", "must be at most 128 printable characters");
        }
        String purpose = spec.purpose() == null ? "" : spec.purpose();
        if (!purpose.isEmpty()) {
            Names.require("purpose", purpose);
        }
        boolean isArray = spec.array() != null && !spec.array().isEmpty();
        int[] indices = isArray ? ArraySpec.parse(spec.array()) : null;
        long maxWaiting = policy().params().maxPendingPerMember();
        int waiting = waitingByMember.getOrDefault(m.name(), 0);
        if (maxWaiting > 0 && waiting >= maxWaiting) {
            throw new CoopException(CoopException.Kind.RESOURCE_EXHAUSTED, "member " + m.name() + " already has "
                    + waiting + " jobs waiting, the most the policy's max_pending_per_member (" + maxWaiting
                    + ") allows: wait for some to start, or cancel some");
        }
        if (isArray && maxWaiting > 0 && waiting + indices.length > maxWaiting) {
            // Each task waits like a job: an array must not be a way around the cap.
            throw new CoopException(CoopException.Kind.RESOURCE_EXHAUSTED, "array: its " + indices.length
                    + " tasks and the " + waiting + " jobs member " + m.name() + " already has waiting are more than "
                    + "the policy's max_pending_per_member (" + maxWaiting + ") allows");
        }
        long now = governanceNow();
        boolean review = gov.needsReview(spec.gpusPerNode() * nodeCount, purpose);
        if (isArray) {
            if (review) {
                throw CoopException.invalid("array", "tasks of " + spec.gpusPerNode() * nodeCount + " GPUs"
                        + (purpose.isEmpty() ? "" : " with purpose " + purpose) + " need review by a panel, "
                        + "which is drawn per job: submit them one by one");
            }
            return submitArray(m, spec, indices, nodeCount, model, walltime, name, purpose, now, tx);
        }
        long id = nextJobId;
        if (review) {
            apply(gov.tick(now), now, tx);
            // The last check that can refuse; it draws the panel, seeded by the ledger head now.
            apply(gov.openPanel(id, m.name(), spec.gpusPerNode() * nodeCount, purpose, ledger.head(), now), now, tx);
        }
        nextJobId++;
        Job job = new Job(id, name, spec.account(), m.name(), spec.gpusPerNode(), nodeCount, model, walltime,
                spec.command(), spec.priority(), spec.crossSite(), review ? JobState.REVIEW : JobState.PENDING, now, 0,
                List.of(), spec.noPreempt(), purpose);
        jobs.put(id, job);
        countWaiting(job, 1);
        if (!review) {
            pending.add(job);
            tx.jobQueued();
        }
        tx.batch().put(Kind.JOBS, id, job);
        tx.batch().put(Kind.META, "next_job_id", nextJobId);
        return new Submitted(id, 0, 0);
    }

    /** Stores the tasks of a validated array: the array takes the next id, its tasks the ones after it. */
    private Submitted submitArray(Member m, JobSpec spec, int[] indices, int nodeCount, String model, long walltime,
                                  String name, String purpose, long now, Tx tx) {
        long arrayId = nextJobId;
        List<Long> ids = new ArrayList<>(indices.length);
        for (int i = 0; i < indices.length; i++) {
            long id = arrayId + 1 + i;
            Job job = new Job(id, name, spec.account(), m.name(), spec.gpusPerNode(), nodeCount, model, walltime,
                    spec.command(), spec.priority(), spec.crossSite(), JobState.PENDING, now, 0, List.of(),
                    spec.noPreempt(), purpose, arrayId, indices[i]);
            jobs.put(id, job);
            countWaiting(job, 1);
            pending.add(job);
            tx.batch().put(Kind.JOBS, id, job);
            ids.add(id);
        }
        arrays.put(arrayId, ids);
        nextJobId = arrayId + 1 + indices.length;
        tx.batch().put(Kind.META, "next_job_id", nextJobId);
        tx.allocationDue();
        log.info("array {} of {} tasks ({}) submitted by {}", arrayId, indices.length, spec.array(), m.name());
        return new Submitted(arrayId + 1, arrayId, indices.length);
    }

    /** A job array by id, summarized. */
    public JobArray array(long arrayId) {
        List<Long> ids = arrays.get(arrayId);
        if (ids == null) {
            throw CoopException.notFound("job array " + arrayId + " not found");
        }
        return JobArray.of(arrayId, ids.stream().map(jobs::get).toList());
    }

    /** The tasks of a job array, in index order. */
    public List<Job> tasks(long arrayId) {
        List<Long> ids = arrays.get(arrayId);
        if (ids == null) {
            throw CoopException.notFound("job array " + arrayId + " not found");
        }
        return ids.stream().map(jobs::get).toList();
    }

    /**
     * Whose commands and output {@code memberName} may read, in the state as it is now; a caller
     * who is no member (null, unknown or removed) reads none.
     */
    public JobVisibility visibility(String memberName) {
        return JobVisibility.of(memberName == null ? null : gov.member(memberName), enrolled::get, id -> {
            Governance.Panel p = gov.panel(id);
            return p == null ? List.of() : p.drawn();
        });
    }

    /** Whether {@code id} names a job array. */
    public boolean isArray(long id) {
        return arrays.containsKey(id);
    }

    /** Cancels every unfinished task of an array, as {@link #cancel} would each. */
    public JobArray cancelArray(String memberName, long arrayId, Tx tx) {
        Member m = requireMember(memberName);
        JobArray a = array(arrayId);
        if (!a.member().equals(m.name()) && !(m.has(Role.OPERATOR) && m.belongsTo(a.account()))) {
            throw CoopException.denied("job array " + arrayId + " belongs to " + a.member() + "; only its submitter "
                    + "or an operator of account " + a.account() + " may cancel it");
        }
        if (a.isOver()) {
            throw CoopException.precondition("job array " + arrayId + " already ended (all " + a.tasks()
                    + " tasks are finished)");
        }
        for (long id : arrays.get(arrayId)) {
            if (!jobs.get(id).state().isFinal()) {
                cancel(memberName, id, tx);
            }
        }
        return array(arrayId);
    }

    public Job job(long id) {
        Job j = jobs.get(id);
        if (j == null) {
            throw CoopException.notFound("job " + id + " not found"
                    + (arrays.containsKey(id) ? ": it is a job array, whose tasks are jobs " + arrays.get(id).get(0)
                    + " and on" : ""));
        }
        return j;
    }

    public String whyPending(long id) {
        Governance.Panel panel = gov.panel(id);
        Job job = jobs.get(id);
        if (panel != null && job != null && job.state() == JobState.REVIEW) {
            int size = panel.drawn().size();
            return "waiting for review by a panel drawn by lot (" + String.join(", ", panel.drawn()) + "): "
                    + panel.approving() + " of " + (size / 2 + 1) + " approvals needed, " + panel.rejecting()
                    + " rejecting";
        }
        String why = whyPending.get(id);
        if (why != null) {
            return why;
        }
        JobRequest r = pending.get(id);
        return r == null || lastPlan == null ? "" : lastPlan.explain(r).detail();
    }

    /** Jobs newest first, filtered. */
    public List<Job> jobs(String account, Set<JobState> states, int limit) {
        checkListing(account, limit);
        List<Job> out = new ArrayList<>();
        for (Job j : jobs.descendingMap().values()) {
            if ((account == null || account.isEmpty() || j.account().equals(account))
                    && (states.isEmpty() || states.contains(j.state()))) {
                out.add(j);
                if (limit > 0 && out.size() >= limit) {
                    break;
                }
            }
        }
        return out;
    }

    private void checkListing(String account, int limit) {
        if (account != null && !account.isEmpty()) {
            Names.require("account", account);
            if (!gov.accounts().containsKey(account)) {
                throw CoopException.notFound("no account named '" + account + "'");
            }
        }
        if (limit < 0) {
            throw CoopException.invalid("limit", "must be 0 (every job) or more, got " + limit);
        }
    }

    /** One line of a listing: a job, or (when arrays are grouped) a whole array. */
    public record Listed(Job job, JobArray array) {
    }

    /**
     * Jobs newest first, filtered as {@link #jobs(String, Set, int)} does; {@code arrayId} other than
     * 0 keeps only that array's tasks. With {@code groupArrays} each array is one line, where its
     * newest task would be, shown when any of its tasks passes the filter, and the limit counts lines.
     */
    public List<Listed> listing(String account, Set<JobState> states, int limit, long arrayId, boolean groupArrays) {
        if (arrayId < 0) {
            throw CoopException.invalid("array_id", "must be 0 (any job) or an array's id, got " + arrayId);
        }
        List<Job> matching;
        if (arrayId != 0) {
            List<Long> ids = arrays.get(arrayId);
            if (ids == null) {
                throw CoopException.notFound("job array " + arrayId + " not found");
            }
            checkListing(account, limit);
            matching = new ArrayList<>();
            for (int i = ids.size() - 1; i >= 0; i--) {
                Job j = jobs.get(ids.get(i));
                if ((account == null || account.isEmpty() || j.account().equals(account))
                        && (states.isEmpty() || states.contains(j.state()))) {
                    matching.add(j);
                }
            }
        } else {
            matching = jobs(account, states, groupArrays ? 0 : limit);
        }
        List<Listed> out = new ArrayList<>();
        Set<Long> shown = new HashSet<>();
        for (Job j : matching) {
            if (limit > 0 && out.size() >= limit) {
                break;
            }
            if (groupArrays && j.inArray()) {
                if (shown.add(j.arrayId())) {
                    out.add(new Listed(null, array(j.arrayId())));
                }
            } else {
                out.add(new Listed(j, null));
            }
        }
        return out;
    }

    public Job cancel(String memberName, long id, Tx tx) {
        Member m = requireMember(memberName);
        Job j = job(id);
        if (!j.member().equals(m.name()) && !(m.has(Role.OPERATOR) && m.belongsTo(j.account()))) {
            throw CoopException.denied("job " + id + " belongs to " + j.member() + "; only its submitter or an "
                    + "operator of account " + j.account() + " may cancel it");
        }
        if (j.state().isFinal()) {
            throw CoopException.precondition("job " + id + " already ended (" + j.state().name().toLowerCase() + ")");
        }
        long now = clock.millis();
        if (j.state() == JobState.RUNNING) {
            j = j.withAttempt(j.current().withOutcome("cancelled"));
            killLiveRanks(j, j.current(), "cancelled", tx);
        }
        if (j.state() == JobState.REVIEW) {
            gov.dropPanel(id);
            apply(List.of(Event.of(EventType.CANCEL_REVIEW, Map.of("job", id))), now, tx);
        }
        pending.remove(id);
        whyPending.remove(id);
        j = j.to(JobState.CANCELLED, now);
        save(j, tx);
        tx.allocationDue();
        return j;
    }

    private void killLiveRanks(Job j, Attempt a, String reason, Tx tx) {
        killLiveRanks(j, a, reason, CANCEL_GRACE_SECONDS, tx);
    }

    /** Tells the agents running the attempt's live ranks to stop them: SIGTERM, then SIGKILL after the grace. */
    private void killLiveRanks(Job j, Attempt a, String reason, long graceSeconds, Tx tx) {
        for (int r = 0; r < a.placements().size(); r++) {
            if (a.rankEnded(r)) {
                continue;
            }
            RankRef ref = new RankRef(j.id(), a.number(), r);
            NodeRuntime n = nodes.get(a.placements().get(r).node());
            if (n != null && n.link != null) {
                AgentLink link = n.link;
                tx.afterCommit(() -> link.kill(ref, reason, graceSeconds));
            }
        }
    }

    private void save(Job j, Tx tx) {
        Job before = jobs.put(j.id(), j);
        if (before != null) {
            countWaiting(before, -1);
        }
        countWaiting(j, 1);
        tx.batch().put(Kind.JOBS, j.id(), j);
    }

    private void countWaiting(Job j, int delta) {
        if (j.state() == JobState.PENDING || j.state() == JobState.REVIEW) {
            waitingByMember.merge(j.member(), delta, (a, b) -> a + b == 0 ? null : a + b);
        }
    }

    // ------------------------------------------------------------------ governance

    /**
     * Applies a member's signed statement (proposal, ballot, delegation or review). The
     * statement must be the calling member's own.
     */
    private List<Event> statement(String memberName, EventType type, SortedMap<String, Object> statement,
                                  String signature, Tx tx) {
        Member m = requireMember(memberName);
        if (!type.label().equals(statement.get("type")) || !m.name().equals(statement.get("member"))) {
            throw CoopException.denied("the signed statement must be a " + type + " by the calling member "
                    + m.name());
        }
        long now = governanceNow();
        // Due proposals close before any input is taken, as the rules require.
        apply(gov.tick(now), now, tx);
        List<Event> events = gov.submit(statement, signature, now, true);
        apply(events, now, tx);
        return events;
    }

    public Proposal propose(String memberName, SortedMap<String, Object> statement, String signature, Tx tx) {
        List<Event> events = statement(memberName, EventType.PROPOSE, statement, signature, tx);
        Proposal p = proposal(((Number) events.get(0).body().get("id")).longValue());
        log.info("proposal {} opened by {}: {} {}", p.id(), p.proposer(), p.kind().label(), p.title());
        return p;
    }

    public Proposal vote(String memberName, SortedMap<String, Object> statement, String signature, Tx tx) {
        statement(memberName, EventType.BALLOT, statement, signature, tx);
        return proposal(((Number) statement.get("proposal")).longValue());
    }

    /** Sets or revokes a delegation; returns the member's delegations after it, by topic. */
    public Map<Topic, String> delegate(String memberName, SortedMap<String, Object> statement, String signature,
                                       Tx tx) {
        statement(memberName, EventType.DELEGATE, statement, signature, tx);
        return delegations(memberName);
    }

    public Map<Topic, String> delegations(String memberName) {
        Map<Topic, String> out = new java.util.EnumMap<>(Topic.class);
        for (Topic t : Topic.values()) {
            String to = gov.delegations(t).get(memberName);
            if (to != null) {
                out.put(t, to);
            }
        }
        return out;
    }

    public Job review(String memberName, SortedMap<String, Object> statement, String signature, Tx tx) {
        long id = ((Number) statement.getOrDefault("job", 0L)).longValue();
        job(id);
        statement(memberName, EventType.REVIEW, statement, signature, tx);
        return job(id);
    }

    public Governance.Panel panel(long job) {
        Governance.Panel p = gov.panel(job);
        if (p == null) {
            throw CoopException.notFound("job " + job + " has no review panel");
        }
        return p;
    }

    /** A proposal with its tally so far (delegations included) while it is open. */
    public Proposal proposal(long id) {
        return gov.withLiveTally(gov.proposal(id));
    }

    public List<Member> members() {
        return gov.members();
    }

    /** The ledger's length and head hash. */
    public record LedgerHead(long size, String head) {
    }

    public LedgerHead ledgerHead() {
        return new LedgerHead(ledger.size(), ledger.head());
    }

    /** Jobs the scheduler holds, in every state. */
    public int jobCount() {
        return jobs.size();
    }

    /**
     * The member, if it may back up the scheduler: operators run the machines, so they look after
     * the scheduler's data too; anyone else gets PERMISSION_DENIED.
     */
    public Member backupOperator(String memberName) {
        Member m = requireMember(memberName);
        if (!m.has(Role.OPERATOR)) {
            throw CoopException.denied("member " + m.name() + " has no operator role, so cannot back up the scheduler");
        }
        return m;
    }

    /**
     * The time governance inputs are dated: the clock, but never before the ledger's last
     * entry, so that a clock stepped back cannot date the ledger backwards.
     */
    private long governanceNow() {
        return Math.max(clock.millis(), ledger.lastAt());
    }

    /** Records events in the ledger and puts their effects on jobs and usage into force. */
    private void apply(List<Event> events, long now, Tx tx) {
        for (Event e : events) {
            ledger.append(now, e, tx.batch());
            switch (e.type()) {
                case CLOSE -> closed(e, now, tx);
                case WITHDRAW -> log.info("proposal {} {}", e.body().get("proposal"), e.body().get("outcome"));
                case VERDICT -> verdict(e, now, tx);
                default -> {
                }
            }
        }
    }

    private void closed(Event e, long now, Tx tx) {
        Proposal p = gov.proposal(((Number) e.body().get("proposal")).longValue());
        log.info("proposal {} {}: {}", p.id(), p.state().name().toLowerCase(), p.outcome());
        if (p.kind() == ProposalKind.ADMIT || p.kind() == ProposalKind.REMOVE) {
            for (Member m : gov.members()) {
                if (m.active()) {
                    tokenDigests.put(m.name(), m.tokenSha256());
                } else {
                    tokenDigests.remove(m.name());
                }
            }
        }
        if (p.kind() == ProposalKind.REMOVE && p.state() == ProposalState.PASSED) {
            cancelWaitingJobs((String) p.change().get("name"), now, tx);
        }
        if (p.enactedVersion() != 0) {
            enacted(policy(p.enactedVersion() - 1), policy(p.enactedVersion()), now, tx);
        }
    }

    /**
     * A removed member's jobs that have not started are cancelled with its removal, in the same
     * commit, so that they do not keep a place in the queue for someone who is no longer a
     * member; their review panels were dropped by the same removal. Running jobs run to their end.
     */
    private void cancelWaitingJobs(String member, long now, Tx tx) {
        String reason = "cancelled: member " + member + " was removed";
        List<Job> waiting = jobs.values().stream().filter(j -> j.member().equals(member)
                && (j.state() == JobState.PENDING || j.state() == JobState.REVIEW)).toList();
        for (Job j : waiting) {
            pending.remove(j.id());
            whyPending.remove(j.id());
            save(j.cancelled(now, reason), tx);
        }
        if (!waiting.isEmpty()) {
            tx.allocationDue();
            log.info("{} waiting job(s) of {} {}", waiting.size(), member, reason);
        }
    }

    /**
     * A new policy is in force. New shares start a new period, a new agreement: usage under it
     * starts from zero, for the report, for the fair-share order and for owed time. What each
     * account used under the old shares was its due then; carrying it over would make an
     * account that was voted down pay, under the new shares, for GPU time the old ones gave it.
     */
    private void enacted(Policy before, Policy policy, long now, Tx tx) {
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

    private void verdict(Event e, long now, Tx tx) {
        Job j = jobs.get(((Number) e.body().get("job")).longValue());
        if (j == null || j.state() != JobState.REVIEW) {
            return;
        }
        if ("approved".equals(e.body().get("verdict"))) {
            j = j.to(JobState.PENDING, now);
            pending.add(j);
            tx.allocationDue();
            log.info("job {} approved by its review panel", j.id());
        } else {
            j = j.to(JobState.CANCELLED, now);
            log.info("job {} rejected by its review panel", j.id());
        }
        save(j, tx);
    }

    public List<Proposal> proposals(boolean openOnly) {
        return gov.proposals(openOnly).stream().map(gov::withLiveTally).toList();
    }

    public Policy policy() {
        return gov.policy();
    }

    public Policy policy(long version) {
        if (version < 0) {
            throw CoopException.invalid("version", "must be 0 (the live policy) or a policy version, got " + version);
        }
        if (version == 0) {
            return policy();
        }
        return gov.policies().stream().filter(p -> p.version() == version).findFirst()
                .orElseThrow(() -> CoopException.notFound("policy version " + version + " not found"));
    }

    public List<Policy> policies() {
        return gov.policies();
    }

    // ------------------------------------------------------------------ usage

    /** One account's row of {@link Usage}. */
    public record AccountUsage(String account, int entitledBasisPoints, double achievedPercent, double gpuSeconds,
                               int runningJobs, int runningGpus, int pendingJobs, double totalGpuSeconds) {
    }

    /** Usage under the live policy, from its enactment to now. */
    public record Usage(long policyVersion, long windowStart, long windowEnd, List<AccountUsage> accounts,
                        int gpusOnline, int gpusBusy) {
    }

    public Usage usage() {
        long now = clock.millis();
        Policy policy = policy();
        Map<String, Long> period = usedMillis(policy.sharesSince(), now, periodGpuMillis);
        Map<String, Long> total = usedMillis(0, now, totalGpuMillis);
        long sum = period.values().stream().mapToLong(Long::longValue).sum();
        List<AccountUsage> rows = new ArrayList<>();
        for (String a : gov.accounts().keySet()) {
            int runningJobs = 0;
            int runningGpus = 0;
            int pendingJobs = 0;
            for (long id : inFlight) {
                Job j = jobs.get(id);
                if (j.account().equals(a) && j.state() == JobState.RUNNING) {
                    runningJobs++;
                    runningGpus += j.gpus();
                }
            }
            pendingJobs += pending.count(a);
            long used = period.getOrDefault(a, 0L);
            rows.add(new AccountUsage(a, policy.share(a), sum == 0 ? 0 : 100.0 * used / sum, used / 1000.0,
                    runningJobs, runningGpus, pendingJobs, total.getOrDefault(a, 0L) / 1000.0));
        }
        int online = 0;
        int busy = 0;
        for (NodeRuntime n : nodes.values()) {
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
        for (long id : inFlight) {
            Job j = jobs.get(id);
            for (Attempt a : j.attempts()) {
                if (!a.isOver()) {
                    out.merge(j.account(), a.gpuMillis(from, now), Long::sum);
                }
            }
        }
        return out;
    }

    private void accrue(String account, Attempt a) {
        periodGpuMillis.merge(account, a.gpuMillis(policy().sharesSince(), a.finishedAt()), Long::sum);
        totalGpuMillis.merge(account, a.gpuMillis(0, a.finishedAt()), Long::sum);
    }

    // ------------------------------------------------------------------ nodes

    /**
     * A node's view for listings. {@code reservedGpus} is the reserve in force (what its operator
     * asked, capped by the policy); {@code offered} whether it is inside its availability windows
     * now, and {@code windowChangeAt} when it next opens or closes ({@code Long.MAX_VALUE}: never);
     * {@code gpuUsage} and {@code heartbeatLagMs} come from its latest heartbeat.
     */
    public record NodeStatus(String name, String site, List<Gpu> gpus, boolean online, long lastHeartbeat,
                             List<Integer> busyGpus, List<Long> jobIds, String account, boolean draining,
                             String drainReason, int reservedGpus, List<String> windows, String timeZone,
                             boolean offered, long windowChangeAt, List<GpuUsage> gpuUsage,
                             long heartbeatLagMs) {
    }

    public List<NodeStatus> nodes() {
        List<NodeStatus> out = new ArrayList<>();
        for (NodeRuntime n : nodes.values()) {
            out.add(status(n, enrolled.get(n.name)));
        }
        for (NodeRecord r : enrolled.values()) {
            if (!nodes.containsKey(r.name())) {
                // Enrolled, but its agent has not connected since the scheduler started.
                out.add(status(null, r));
            }
        }
        out.sort(java.util.Comparator.comparing(NodeStatus::name));
        return out;
    }

    private NodeStatus status(NodeRuntime n, NodeRecord r) {
        long now = clock.millis();
        if (n != null) {
            n.foldPulse();
        }
        Availability when = r == null ? Availability.ALWAYS : windowed.getOrDefault(r.name(), Availability.ALWAYS);
        List<Gpu> gpus = n == null ? List.of() : List.copyOf(n.gpus);
        Set<Long> ids = new TreeSet<>();
        if (n != null) {
            n.live.keySet().forEach(ref -> ids.add(ref.jobId()));
        }
        return new NodeStatus(n == null ? r.name() : n.name, n == null ? r.site() : n.site, gpus,
                n != null && n.link != null, n == null ? 0 : n.lastHeartbeat,
                n == null ? List.of() : List.copyOf(n.busyGpus()), List.copyOf(ids), r == null ? "" : r.account(),
                r != null && r.draining(), r == null ? "" : r.drainReason(),
                r == null ? 0 : reserveInForce(r, gpus.size()), when.windows(), r == null ? "UTC" : r.timeZone(),
                when.openAt(now), when.nextChange(now), n == null ? List.of() : n.usage,
                n == null ? 0 : n.heartbeatLagMs);
    }

    /**
     * The GPUs a node's operator account has first claim on: what the operator asked, capped by
     * the policy's {@code reserve_cap_bp} of the node's GPUs (a vote may lower the cap below what
     * an operator set earlier; the cap wins). Until the node's GPUs are known, what was asked.
     */
    private int reserveInForce(NodeRecord r, int gpus) {
        if (gpus == 0) {
            return r.reservedGpus();
        }
        return (int) Math.min(r.reservedGpus(), gpus * policy().params().reserveCapBp() / 10_000);
    }

    private void remember(NodeRecord r) {
        enrolled.put(r.name(), r);
        enrolledNames.add(r.name());
        if (r.windows().isEmpty()) {
            windowed.remove(r.name());
        } else {
            windowed.put(r.name(), r.availability());
        }
    }

    /** The enrolled node, if the member is an operator of its account; else NOT_FOUND or PERMISSION_DENIED. */
    private NodeRecord operatedBy(Member m, String name, String what) {
        Names.require("name", name);
        NodeRecord r = enrolled.get(name);
        if (r == null) {
            throw CoopException.notFound("node " + name + " is not enrolled");
        }
        if (!m.has(Role.OPERATOR) || !m.belongsTo(r.account())) {
            throw CoopException.denied("only an operator of account " + r.account() + " may " + what + " node "
                    + name);
        }
        return r;
    }

    /**
     * Enrolls a node for the operator's account, or renews the token of a node the same
     * account enrolled. Only an operator member of the account may.
     */
    public NodeRecord enroll(String memberName, String name, String site, String account, String tokenSha256,
                             Tx tx) {
        Member m = requireMember(memberName);
        Names.require("name", name);
        Names.require("site", site);
        Names.require("account", account);
        Account a = gov.accounts().get(account);
        if (a == null || !a.open()) {
            throw CoopException.invalid("account", "no open account named '" + account + "'");
        }
        if (!m.has(Role.OPERATOR)) {
            throw CoopException.denied("member " + m.name() + " has no operator role, so cannot enroll nodes");
        }
        if (!m.belongsTo(account)) {
            throw CoopException.denied("member " + m.name() + " does not belong to account " + account);
        }
        NodeRecord existing = enrolled.get(name);
        if (existing != null && !existing.account().equals(account)) {
            throw new CoopException(CoopException.Kind.ALREADY_EXISTS, "name: node " + name
                    + " is enrolled for account " + existing.account() + "; only its operators may renew it");
        }
        NodeRecord r = existing == null ? new NodeRecord(name, site, account, m.name(), tokenSha256, clock.millis())
                : new NodeRecord(name, site, account, m.name(), tokenSha256, clock.millis(), existing.draining(),
                        existing.drainReason(), existing.reservedGpus(), existing.windows(), existing.timeZone());
        remember(r);
        tx.batch().put(Kind.NODES, name, r);
        log.info("node {} at {} enrolled for {} by {}", name, site, account, m.name());
        return r;
    }

    /**
     * Drains a node (no new work is placed there; what runs is left to finish) or undrains it.
     * Only an operator member of the node's account may.
     */
    public NodeStatus drain(String memberName, String name, boolean drain, String reason, Tx tx) {
        Member m = requireMember(memberName);
        NodeRecord r = operatedBy(m, name, "drain or undrain");
        String why = reason == null ? "" : reason.strip();
        if (why.length() > 200 || why.chars().anyMatch(Character::isISOControl)) {
            throw CoopException.invalid("reason", "must be at most 200 printable characters");
        }
        r = r.drained(drain, why);
        remember(r);
        tx.batch().put(Kind.NODES, name, r);
        tx.allocationDue();
        log.info("node {} {} by {}{}", name, drain ? "draining" : "undrained", m.name(),
                why.isEmpty() ? "" : ": " + why);
        return status(nodes.get(name), r);
    }

    /** Largest reserve accepted while a node's GPUs are not known yet (its agent has not connected). */
    static final int MAX_RESERVE_UNSEEN = 1024;

    /**
     * Sets a node's operator's terms: how many of its GPUs the operator's account has first claim
     * on ({@code reservedGpus}; null keeps it), and when the node is offered ({@code windows}, read
     * in {@code timeZone}; null keeps them, empty means always; a null or empty zone keeps the
     * current one). Work already running is left alone; new work is placed only where it ends
     * before the node's window closes. Only an operator member of the node's account may.
     */
    public NodeStatus setTerms(String memberName, String name, Integer reservedGpus, List<String> windows,
                               String timeZone, Tx tx) {
        Member m = requireMember(memberName);
        NodeRecord r = operatedBy(m, name, "set the terms of");
        int reserve = reservedGpus == null ? r.reservedGpus() : reservedGpus;
        if (reservedGpus != null) {
            NodeRuntime n = nodes.get(name);
            int gpus = n == null ? 0 : n.gpus.size();
            long capBp = policy().params().reserveCapBp();
            if (reserve < 0) {
                throw CoopException.invalid("reserved_gpus", "must be 0 or more, got " + reserve);
            }
            if (gpus > 0 && reserve > gpus * capBp / 10_000) {
                throw CoopException.invalid("reserved_gpus", reserve + " is more than the policy allows on node "
                        + name + ": at most " + gpus * capBp / 10_000 + " of its " + gpus + " GPUs (reserve_cap_bp "
                        + capBp + ")");
            }
            if (gpus == 0 && reserve > MAX_RESERVE_UNSEEN) {
                throw CoopException.invalid("reserved_gpus", "must be at most " + MAX_RESERVE_UNSEEN + ", got "
                        + reserve);
            }
        }
        if (windows != null) {
            for (String w : windows) {
                if (w == null || w.length() > MAX_TERM_TEXT) {
                    throw CoopException.invalid("windows", "each window must be at most " + MAX_TERM_TEXT
                            + " characters");
                }
            }
        }
        if (timeZone != null && timeZone.length() > MAX_TERM_TEXT) {
            throw CoopException.invalid("time_zone", "must be at most " + MAX_TERM_TEXT + " characters");
        }
        String zone = timeZone == null || timeZone.isBlank() ? r.timeZone() : timeZone;
        Availability when = Availability.parse(windows == null ? r.windows() : windows, zone);
        r = r.withTerms(reserve, when);
        remember(r);
        tx.batch().put(Kind.NODES, name, r);
        tx.allocationDue();
        log.info("node {} terms set by {}: {} GPUs reserved for {}, offered {}", name, m.name(), reserve,
                r.account(), when);
        return status(nodes.get(name), r);
    }

    /**
     * Removes a node from the cooperative: its token and certificate are refused from now on, its
     * agent is told to stop what it runs and its stream is closed, and those attempts are requeued
     * as new attempts elsewhere. Only an operator member of the node's account may.
     */
    public NodeStatus removeNode(String memberName, String name, Tx tx) {
        Member m = requireMember(memberName);
        NodeRecord r = operatedBy(m, name, "remove");
        NodeStatus before = status(nodes.get(name), r);
        enrolled.remove(name);
        enrolledNames.remove(name);
        windowed.remove(name);
        tx.batch().delete(Kind.NODES, name);
        NodeRuntime n = nodes.remove(name);
        if (n != null) {
            AgentLink link = n.link;
            detach(n);
            for (RankRef ref : List.copyOf(n.live.keySet())) {
                if (link != null) {
                    tx.afterCommit(() -> link.kill(ref, "node " + name + " was removed from the cooperative",
                            CANCEL_GRACE_SECONDS));
                }
                rankLost(n, ref, "node removed by " + m.name(), tx);
            }
            if (link != null) {
                tx.afterCommit(() -> link.close("node " + name + " was removed from the cooperative"));
            }
        }
        tx.allocationDue();
        log.info("node {} removed by {}", name, m.name());
        return before;
    }

    /**
     * Checks that a connecting agent speaks for the enrolled node it names, with that node's
     * token, from that node's site.
     */
    public void authenticateNode(String headerNode, String token, String helloNode, String helloSite) {
        if (headerNode == null || token == null) {
            throw new CoopException(CoopException.Kind.UNAUTHENTICATED, "this agent has no node identity: enroll "
                    + "the node with coop node enroll and start the agent with --identity FILE");
        }
        NodeRecord r = enrolled.get(headerNode);
        if (r == null || !java.security.MessageDigest.isEqual(
                r.tokenSha256().getBytes(java.nio.charset.StandardCharsets.US_ASCII),
                coop.scheduler.ledger.Entry.sha256(token).getBytes(java.nio.charset.StandardCharsets.US_ASCII))) {
            throw new CoopException(CoopException.Kind.UNAUTHENTICATED, "node " + headerNode
                    + " is not enrolled or its token is wrong: check the node identity file");
        }
        if (!headerNode.equals(helloNode)) {
            throw CoopException.denied("node " + headerNode + " may speak only for itself, not for " + helloNode);
        }
        if (!r.site().equals(helloSite)) {
            throw CoopException.denied("node " + headerNode + " is enrolled at site " + r.site() + ", not "
                    + helloSite);
        }
    }

    /** An agent opened its stream: register its capacity, and fence what it reports running. */
    public void hello(AgentLink link, String node, String site, List<Gpu> gpus, List<RankRef> running, Tx tx) {
        hello(link, node, site, gpus, running, "127.0.0.1", tx);
    }

    /**
     * An agent opened its stream: register its capacity and the address its peers reach it at,
     * and fence what it reports running.
     */
    public void hello(AgentLink link, String node, String site, List<Gpu> gpus, List<RankRef> running,
                      String address, Tx tx) {
        Names.require("hello.node", node);
        if (address == null || address.isBlank() || address.length() > 253
                || !address.matches("[A-Za-z0-9.:\\[\\]%-]+")) {
            throw CoopException.invalid("hello.address", "must be a host name or IP address, got '" + address + "'");
        }
        Names.require("hello.site", site);
        if (gpus.isEmpty()) {
            throw CoopException.invalid("hello.gpus", "a node must report at least one GPU");
        }
        if (gpus.size() > MAX_GPUS_PER_NODE) {
            throw CoopException.invalid("hello.gpus", "a node may report at most " + MAX_GPUS_PER_NODE + " GPUs, got "
                    + gpus.size());
        }
        if (gpus.stream().map(Gpu::index).distinct().count() != gpus.size()) {
            throw CoopException.invalid("hello.gpus", "GPU indices must be unique");
        }
        for (Gpu g : gpus) {
            if (g.index() < 0 || g.index() > MAX_GPU_INDEX) {
                throw CoopException.invalid("hello.gpus.index", "must be between 0 and " + MAX_GPU_INDEX + ", got "
                        + g.index());
            }
            if (g.model() == null || !g.model().matches(GPU_MODEL)) {
                throw CoopException.invalid("hello.gpus.model", "'" + abbreviated(g.model()) + "' must match "
                        + GPU_MODEL);
            }
            if (g.memoryMib() < 0) {
                throw CoopException.invalid("hello.gpus.memory_mib", "must not be negative, got " + g.memoryMib());
            }
        }
        if (running.size() > MAX_GPUS_PER_NODE) {
            throw CoopException.invalid("hello.running", "at most one rank per GPU (" + MAX_GPUS_PER_NODE
                    + "), got " + running.size());
        }
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
        tx.afterCommit(() -> link.welcome(heartbeatIntervalMs, pulse));
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

    public void heartbeat(AgentLink link, List<RankRef> running, Tx tx) {
        heartbeat(link, running, 0, List.of(), tx);
    }

    /**
     * A heartbeat: the node is alive, runs {@code running}, and its GPUs were last seen as
     * {@code usage}. The usage replaces what the node reported before (an agent that stops
     * sampling stops showing stale numbers); only entries for the node's own GPUs are kept.
     *
     * @param sentAtMs the agent's clock when it sent the heartbeat, 0 if not stated
     */
    public void heartbeat(AgentLink link, List<RankRef> running, long sentAtMs, List<GpuUsage> usage, Tx tx) {
        NodeRuntime n = nodeOf(link);
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

    public void disconnected(AgentLink link) {
        NodeRuntime n = nodeOf(link);
        if (n != null) {
            detach(n);
            n.forgetTelemetry();
            log.info("node {} disconnected; running work is kept until it is declared lost", n.name);
        }
    }

    private NodeRuntime nodeOf(AgentLink link) {
        return sessions.get(link);
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

    /** A rank's process ended. Duplicates and reports about stale attempts are acknowledged and dropped. */
    public void exited(AgentLink link, RankRef ref, int exitCode, String reason, Tx tx) {
        NodeRuntime n = nodeOf(link);
        if (n == null) {
            return;
        }
        tx.afterCommit(() -> link.ackExit(ref));
        if (n.live.remove(ref) == null) {
            return;
        }
        n.missing.remove(ref);
        endRank(ref, exitCode, reason, tx);
    }

    private void endRank(RankRef ref, int exitCode, String reason, Tx tx) {
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
            killLiveRanks(j, a, "rank " + ref.rank() + " failed with exit code " + exitCode, tx);
        }
        if (current && j.state() == JobState.RUNNING && "walltime".equals(reason)) {
            a = a.withOutcome("walltime");
        }
        a = a.withRankExit(ref.rank(), exitCode, now);
        j = j.withAttempt(a);
        if (a.isOver()) {
            decayed.advance(now, heldGpus);
            heldGpus.merge(j.account(), -a.gpus(), Integer::sum);
            accrue(j.account(), a);
            apply(List.of(attemptEvent(j, a)), now, tx);
            if (j.attempts().stream().allMatch(Attempt::isOver)) {
                inFlight.remove(j.id());
            }
            if (current && j.state() == JobState.RUNNING && a.isPreempted() && a.exitCode() != 0) {
                // Stopped to give borrowed GPUs back: it runs again as a new attempt.
                j = j.to(JobState.PENDING, now);
                pending.add(j);
                log.info("job {} requeued after preemption ({})", j.id(), a.outcome());
            } else if (current && j.state() == JobState.RUNNING) {
                j = j.to(a.exitCode() == 0 ? JobState.SUCCEEDED : JobState.FAILED, now);
            }
        }
        save(j, tx);
        tx.allocationDue();
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
        return Event.of(EventType.ATTEMPT, b);
    }

    /** A rank is gone without an exit code (its node or process was lost): requeue the job. */
    private void rankLost(NodeRuntime n, RankRef ref, String why, Tx tx) {
        n.live.remove(ref);
        Job j = jobs.get(ref.jobId());
        if (j != null && ref.attempt() == j.attemptNumber() && j.state() == JobState.RUNNING) {
            Attempt a = j.current().withOutcome("requeued: rank " + ref.rank() + " on " + n.name + " lost, " + why);
            j = j.withAttempt(a).to(JobState.PENDING, clock.millis());
            killLiveRanks(j, a, "requeued: another rank was lost", tx);
            save(j, tx);
            pending.add(j);
            log.info("job {} requeued: rank {} on node {} lost ({})", j.id(), ref.rank(), n.name, why);
        }
        endRank(ref, -1, "lost", tx);
    }

    // ------------------------------------------------------------------ logs

    /** Where to ask for a rank's output. */
    public record LogSource(RankRef ref, String node, AgentLink link) {
    }

    /**
     * Where to ask for the output of a job's latest attempt, for {@code readerName}, who must be a
     * member allowed to read it ({@link JobVisibility}).
     */
    public List<LogSource> logSources(String readerName, long jobId, int rank) {
        Member m = requireMember(readerName);
        visibility(m.name()).requireReadable(job(jobId));
        return logSources(jobId, rank);
    }

    private List<LogSource> logSources(long jobId, int rank) {
        Job j = job(jobId);
        Attempt a = j.current();
        if (a == null) {
            throw CoopException.precondition("job " + jobId + " has not started yet: " + whyPending(jobId));
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

    /**
     * Where a follower of a job's output reads next: the latest attempt's ranks (attempt 0 and
     * none before the job first starts), and whether the job's output is complete, so that a
     * read made after this answer is the last one that can find anything new.
     */
    public record FollowPoint(int attempt, List<LogSource> sources, boolean ended) {
    }

    /** As {@link #logSources(String, long, int)}, checked on every poll: a panel's access ends with its review. */
    public FollowPoint followPoint(String readerName, long jobId, int rank) {
        Member m = requireMember(readerName);
        Job j = job(jobId);
        visibility(m.name()).requireReadable(j);
        Attempt a = j.current();
        if (a == null) {
            return new FollowPoint(0, List.of(), j.state().isFinal());
        }
        // A cancelled job is final at once, but its ranks write until SIGTERM's grace ends them:
        // the output is complete only once no rank of the attempt is live anywhere.
        boolean live = false;
        for (int r = 0; r < a.placements().size(); r++) {
            NodeRuntime n = nodes.get(a.placements().get(r).node());
            live |= n != null && n.live.containsKey(new RankRef(jobId, a.number(), r));
        }
        return new FollowPoint(a.number(), logSources(jobId, rank), j.state().isFinal() && !live);
    }

    /** A value echoed in a refusal, cut short so that a huge input does not make a huge message. */
    static String abbreviated(String text) {
        if (text == null) {
            return "";
        }
        return text.length() <= 40 ? text : text.substring(0, 40) + "…";
    }

    // ------------------------------------------------------------------ time

    /** Closes proposals past their deadline and declares silent nodes lost. */
    public void tick(Tx tx) {
        long now = governanceNow();
        apply(gov.tick(now), now, tx);
        if (clock.millis() >= nextWindowChange) {
            tx.allocationDue();
        }
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

    // ------------------------------------------------------------------ census

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

    /** The counts as of now; linear in jobs and nodes, so the caller decides how often. */
    public Census census() {
        Map<JobState, Integer> byState = new java.util.EnumMap<>(JobState.class);
        for (JobState s : JobState.values()) {
            byState.put(s, 0);
        }
        for (Job j : jobs.values()) {
            byState.merge(j.state(), 1, Integer::sum);
        }
        int agents = 0;
        int gpus = 0;
        long oldest = Long.MAX_VALUE;
        for (NodeRuntime n : nodes.values()) {
            if (n.link != null) {
                agents++;
                gpus += n.gpus.size();
                oldest = Math.min(oldest, n.lastHeartbeat);
            }
        }
        Policy policy = policy();
        Map<String, Integer> allocated = new TreeMap<>();
        Map<String, Double> entitled = new TreeMap<>();
        for (Map.Entry<String, Account> a : gov.accounts().entrySet()) {
            if (a.getValue().open()) {
                allocated.put(a.getKey(), heldGpus.getOrDefault(a.getKey(), 0));
                entitled.put(a.getKey(), gpus * policy.share(a.getKey()) / 10_000.0);
            }
        }
        return new Census(clock.millis(), Map.copyOf(byState), Map.copyOf(allocated), Map.copyOf(entitled), agents,
                gpus, oldest);
    }

    // ------------------------------------------------------------------ allocation

    /** Runs one allocation cycle and applies its decisions. */
    public void allocate(Tx tx) {
        long now = clock.millis();
        decayed.advance(now, heldGpus);
        fairUsage.advanceAtRates(now, fairLevels);
        if (lastCycleIdle && tx.onlyJobsQueued()) {
            // Only new jobs since a cycle that had no node offered and no attempt running: this one
            // could start, reserve or preempt nothing either, and the last plan explains the new
            // jobs' waits as it does any job it did not see. A cooperative whose nodes are away can
            // take submits at full speed without re-reading a queue of tens of thousands each turn.
            return;
        }
        Map<String, AccountStanding> standings = new HashMap<>();
        for (String a : gov.accounts().keySet()) {
            standings.put(a, new AccountStanding(a, policy().share(a), decayed.of(a), fairUsage.of(a)));
        }
        List<AccountQueue> queues = pending.queues();
        // The queues laid end to end, not copied: the allocator reads the queues.
        List<JobRequest> requests = JobList.concat(queues.stream().map(AccountQueue::jobs).toList());
        // Nothing waits, so nothing can start and nothing is preempted for anyone: agents connecting
        // to an idle cooperative (thousands of them after a restart) cost no views and no plan.
        boolean idle = requests.isEmpty();
        List<NodeView> views = new ArrayList<>();
        Map<String, Integer> ownReserveUse = new HashMap<>();
        nextWindowChange = Long.MAX_VALUE;
        // As the allocator counts them: reserves are not the cooperative's, nor what operators run on them.
        int capacity = 0;
        for (NodeRuntime n : nodes.values()) {
            if (n.link != null) {
                NodeRecord r = enrolled.get(n.name);
                Availability when = windowed.getOrDefault(n.name, Availability.ALWAYS);
                boolean offered = when.openAt(now);
                nextWindowChange = Math.min(nextWindowChange, when.nextChange(now));
                int reserve = r == null ? 0 : reserveInForce(r, n.gpus.size());
                if (reserve > 0 && offered && !r.draining()) {
                    int own = 0;
                    for (Map.Entry<RankRef, List<Integer>> e : n.live.entrySet()) {
                        Job j = jobs.get(e.getKey().jobId());
                        if (j != null && j.account().equals(r.account())) {
                            own += e.getValue().size();
                        }
                    }
                    ownReserveUse.merge(r.account(), Math.min(own, reserve), Integer::sum);
                }
                if (offered && !(r != null && r.draining())) {
                    capacity += n.gpus.size() - reserve;
                }
                if (idle) {
                    continue;
                }
                Set<Integer> busy = n.busyGpus();
                views.add(new NodeView(n.name, n.site, n.gpus.stream()
                        .map(g -> new GpuSlot(g.index(), g.model(), !busy.contains(g.index()))).toList(),
                        r == null ? "" : r.account(), reserve, offered, r != null && r.draining(),
                        offered ? when.closesAt(now) : now));
            }
        }
        List<RunningAttempt> running = new ArrayList<>();
        for (long id : idle ? Set.<Long>of() : inFlight) {
            Job j = jobs.get(id);
            for (Attempt a : j.attempts()) {
                if (!a.isOver()) {
                    boolean stopping = a.isStopping() || a.number() != j.attemptNumber() || j.state() != JobState.RUNNING;
                    running.add(new RunningAttempt(j.id(), a.number(), j.account(), a.placements(), a.startedAt(),
                            j.walltimeSeconds(), a.borrowed(), !j.noPreempt(), stopping));
                }
            }
        }
        Map<String, Double> demand = new HashMap<>();
        heldGpus.forEach((a, g) -> demand.merge(a, (double) g, Double::sum));
        ownReserveUse.forEach((a, g) -> demand.merge(a, (double) -g, Double::sum));
        pending.demand().forEach((a, g) -> demand.merge(a, (double) g, Double::sum));
        fairLevels = FairLevels.waterFill(capacity, demand, standings);
        whyPending.clear();
        if (idle) {
            lastPlan = null;
            return;
        }
        lastPlan = allocator.plan(new ClusterSnapshot(now, views, requests, running, standings, queues));
        lastCycleIdle = running.isEmpty() && views.stream().noneMatch(NodeView::schedulable);
        for (Decision d : lastPlan.taken()) {
            if (d instanceof Decision.Admit admit) {
                start(jobs.get(admit.jobId()), admit.placements(), admit.borrowed(), now, tx);
            } else if (d instanceof Decision.Preempt p) {
                preempt(jobs.get(p.jobId()), p, tx);
            } else if (d instanceof Decision.Reserve r) {
                whyPending.put(r.jobId(), r.startAt() == Long.MAX_VALUE ? r.detail()
                        : r.detail() + " (from " + CLOCK_TIME.format(java.time.Instant.ofEpochMilli(r.startAt())) + " UTC)");
            } else if (d instanceof Decision.Wait w) {
                whyPending.put(w.jobId(), w.detail());
            }
        }
    }

    /** Stops a borrowed attempt with the checkpoint signal and the grace period; its job is requeued when it ends. */
    private void preempt(Job j, Decision.Preempt p, Tx tx) {
        Attempt a = j.current();
        if (a == null || a.number() != p.attempt() || a.isStopping() || j.state() != JobState.RUNNING) {
            return;
        }
        a = a.withOutcome(Attempt.PREEMPTED + " for job " + p.forJobId() + ": " + p.reason());
        j = j.withAttempt(a);
        save(j, tx);
        long grace = preemptionGrace != null ? preemptionGrace.toSeconds() : policy().params().preemptionGraceS();
        killLiveRanks(j, a, "preempted for job " + p.forJobId(), grace, tx);
        log.info("job {} attempt {} preempted: {}", j.id(), a.number(), p.reason());
    }

    private void start(Job j, List<Placement> placements, boolean borrowed, long now, Tx tx) {
        decayed.advance(now, heldGpus);
        Attempt a = Attempt.start(j.attemptNumber() + 1, now, placements, borrowed);
        heldGpus.merge(j.account(), a.gpus(), Integer::sum);
        j = j.withAttempt(a).to(JobState.RUNNING, now);
        pending.remove(j.id());
        inFlight.add(j.id());
        save(j, tx);
        NodeRuntime master = nodes.get(placements.get(0).node());
        for (int r = 0; r < placements.size(); r++) {
            Placement p = placements.get(r);
            NodeRuntime n = nodes.get(p.node());
            RankRef ref = new RankRef(j.id(), a.number(), r);
            n.live.put(ref, p.gpuIndices());
            Map<String, String> env = new LinkedHashMap<>();
            env.put("COOP_ACCOUNT", j.account());
            env.put("COOP_JOB_NAME", j.name());
            env.put("NODE_RANK", Integer.toString(r));
            env.put("NNODES", Integer.toString(j.nodes()));
            env.put("COOP_GPUS_PER_NODE", Integer.toString(j.gpusPerNode()));
            env.put("WORLD_SIZE", Integer.toString(j.gpus()));
            env.put("MASTER_ADDR", master.address);
            env.put("MASTER_PORT", Integer.toString(masterPort(j.id(), a.number())));
            if (j.inArray()) {
                env.put("COOP_ARRAY_JOB_ID", Long.toString(j.arrayId()));
                env.put("COOP_ARRAY_INDEX", Integer.toString(j.arrayIndex()));
            }
            AgentLink link = n.link;
            Job started = j;
            tx.afterCommit(() -> link.launch(ref, started.command(), p.gpuIndices(), env, started.walltimeSeconds()));
        }
    }

    /**
     * The rendezvous port of a job's attempt on its rank-0 node (torchrun's MASTER_PORT): spread
     * over 20000–29999 by job and attempt, so a retried attempt does not meet its predecessor's
     * socket in TIME_WAIT.
     */
    static int masterPort(long jobId, int attempt) {
        return 20_000 + (int) Math.floorMod(jobId * 31 + attempt, 10_000L);
    }

    /** A node as the loop tracks it: its session, GPUs and the ranks running there. */
    private static final class NodeRuntime {
        final String name;
        String site;
        String address = "127.0.0.1";
        List<Gpu> gpus = List.of();
        AgentLink link;
        long lastHeartbeat;
        /** The current session's heartbeats that the rpc edge recorded without the loop; null without a session. */
        Pulse pulse;
        /** From the latest heartbeat of the current session; not stored, it is stale by the next one. */
        List<GpuUsage> usage = List.of();
        long heartbeatLagMs;
        final Map<RankRef, List<Integer>> live = new LinkedHashMap<>();
        final Set<RankRef> missing = new HashSet<>();

        NodeRuntime(String name, String site) {
            this.name = name;
            this.site = site;
        }

        /** Takes in the heartbeats the edge recorded on the session's pulse since the loop last looked. */
        void foldPulse() {
            Pulse p = pulse;
            if (p != null) {
                long last = p.lastMs();
                if (last > lastHeartbeat) {
                    lastHeartbeat = last;
                    heartbeatLagMs = p.lagMs();
                }
            }
        }

        /** What a past session reported says nothing about the GPUs now. */
        void forgetTelemetry() {
            usage = List.of();
            heartbeatLagMs = 0;
        }

        Set<Integer> busyGpus() {
            Set<Integer> busy = new TreeSet<>();
            live.values().forEach(busy::addAll);
            return busy;
        }
    }
}
