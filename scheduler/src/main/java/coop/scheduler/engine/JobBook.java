package coop.scheduler.engine;

import coop.scheduler.domain.Account;
import coop.scheduler.domain.Attempt;
import coop.scheduler.domain.CoopException;
import coop.scheduler.domain.Dependency;
import coop.scheduler.domain.Job;
import coop.scheduler.domain.JobArray;
import coop.scheduler.domain.JobEvent;
import coop.scheduler.domain.JobSpec;
import coop.scheduler.domain.JobState;
import coop.scheduler.domain.Member;
import coop.scheduler.domain.Names;
import coop.scheduler.domain.Role;
import coop.scheduler.ledger.Event;
import coop.scheduler.ledger.EventType;
import coop.scheduler.store.Store.Kind;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Jobs and job arrays: submission, cancellation, review verdicts and listings; the queues of
 * pending jobs, the jobs in flight, and the next job id. Every change is saved in the turn's
 * {@link Tx}.
 */
public final class JobBook {
    private static final Logger log = LoggerFactory.getLogger(JobBook.class);
    /** Grace between SIGTERM and SIGKILL when a job is cancelled. */
    static final long CANCEL_GRACE_SECONDS = 10;
    /** What the agent writes in a rank's {@code coop-stop-reason} before it stops it, by cause. */
    static final String STOP_CANCELLED = "cancelled";
    static final String STOP_PREEMPTED = "preempted";
    static final String STOP_REQUEUED = "requeued";
    static final String STOP_FAILED = "failed";

    /**
     * Tells the agents running an attempt's live ranks to stop them: the job's signal (SIGTERM by
     * default), then SIGKILL after the grace; {@code cause} is the word the agent leaves for the job
     * in its {@code coop-stop-reason} file.
     */
    @FunctionalInterface
    interface RankStopper {
        void stop(Job job, Attempt attempt, String reason, String cause, long graceSeconds, Tx tx);
    }

    /** What a submit created: one job ({@code arrayId} 0), or the tasks of an array, ids first to first + tasks - 1. */
    public record Submitted(long firstJobId, long arrayId, int tasks) {
    }

    /** One line of a listing: a job, or (when arrays are grouped) a whole array. */
    public record Listed(Job job, JobArray array) {
    }

    private final InstantSource clock;
    private final GovernanceDesk desk;
    private final TreeMap<Long, Job> jobs = new TreeMap<>();
    /** The task ids of each job array, in index order (ids are given in index order at submission). */
    private final Map<Long, List<Long>> arrays = new HashMap<>();
    /** Jobs waiting (pending or in review) per submitting member: the policy's max_pending_per_member caps it. */
    private final Map<String, Integer> waitingByMember = new HashMap<>();
    private final PendingQueue pending = new PendingQueue();
    /** Pending jobs kept out of {@link #pending} until what they depend on has happened. */
    private final Dependents dependents = new Dependents();
    /** Tasks of throttled arrays kept out of {@link #pending} until a running one ends. */
    private final ArrayThrottles throttles = new ArrayThrottles();
    /** What a dependency depends on: the jobs, arrays and namesakes as this book holds them. */
    private final Dependency.Parents parents = new Dependency.Parents() {
        @Override
        public Job job(long id) {
            return jobs.get(id);
        }

        @Override
        public Dependency.ArrayProgress array(long arrayId) {
            return arrays.containsKey(arrayId) ? dependents.progress(arrayId, jobs::get) : null;
        }

        @Override
        public Job unfinishedNamesake(Job job) {
            long id = dependents.namesake(job);
            return id == 0 ? null : jobs.get(id);
        }
    };
    /** Jobs with an attempt whose ranks have not all ended. */
    private final Set<Long> inFlight = new HashSet<>();
    /** Why-pending of the jobs the last cycle decided on; the cycle's plan explains the others. */
    private final Map<Long, String> waits = new HashMap<>();
    /** When the last cycle's reservations expect jobs to start, epoch ms. */
    private final Map<Long, Long> expectedStarts = new HashMap<>();
    private long nextJobId;

    /**
     * The jobs as stored; those with live attempts are in flight. Pending ones join their queues,
     * unless their dependencies are not met or their array's throttle holds them: where each waits
     * is worked out again from the jobs, never stored apart from them.
     */
    JobBook(InstantSource clock, GovernanceDesk desk, Collection<Job> stored, long nextJobId) {
        this.clock = clock;
        this.desk = desk;
        this.nextJobId = nextJobId;
        for (Job j : stored) {
            jobs.put(j.id(), j);
            countWaiting(j, 1);
        }
        for (Job j : jobs.values()) {
            if (j.inArray()) {
                arrays.computeIfAbsent(j.arrayId(), a -> new ArrayList<>()).add(j.id());
            }
            dependents.recovered(j);
            if (j.attempts().stream().anyMatch(a -> !a.isOver())) {
                inFlight.add(j.id());
            }
            // One that ran met its dependencies then, and took a place under its array's throttle.
            if (j.state() == JobState.RUNNING || j.state() == JobState.PENDING && !j.attempts().isEmpty()) {
                throttles.admitted(j);
            }
            if (j.state() == JobState.PENDING && !j.attempts().isEmpty()) {
                pending.add(j);
            }
        }
        for (Job j : jobs.values()) {
            if (j.state() == JobState.PENDING && j.attempts().isEmpty()) {
                // One that can never start would have been cancelled in the turn its parent ended; should
                // one be found all the same, it waits saying so (whyPending) rather than start.
                enqueue(j, null);
            }
        }
    }

    /**
     * Queues a job, or every task of an array at once: all is validated first, then every task is
     * written in this turn's batch, so an array is stored whole or not at all.
     */
    Submitted submit(String memberName, JobSpec spec, Tx tx) {
        return submit(memberName, spec, job -> null, tx);
    }

    /**
     * As {@link #submit(String, JobSpec, Tx)}; {@code unservable} says why no node could ever run the
     * job (its container, its shape), naming the field, or null when some could.
     */
    Submitted submit(String memberName, JobSpec spec, java.util.function.Function<JobSpec.Checked, String> unservable,
                     Tx tx) {
        return submit(memberName, spec, unservable, job -> List.of(), tx);
    }

    /**
     * As {@link #submit(String, JobSpec, java.util.function.Function, Tx)}; {@code operators} names
     * the operators of the nodes that could run the job, who may not sit on its review panel.
     */
    Submitted submit(String memberName, JobSpec spec, java.util.function.Function<JobSpec.Checked, String> unservable,
                     java.util.function.Function<JobSpec.Checked, Collection<String>> operators, Tx tx) {
        Member m = desk.requireMember(memberName);
        Names.require("account", spec.account());
        Account account = desk.accounts().get(spec.account());
        if (account == null || !account.open()) {
            throw CoopException.invalid("account", "no open account named '" + spec.account() + "'");
        }
        if (!m.belongsTo(spec.account())) {
            throw CoopException.denied("member " + m.name() + " does not belong to account " + spec.account());
        }
        if (!m.has(Role.RESEARCHER)) {
            throw CoopException.denied("member " + m.name() + " has no researcher role, so cannot submit jobs");
        }
        JobSpec.Checked c = spec.checked(desk.policy().params().maxWalltimeS());
        String noNode = unservable.apply(c);
        if (noNode != null) {
            throw new CoopException(CoopException.Kind.FAILED_PRECONDITION, noNode);
        }
        long maxWaiting = desk.policy().params().maxPendingPerMember();
        int waiting = waitingByMember.getOrDefault(m.name(), 0);
        if (maxWaiting > 0 && waiting >= maxWaiting) {
            throw new CoopException(CoopException.Kind.RESOURCE_EXHAUSTED, "member " + m.name() + " already has "
                    + waiting + " jobs waiting, the most the policy's max_pending_per_member (" + maxWaiting
                    + ") allows: wait for some to start, or cancel some");
        }
        if (c.isArray() && maxWaiting > 0 && waiting + c.indices().length > maxWaiting) {
            // Each task waits like a job: an array must not be a way around the cap.
            throw new CoopException(CoopException.Kind.RESOURCE_EXHAUSTED, "array: its " + c.indices().length
                    + " tasks and the " + waiting + " jobs member " + m.name() + " already has waiting are more than "
                    + "the policy's max_pending_per_member (" + maxWaiting + ") allows");
        }
        requireDependable(m, Dependency.parse(c.options().dependency()));
        long now = desk.now();
        long held = gpusHeldFor(m.name(), c.purpose(), now);
        boolean review = desk.governance().needsReview(c.gpus() * (c.isArray() ? c.indices().length : 1),
                c.purpose(), held);
        if (c.isArray()) {
            if (review) {
                throw CoopException.invalid("array", "tasks of " + c.gpus() + " GPUs"
                        + (c.purpose().isEmpty() ? "" : " with purpose " + c.purpose()) + " need review by a panel ("
                        + "with the " + held + " GPUs of your jobs of that purpose running, waiting or ended within "
                        + "the policy's panel_window_s, if any), which is drawn per job: submit them one by one");
            }
            return submitArray(m, c, now, tx);
        }
        long id = nextJobId;
        if (review) {
            desk.tick(now, tx);
            // The last check that can refuse; it draws the panel, seeded by the beacon's next reveal
            // (which nobody outside the scheduler can know yet) and the ledger head it follows.
            String reveal = desk.nextReveal(now, tx);
            desk.apply(desk.governance().openPanel(id, m.name(), spec.account(), c.gpus(), c.purpose(), desk.head(),
                    reveal, operators.apply(c), now), now, tx);
        }
        nextJobId++;
        Job job = new Job(id, c.name(), spec.account(), m.name(), spec.gpusPerNode(), spec.nodes(), c.gpuModel(),
                c.walltimeSeconds(), spec.command(), spec.priority(), spec.crossSite(),
                review ? JobState.REVIEW : JobState.PENDING, now, 0, List.of(), spec.noPreempt(), c.purpose())
                .withStop(c.stop()).withWorkspace(c.env(), c.chdir()).withContainer(c.container())
                .withWorkdir(c.workdir()).withOptions(c.options());
        jobs.put(id, job);
        countWaiting(job, 1);
        dependents.unfinished(job);
        tx.batch().put(Kind.JOBS, id, job);
        tx.batch().put(Kind.META, "next_job_id", nextJobId);
        desk.record(Decisions.submit(job, 0, 0, null), tx);
        if (!review) {
            enqueue(job, tx);
        }
        return new Submitted(id, 0, 0);
    }

    /**
     * The GPUs a member's jobs of this declared purpose (none declared is a purpose too) hold
     * towards review: those unfinished, and those that ended within the policy's panel_window_s.
     * Read only while the policy reviews by size.
     */
    private long gpusHeldFor(String member, String purpose, long now) {
        if (desk.policy().params().panelMinGpus() <= 0) {
            return 0;
        }
        long since = now - desk.policy().params().panelWindowS() * 1000;
        long held = 0;
        for (Job j : jobs.values()) {
            if (j.member().equals(member) && purpose.equals(j.purpose() == null ? "" : j.purpose())
                    && (!j.state().isFinal() || j.finishedAt() >= since)) {
                held += j.gpus();
            }
        }
        return held;
    }

    /** Stores the tasks of a validated array: the array takes the next id, its tasks the ones after it. */
    private Submitted submitArray(Member m, JobSpec.Checked c, long now, Tx tx) {
        JobSpec spec = c.spec();
        int[] indices = c.indices();
        long arrayId = nextJobId;
        List<Long> ids = new ArrayList<>(indices.length);
        for (int i = 0; i < indices.length; i++) {
            long id = arrayId + 1 + i;
            Job job = new Job(id, c.name(), spec.account(), m.name(), spec.gpusPerNode(), spec.nodes(),
                    c.gpuModel(), c.walltimeSeconds(), spec.command(), spec.priority(), spec.crossSite(),
                    JobState.PENDING, now, 0, List.of(), spec.noPreempt(), c.purpose(), arrayId, indices[i])
                    .withStop(c.stop()).withWorkspace(c.env(), c.chdir()).withContainer(c.container())
                    .withWorkdir(c.workdir()).withOptions(c.options());
            jobs.put(id, job);
            countWaiting(job, 1);
            dependents.unfinished(job);
            tx.batch().put(Kind.JOBS, id, job);
            ids.add(id);
        }
        arrays.put(arrayId, ids);
        desk.record(Decisions.submit(jobs.get(arrayId + 1), arrayId, indices.length, spec.array()), tx);
        for (long id : ids) {
            enqueue(jobs.get(id), tx);
        }
        nextJobId = arrayId + 1 + indices.length;
        tx.batch().put(Kind.META, "next_job_id", nextJobId);
        tx.allocationDue();
        log.info("array {} of {} tasks ({}) submitted by {}", arrayId, indices.length, spec.array(), m.name());
        return new Submitted(arrayId + 1, arrayId, indices.length);
    }

    /** A job array by id, summarized. */
    JobArray array(long arrayId) {
        return JobArray.of(arrayId, tasks(arrayId));
    }

    /** The tasks of a job array, in index order. */
    List<Job> tasks(long arrayId) {
        List<Long> ids = arrays.get(arrayId);
        if (ids == null) {
            throw CoopException.notFound("job array " + arrayId + " not found");
        }
        return ids.stream().map(jobs::get).toList();
    }

    boolean isArray(long id) {
        return arrays.containsKey(id);
    }

    /** Cancels every unfinished task of an array, as {@link #cancel} would each. */
    JobArray cancelArray(String memberName, long arrayId, RankStopper stopper, Tx tx) {
        Member m = desk.requireMember(memberName);
        JobArray a = array(arrayId);
        requireMayCancel(m, "job array " + arrayId, a.member(), a.account());
        if (a.isOver()) {
            throw CoopException.precondition("job array " + arrayId + " already ended (all " + a.tasks()
                    + " tasks are finished)");
        }
        for (long id : arrays.get(arrayId)) {
            if (!jobs.get(id).state().isFinal()) {
                cancel(memberName, id, stopper, tx);
            }
        }
        return array(arrayId);
    }

    /** A job by id; NOT_FOUND names what the id is when it is an array's. */
    Job job(long id) {
        Job j = jobs.get(id);
        if (j == null) {
            throw CoopException.notFound("job " + id + " not found"
                    + (arrays.containsKey(id) ? ": it is a job array, whose tasks are jobs " + arrays.get(id).get(0)
                    + " and on" : ""));
        }
        return j;
    }

    /** A job by id, or null. */
    Job get(long id) {
        return jobs.get(id);
    }

    Collection<Job> all() {
        return jobs.values();
    }

    int count() {
        return jobs.size();
    }

    PendingQueue pending() {
        return pending;
    }

    /** Jobs with an attempt whose ranks have not all ended. */
    Set<Long> inFlight() {
        return inFlight;
    }

    /** What the last cycle said of a pending job it decided on, or null. */
    String waitNote(long id) {
        return waits.get(id);
    }

    void noteWait(long id, String why) {
        waits.put(id, why);
    }

    void clearWaitNotes() {
        waits.clear();
        expectedStarts.clear();
    }

    /** The last cycle reserved GPUs for a waiting job from {@code at} on. */
    void noteExpectedStart(long id, long at) {
        expectedStarts.put(id, at);
    }

    /** When the last cycle's reservation expects a pending job to start, or 0 when none says. */
    long expectedStart(long id) {
        Job j = jobs.get(id);
        return j != null && j.state() == JobState.PENDING ? expectedStarts.getOrDefault(id, 0L) : 0;
    }

    /** Jobs newest first, filtered. */
    List<Job> jobs(String account, Set<JobState> states, int limit) {
        checkListing(account, limit);
        Filter filter = Filter.of(account, states);
        List<Job> out = new ArrayList<>();
        for (Job j : jobs.descendingMap().values()) {
            if (filter.keeps(j)) {
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
            if (!desk.accounts().containsKey(account)) {
                throw CoopException.notFound("no account named '" + account + "'");
            }
        }
        if (limit < 0) {
            throw CoopException.invalid("limit", "must be 0 (every job) or more, got " + limit);
        }
    }

    /**
     * What a listing keeps: jobs charged to {@code account}, submitted by {@code member}, in one of
     * {@code states}, and (when {@code finishedSince} is above 0) in a final state reached at or after
     * it; empty or 0 keeps any. {@code arrayId} other than 0 keeps only that array's tasks; with
     * {@code groupArrays} each array is one line, where its newest task would be, shown when any of
     * its tasks is kept.
     */
    public record Filter(String account, String member, Set<JobState> states, long finishedSince, long arrayId,
                         boolean groupArrays) {
        public Filter {
            account = account == null ? "" : account;
            member = member == null ? "" : member;
            states = states == null ? Set.of() : Set.copyOf(states);
        }

        /** Jobs of {@code account} (any when empty) in {@code states} (any when empty). */
        public static Filter of(String account, Set<JobState> states) {
            return new Filter(account, "", states, 0, 0, false);
        }

        boolean keeps(Job j) {
            return (account.isEmpty() || j.account().equals(account))
                    && (member.isEmpty() || j.member().equals(member))
                    && (states.isEmpty() || states.contains(j.state()))
                    && (finishedSince <= 0 || (j.state().isFinal() && j.finishedAt() >= finishedSince));
        }
    }

    /**
     * One page of a listing, newest first; {@code next} is where the next page starts (the lines
     * below that id), or 0 when this is the last.
     */
    public record Page(List<Listed> lines, long next) {
    }

    /**
     * The page of at most {@code size} lines that {@code filter} keeps among the jobs below id
     * {@code before} (0: from the newest). Ids only grow, so a page that starts below the last id
     * of the one before it is the same whatever was submitted in between. An array's tasks have
     * the ids right after the array's own, so a page that ends on an array goes on below it and
     * never shows the array again. Each call walks the jobs from {@code before} down until the
     * page is full: at most every job once, and at most {@code size} lines made.
     */
    Page page(Filter filter, long before, int size) {
        if (filter.arrayId() < 0) {
            throw CoopException.invalid("array_id", "must be 0 (any job) or an array's id, got " + filter.arrayId());
        }
        if (size < 1) {
            throw CoopException.invalid("page_size", "must be 1 or more, got " + size);
        }
        if (before < 0) {
            throw CoopException.invalid("page_token", "is not a token a listing gave");
        }
        if (filter.finishedSince() < 0) {
            throw CoopException.invalid("finished_since_ms", "must be 0 (any job) or a time, got "
                    + filter.finishedSince());
        }
        Iterable<Job> newestFirst;
        if (filter.arrayId() != 0) {
            List<Long> ids = arrays.get(filter.arrayId());
            if (ids == null) {
                throw CoopException.notFound("job array " + filter.arrayId() + " not found");
            }
            checkListing(filter.account(), 0);
            List<Job> tasks = new ArrayList<>();
            for (int i = ids.size() - 1; i >= 0; i--) {
                if (before == 0 || ids.get(i) < before) {
                    tasks.add(jobs.get(ids.get(i)));
                }
            }
            newestFirst = tasks;
        } else {
            checkListing(filter.account(), 0);
            newestFirst = (before == 0 ? jobs : jobs.headMap(before, false)).descendingMap().values();
        }
        if (!filter.member().isEmpty()) {
            Names.require("member", filter.member());
            if (desk.governance().member(filter.member()) == null) {
                throw CoopException.notFound("no member named '" + filter.member() + "'");
            }
        }
        List<Listed> out = new ArrayList<>();
        Set<Long> shown = new HashSet<>();
        long last = 0;
        for (Job j : newestFirst) {
            if (!filter.keeps(j)) {
                continue;
            }
            boolean asArray = filter.groupArrays() && j.inArray();
            if (asArray && shown.contains(j.arrayId())) {
                continue;
            }
            if (out.size() == size) {
                return new Page(out, last);
            }
            if (asArray) {
                shown.add(j.arrayId());
                out.add(new Listed(null, array(j.arrayId())));
                last = j.arrayId();
            } else {
                out.add(new Listed(j, null));
                last = j.id();
            }
        }
        return new Page(out, 0);
    }

    /** Cancels a job: its submitter or an operator of its account may; running ranks are told to stop. */
    Job cancel(String memberName, long id, RankStopper stopper, Tx tx) {
        Member m = desk.requireMember(memberName);
        Job j = job(id);
        requireMayCancel(m, "job " + id, j.member(), j.account());
        if (j.state().isFinal()) {
            throw CoopException.precondition("job " + id + " already ended (" + j.state().name().toLowerCase() + ")");
        }
        long now = clock.millis();
        if (j.state() == JobState.RUNNING) {
            j = j.withAttempt(j.current().withOutcome("cancelled by " + m.name()));
            stopper.stop(j, j.current(), "cancelled by " + m.name(), STOP_CANCELLED, CANCEL_GRACE_SECONDS, tx);
        }
        var panel = desk.governance().panel(id);
        if (j.state() == JobState.REVIEW || panel != null && panel.verdict().isEmpty()) {
            desk.governance().dropPanel(id);
            desk.apply(List.of(Event.of(EventType.CANCEL_REVIEW, Map.of("job", id))), now, tx);
        }
        pending.remove(id);
        waits.remove(id);
        j = j.to(JobState.CANCELLED, now);
        desk.record(Decisions.cancel(id, m.name(), m.name().equals(j.member()) ? "by its submitter"
                : "by an operator of account " + j.account()), tx);
        save(j, tx);
        tx.allocationDue();
        return j;
    }

    /** Only the submitter of a job or array, or an operator of its account, may cancel it. */
    private static void requireMayCancel(Member m, String what, String submitter, String account) {
        if (!submitter.equals(m.name()) && !(m.has(Role.OPERATOR) && m.belongsTo(account))) {
            throw CoopException.denied(what + " belongs to " + submitter + "; only its submitter or an operator of "
                    + "account " + account + " may cancel it");
        }
    }

    /**
     * A removed member's jobs that have not started are cancelled with its removal, in the same
     * commit, so that they do not keep a place in the queue for someone who is no longer a
     * member; their review panels were dropped by the same removal. Running jobs run to their end.
     */
    void cancelWaiting(String member, String how, long now, Tx tx) {
        String reason = "cancelled: member " + member + " " + how;
        List<Job> waiting = jobs.values().stream().filter(j -> j.member().equals(member)
                && (j.state() == JobState.PENDING || j.state() == JobState.REVIEW)).toList();
        for (Job j : waiting) {
            pending.remove(j.id());
            waits.remove(j.id());
            save(j.cancelled(now, reason), tx);
        }
        if (!waiting.isEmpty()) {
            tx.allocationDue();
            log.info("{} waiting job(s) of {} {}", waiting.size(), member, reason);
        }
    }

    /**
     * A review panel's verdict: an approved job in review joins its queue, a rejected one is
     * cancelled; so is a job running or waiting that a panel opened by a report rejects.
     */
    void verdict(long jobId, boolean approved, long now, RankStopper stopper, Tx tx) {
        Job j = jobs.get(jobId);
        if (j != null && !approved && (j.state() == JobState.PENDING || j.state() == JobState.RUNNING)) {
            // A panel a report opened rejects a job already waiting or running: it is cancelled.
            String why = "cancelled: rejected by the review panel a report opened";
            if (j.state() == JobState.RUNNING) {
                j = j.withAttempt(j.current().withOutcome(why));
                stopper.stop(j, j.current(), why, STOP_CANCELLED, CANCEL_GRACE_SECONDS, tx);
            }
            pending.remove(jobId);
            waits.remove(jobId);
            j = j.cancelled(now, why);
            log.info("job {} {}", jobId, why);
            save(j, tx);
            tx.allocationDue();
            return;
        }
        if (j == null || j.state() != JobState.REVIEW) {
            return;
        }
        if (approved) {
            j = j.to(JobState.PENDING, now);
            save(j, tx);
            enqueue(j, tx);
            tx.allocationDue();
            log.info("job {} approved by its review panel", j.id());
        } else {
            j = j.to(JobState.CANCELLED, now);
            log.info("job {} rejected by its review panel", j.id());
            save(j, tx);
        }
    }

    /** Puts the job's new version in place and in the turn's batch, with the events it makes (BEGIN, END...). */
    void save(Job j, Tx tx) {
        Job before = jobs.put(j.id(), j);
        if (before != null) {
            countWaiting(before, -1);
        }
        countWaiting(j, 1);
        tx.batch().put(Kind.JOBS, j.id(), j);
        JobEvent.between(before, j, clock.millis()).forEach(tx::jobEvent);
        if (before != null && before.state() != j.state()) {
            moved(before, j, tx);
        }
    }

    /** Prefix of the end reason of a job whose dependency can never be met, as Slurm's DependencyNeverSatisfied. */
    static final String NEVER_SATISFIED = "dependency never satisfied: ";

    /**
     * A pending job that has not run yet takes its place: it waits for its dependency, ends
     * cancelled when that can never be met, waits for its array's throttle, or joins the queue.
     * {@code tx} is null at recovery, where nothing is written.
     */
    private void enqueue(Job j, Tx tx) {
        Dependency d = Dependency.parse(j.options().dependency());
        if (!d.isNone()) {
            Dependency.Standing s = d.evaluate(j, parents);
            if (s instanceof Dependency.Standing.Never never && tx != null) {
                log.info("job {} cancelled: {}{}", j.id(), NEVER_SATISFIED, never.reason());
                save(j.cancelled(clock.millis(), NEVER_SATISFIED + never.reason()), tx);
                return;
            }
            if (!(s instanceof Dependency.Standing.Met)) {
                dependents.hold(j, d);
                return;
            }
        }
        if (throttles.admit(j)) {
            pending.add(j);
            if (tx != null) {
                tx.jobQueued();
            }
        }
    }

    /**
     * A job changed state: one that leaves pending waits for nothing more; one that ends lets its
     * array's next held task in, and its waiting dependents are judged again at once (released
     * ones join the queue, those that can never start end cancelled, and so on down their own).
     */
    private void moved(Job before, Job j, Tx tx) {
        if (before.state() == JobState.PENDING) {
            dependents.forget(j);
        }
        if (!j.state().isFinal() || before.state().isFinal()) {
            return;
        }
        long next = throttles.ended(j);
        if (next != 0) {
            pending.add(jobs.get(next));
            tx.allocationDue();
        }
        for (long id : dependents.finished(j)) {
            Job d = jobs.get(id);
            if (d.state() == JobState.PENDING && dependents.isWaiting(id)) {
                dependents.forget(d);
                enqueue(d, tx);
            }
        }
    }

    /**
     * Each job a dependency names exists, is the caller's own or its account's, and can still do
     * what is asked of it; refusals name the field {@code dependency} and the id.
     */
    private void requireDependable(Member m, Dependency d) {
        for (long id : d.ids()) {
            Job parent = jobs.get(id);
            if (parent == null && arrays.containsKey(id)) {
                parent = jobs.get(arrays.get(id).get(0));
            }
            if (parent == null) {
                throw CoopException.notFound("dependency: no job or job array " + id);
            }
            if (!parent.member().equals(m.name()) && !m.belongsTo(parent.account())) {
                throw CoopException.invalid("dependency", (arrays.containsKey(id) ? "job array " : "job ") + id
                        + " is of account " + parent.account() + ", which member " + m.name() + " is not in: a job "
                        + "may depend only on its member's own jobs and its accounts' jobs");
            }
        }
        Dependency.Standing s = new Dependency(d.conditions(), false).evaluate(null, parents);
        if (s instanceof Dependency.Standing.Never never) {
            throw CoopException.precondition("dependency: can never be met: " + never.reason());
        }
    }

    /**
     * Why a pending job is kept out of the queue: its dependency ("DEPENDENCY: ...") or its array's
     * throttle ("ARRAY THROTTLE: ..."), read as things are now; null when it is not.
     */
    String heldWhy(long id) {
        Job j = jobs.get(id);
        if (j == null || j.state() != JobState.PENDING) {
            return null;
        }
        if (dependents.isWaiting(id)) {
            Dependency.Standing s = Dependency.parse(j.options().dependency()).evaluate(j, parents);
            return s instanceof Dependency.Standing.Waits w ? w.why()
                    : s instanceof Dependency.Standing.Never n ? "DEPENDENCY: can never be met: " + n.reason()
                    : "DEPENDENCY: met, joining the queue";
        }
        return throttles.isHeld(j) ? throttles.why(j, jobs::get) : null;
    }

    private void countWaiting(Job j, int delta) {
        if (j.state() == JobState.PENDING || j.state() == JobState.REVIEW) {
            waitingByMember.merge(j.member(), delta, (a, b) -> a + b == 0 ? null : a + b);
        }
    }
}
