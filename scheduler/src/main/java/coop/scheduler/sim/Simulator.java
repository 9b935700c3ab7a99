package coop.scheduler.sim;

import coop.scheduler.allocation.AccountQueue;
import coop.scheduler.allocation.AccountStanding;
import coop.scheduler.allocation.ClusterSnapshot;
import coop.scheduler.allocation.DecayedUsage;
import coop.scheduler.allocation.Decision;
import coop.scheduler.allocation.FairLevels;
import coop.scheduler.allocation.GpuHold;
import coop.scheduler.allocation.GpuSlot;
import coop.scheduler.allocation.Holds;
import coop.scheduler.allocation.JobRequest;
import coop.scheduler.allocation.NodeView;
import coop.scheduler.allocation.Plan;
import coop.scheduler.allocation.PreemptionRules;
import coop.scheduler.allocation.RunningAttempt;
import coop.scheduler.allocation.SchedulingPolicy;
import coop.scheduler.domain.Placement;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.PriorityQueue;
import java.util.TreeSet;

/**
 * Replays a trace through any {@link SchedulingPolicy} under a simulated clock: no wall clock,
 * no threads, so a replay is deterministic. Events are job submits, attempt ends and the ends
 * of preemption grace periods; after each batch of simultaneous events the simulator builds a
 * {@link ClusterSnapshot} exactly as the event loop would and applies the policy's decisions:
 * {@code Admit} starts the job where the policy says (an impossible placement is a
 * {@link PolicyViolation}), {@code Preempt} stops the attempt after the grace period and
 * requeues the job with the work it has left (jobs checkpoint on SIGTERM, so the work done
 * during the grace counts), {@code Reserve} and {@code Wait} change nothing.
 *
 * <p>Every job is preemptible and declares as walltime its remaining run time times the
 * walltime factor. Account standings carry usage decayed with the half-life, advanced at every
 * event with the GPUs each account holds, as {@code DecayedUsage} does live.
 */
public final class Simulator {
    private static final int MAX_CYCLES_AT_ONE_INSTANT = 10_000;

    private final Trace trace;
    private final SimulatedCluster cluster;
    private final Shares shares;
    private final SimulationOptions options;
    private final Window window;
    private final List<String> accounts;

    public Simulator(Trace trace, SimulatedCluster cluster, Shares shares, SimulationOptions options) {
        this.trace = trace;
        this.cluster = cluster;
        this.shares = shares;
        this.options = options;
        Window w = options.window() != null ? options.window() : trace.window();
        // A replay stopped early is measured only up to where it stopped.
        this.window = w.endMs() <= options.untilMs() ? w
                : new Window(Math.min(w.startMs(), options.untilMs()), options.untilMs());
        TreeSet<String> names = new TreeSet<>(shares.basisPoints().keySet());
        names.addAll(trace.accounts());
        this.accounts = List.copyOf(names);
        for (TraceJob j : trace.jobs()) {
            String where = trace.source() + " line " + j.line() + ": job of " + j.gpus() + " GPUs ";
            int[] shape;
            try {
                shape = cluster.shapeOf(j.gpus());
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException(where + "cannot run on " + cluster + ": " + e.getMessage());
            }
            if (shape[1] > cluster.nodes()) {
                throw new IllegalArgumentException(where + "needs " + shape[1] + " nodes of " + shape[0]
                        + " GPUs; the cluster has " + cluster.nodes() + " (" + cluster + ")");
            }
            if (!j.gpuModel().isEmpty() && !j.gpuModel().equalsIgnoreCase(cluster.model())) {
                throw new IllegalArgumentException(where + "wants GPU model " + j.gpuModel() + ", the cluster has "
                        + cluster.model());
            }
        }
    }

    public Window window() {
        return window;
    }

    public SimulationResult run(SchedulingPolicy policy) {
        return run(policy, SimulationProgress.NONE);
    }

    public SimulationResult run(SchedulingPolicy policy, SimulationProgress progress) {
        return new Replay(policy, progress).run();
    }

    /** A trace job as the replay tracks it. */
    private static final class SimJob {
        final TraceJob trace;
        final int gpusPerNode;
        final int nodes;
        final List<String> models;
        long remainingMs;
        long firstStartMs = -1;
        long finishedMs = -1;
        int attempts;
        int preemptions;
        /** GPU-ms of work preemptions took from it: run but not saved, so run again. */
        long lostGpuMs;
        /** The request shown to the policy while the job is pending; rebuilt when it is requeued. */
        JobRequest request;

        SimJob(TraceJob trace, int[] shape) {
            this.trace = trace;
            this.gpusPerNode = shape[0];
            this.nodes = shape[1];
            this.models = trace.gpuModel().isEmpty() ? List.of() : List.of(trace.gpuModel());
            this.remainingMs = trace.durationMs();
        }
    }

    private static final class Node {
        final String name;
        final boolean[] busy;
        int free;
        NodeView view;

        Node(String name, int gpus) {
            this.name = name;
            this.busy = new boolean[gpus];
            this.free = gpus;
        }
    }

    /** An attempt holding GPUs: until its natural end, or until its grace ends once preempted. */
    private static final class Live {
        final SimJob job;
        final int attempt;
        final List<Placement> placements;
        final long startedAt;
        final long walltimeSeconds;
        final boolean borrowed;
        final int gpus;
        final long naturalEnd;
        boolean terminating;
        /** The job this attempt was preempted for, whose its GPUs are while it stops; 0 for none. */
        long stoppingFor;
        long stopAt;
        RunningAttempt view;

        Live(SimJob job, int attempt, List<Placement> placements, long startedAt, long walltimeSeconds,
             boolean borrowed) {
            this.job = job;
            this.attempt = attempt;
            this.placements = placements;
            this.startedAt = startedAt;
            this.walltimeSeconds = walltimeSeconds;
            this.borrowed = borrowed;
            this.gpus = job.gpusPerNode * job.nodes;
            this.naturalEnd = startedAt + job.remainingMs;
            this.stopAt = naturalEnd;
        }
    }

    /** An attempt stops at {@code at}; stale once the attempt has stopped or its stop time moved. */
    private record Stop(long at, long jobId, int attempt) {
    }

    /** One replay of the trace through one policy; all mutable state lives here. */
    private final class Replay {
        private final SchedulingPolicy policy;
        private final SimulationProgress progress;
        private final SimJob[] jobs;
        private final Map<Long, SimJob> byId = new HashMap<>();
        private final Node[] nodes;
        private final Map<String, Node> nodeByName = new HashMap<>();
        private final LinkedHashMap<Long, SimJob> pending = new LinkedHashMap<>();
        private final LinkedHashMap<Long, Live> running = new LinkedHashMap<>();
        private final PriorityQueue<Stop> stops = new PriorityQueue<>(
                Comparator.comparingLong(Stop::at).thenComparingLong(Stop::jobId));
        private final Map<String, Integer> held = new HashMap<>();
        private final List<AttemptRecord> attempts = new ArrayList<>();
        private final DecayedUsage usage;
        /** GPU-seconds each account's fair level would have given it, decayed alike, as the engine keeps. */
        private final DecayedUsage fairUsage;
        private Map<String, Double> fairLevels = Map.of();
        private final long graceMs = options.grace().toMillis();
        private final PreemptionRules rules = options.rules();
        private final Holds holds = new Holds();
        /** When the preemption rules next change what a cycle may do, with nothing else happening. */
        private long wakeAt = Long.MAX_VALUE;
        /** When the attempts' views were made: what they have at stake is as of then. */
        private long viewsAt = Long.MIN_VALUE;
        private List<NodeView> nodeViews;
        private List<RunningAttempt> runningViews;
        private long now;
        private int busyGpus;
        private int maxGpusInUse;
        private long cycles;
        private long lastCycleAt = Long.MIN_VALUE;
        private int cyclesAtInstant;
        private boolean fitPending;
        private long fitPendingMs;
        private double busyWhileFitPendingGpuMs;
        private long submitted;
        private long finished;

        Replay(SchedulingPolicy policy, SimulationProgress progress) {
            this.policy = policy;
            this.progress = progress;
            List<TraceJob> traceJobs = trace.jobs();
            this.jobs = new SimJob[traceJobs.size()];
            for (int i = 0; i < jobs.length; i++) {
                jobs[i] = new SimJob(traceJobs.get(i), cluster.shapeOf(traceJobs.get(i).gpus()));
                if (byId.put(jobs[i].trace.id(), jobs[i]) != null) {
                    throw new IllegalArgumentException("two jobs of the trace have id " + jobs[i].trace.id());
                }
            }
            this.nodes = new Node[cluster.nodes()];
            for (int n = 0; n < nodes.length; n++) {
                nodes[n] = new Node(cluster.nodeName(n), cluster.gpusPerNode());
                nodeByName.put(nodes[n].name, nodes[n]);
            }
            this.now = jobs.length == 0 ? 0 : jobs[0].trace.submitMs();
            this.usage = new DecayedUsage(options.halfLife(), now);
            this.fairUsage = new DecayedUsage(options.halfLife(), now);
        }

        SimulationResult run() {
            int next = 0;
            while (true) {
                long nextSubmit = next < jobs.length ? jobs[next].trace.submitMs() : Long.MAX_VALUE;
                long nextStop = stops.isEmpty() ? Long.MAX_VALUE : stops.peek().at();
                long t = Math.min(Math.min(nextSubmit, nextStop), wakeAt);
                if (t == Long.MAX_VALUE) {
                    break;
                }
                if (t > options.untilMs()) {
                    advanceTo(Math.max(now, options.untilMs()));
                    break;
                }
                advanceTo(t);
                boolean changed = t == wakeAt;
                if (changed) {
                    wakeAt = Long.MAX_VALUE;
                }
                while (!stops.isEmpty() && stops.peek().at() == t) {
                    changed |= stop(stops.poll());
                }
                while (next < jobs.length && jobs[next].trace.submitMs() == t) {
                    SimJob j = jobs[next++];
                    pending.put(j.trace.id(), j);
                    submitted++;
                    changed = true;
                }
                if (changed && !pending.isEmpty()) {
                    cycle();
                }
                fitPending = somePendingJobFits();
                progress.update(submitted + finished, 2L * jobs.length);
            }
            // Stopped at --until: what still runs has held its GPUs up to now.
            for (Live l : running.values()) {
                attempts.add(new AttemptRecord(l.job.trace.id(), l.attempt, l.job.trace.account(), l.placements,
                        l.startedAt, now, false));
            }
            List<JobOutcome> outcomes = new ArrayList<>(jobs.length);
            for (SimJob j : jobs) {
                outcomes.add(new JobOutcome(j.trace, j.gpusPerNode, j.nodes, j.firstStartMs, j.finishedMs, j.attempts,
                        j.preemptions, j.lostGpuMs));
            }
            return new SimulationResult(policy.name(), cluster, window, now, outcomes, attempts, fitPendingMs,
                    busyWhileFitPendingGpuMs, maxGpusInUse, cycles);
        }

        /** Moves the clock, charging the interval to usage and to the window's counters. */
        private void advanceTo(long t) {
            if (t <= now) {
                return;
            }
            usage.advance(t, held);
            fairUsage.advanceAtRates(t, fairLevels);
            long overlap = window.overlapMs(now, t);
            if (fitPending && overlap > 0) {
                fitPendingMs += overlap;
                busyWhileFitPendingGpuMs += (double) busyGpus * overlap;
            }
            now = t;
        }

        /** Ends an attempt: the job finishes, or (preempted) goes back to the queue with its work left. */
        private boolean stop(Stop s) {
            Live l = running.get(s.jobId());
            if (l == null || l.attempt != s.attempt() || l.stopAt != s.at()) {
                return false;
            }
            running.remove(s.jobId());
            runningViews = null;
            for (Placement p : l.placements) {
                Node n = nodeByName.get(p.node());
                for (int g : p.gpuIndices()) {
                    n.busy[g] = false;
                    n.free++;
                }
                n.view = null;
            }
            nodeViews = null;
            held.merge(l.job.trace.account(), -l.gpus, Integer::sum);
            busyGpus -= l.gpus;
            SimJob j = l.job;
            long worked = s.at() - l.startedAt;
            boolean completed = worked >= j.remainingMs;
            if (completed) {
                j.remainingMs = 0;
            } else {
                // Preempted: it keeps what its checkpoints saved, and runs the rest of its work again.
                long saved = options.checkpoint().savedMs(worked);
                j.remainingMs -= saved;
                j.lostGpuMs += (worked - saved) * l.gpus;
            }
            attempts.add(new AttemptRecord(j.trace.id(), l.attempt, j.trace.account(), l.placements, l.startedAt,
                    s.at(), completed));
            if (completed) {
                j.finishedMs = s.at();
                finished++;
            } else {
                j.preemptions++;
                j.request = null;
                pending.put(j.trace.id(), j);
            }
            return true;
        }

        private void cycle() {
            if (now == lastCycleAt) {
                if (++cyclesAtInstant > MAX_CYCLES_AT_ONE_INSTANT) {
                    throw new PolicyViolation(policy.name() + " keeps changing its mind at t=" + now
                            + " ms: " + MAX_CYCLES_AT_ONE_INSTANT + " cycles without time passing");
                }
            } else {
                lastCycleAt = now;
                cyclesAtInstant = 0;
            }
            cycles++;
            List<JobRequest> requests = pendingRequests();
            Map<String, AccountStanding> standings = standings();
            fairLevels = FairLevels.forDemand(cluster.capacity(), held, requests, standings);
            if (now != viewsAt) {
                // What an attempt has at stake moves with time as its checkpoints are written: its view
                // is made again when its last checkpoint is no longer the one it shows.
                for (Live l : running.values()) {
                    if (l.view != null && l.view.savedAt() != options.checkpoint().savedAt(l.startedAt, now)) {
                        l.view = null;
                        runningViews = null;
                    }
                }
                viewsAt = now;
            }
            List<GpuHold> held = holds.live(now);
            ClusterSnapshot snapshot = new ClusterSnapshot(now, nodeViews(), requests, runningViews(), standings,
                    AccountQueue.byAccount(requests), rules, held);
            for (Decision d : Plan.taken(policy.plan(snapshot))) {
                if (d instanceof Decision.Admit a) {
                    admit(a);
                } else if (d instanceof Decision.Preempt p) {
                    preempt(p);
                } else if (d instanceof Decision.Hold h) {
                    holds.apply(h);
                }
                // Reserve and Wait change nothing here: the policy makes its reservation anew every cycle.
            }
            wakeAt = pending.isEmpty() ? Long.MAX_VALUE : rules.nextChange(now, runningViews(), holds.live(now));
        }

        private void admit(Decision.Admit a) {
            SimJob j = pending.get(a.jobId());
            if (j == null) {
                throw violation("admits job " + a.jobId() + ", which is not pending"
                        + (running.containsKey(a.jobId()) ? " (it runs)" : ""));
            }
            if (a.placements().size() != j.nodes) {
                throw violation("admits job " + a.jobId() + " (" + j.nodes + " nodes x " + j.gpusPerNode
                        + " GPUs) with " + a.placements().size() + " placements");
            }
            List<Node> touched = new ArrayList<>();
            for (Placement p : a.placements()) {
                Node n = nodeByName.get(p.node());
                if (n == null) {
                    throw violation("places job " + a.jobId() + " on unknown node " + p.node());
                }
                if (touched.contains(n)) {
                    throw violation("places two ranks of job " + a.jobId() + " on node " + p.node());
                }
                touched.add(n);
                if (!cluster.site().equals(p.site()) || !cluster.model().equals(p.gpuModel())) {
                    throw violation("places job " + a.jobId() + " on " + p.node() + " as site " + p.site()
                            + " model " + p.gpuModel() + "; the node is site " + cluster.site() + " model "
                            + cluster.model());
                }
                if (p.gpuIndices().size() != j.gpusPerNode) {
                    throw violation("gives job " + a.jobId() + " " + p.gpuIndices().size() + " GPUs on " + p.node()
                            + ", it needs " + j.gpusPerNode + " per node");
                }
                for (int g : p.gpuIndices()) {
                    if (g < 0 || g >= n.busy.length) {
                        throw violation("gives job " + a.jobId() + " GPU " + g + " of " + p.node() + ", which has "
                                + n.busy.length);
                    }
                    if (n.busy[g]) {
                        throw violation("gives job " + a.jobId() + " GPU " + g + " of " + p.node()
                                + ", which is not free");
                    }
                    n.busy[g] = true;
                    n.free--;
                }
                n.view = null;
            }
            nodeViews = null;
            pending.remove(a.jobId());
            holds.release(a.jobId());
            j.attempts++;
            if (j.firstStartMs < 0) {
                j.firstStartMs = now;
            }
            Live l = new Live(j, j.attempts, a.placements(), now, walltimeSeconds(j), a.borrowed());
            running.put(a.jobId(), l);
            runningViews = null;
            held.merge(j.trace.account(), l.gpus, Integer::sum);
            busyGpus += l.gpus;
            maxGpusInUse = Math.max(maxGpusInUse, busyGpus);
            stops.add(new Stop(l.stopAt, a.jobId(), l.attempt));
        }

        private void preempt(Decision.Preempt p) {
            Live l = running.get(p.jobId());
            if (l == null || l.attempt != p.attempt()) {
                throw violation("preempts attempt " + p.attempt() + " of job " + p.jobId() + ", which does not run");
            }
            if (l.terminating) {
                return;
            }
            l.terminating = true;
            l.stoppingFor = p.forJobId();
            l.view = null;
            runningViews = null;
            long stopAt = Math.min(l.naturalEnd, now + graceMs);
            if (stopAt != l.stopAt) {
                l.stopAt = stopAt;
                stops.add(new Stop(stopAt, p.jobId(), l.attempt));
            }
        }

        private PolicyViolation violation(String what) {
            return new PolicyViolation(policy.name() + " at t=" + now + " ms " + what);
        }

        private long walltimeSeconds(SimJob j) {
            return Math.max(1, (long) Math.ceil(j.remainingMs * options.walltimeFactor() / 1000.0));
        }

        private List<NodeView> nodeViews() {
            if (nodeViews == null) {
                List<NodeView> views = new ArrayList<>(nodes.length);
                for (Node n : nodes) {
                    if (n.view == null) {
                        List<GpuSlot> slots = new ArrayList<>(n.busy.length);
                        for (int g = 0; g < n.busy.length; g++) {
                            slots.add(new GpuSlot(g, cluster.model(), !n.busy[g]));
                        }
                        n.view = new NodeView(n.name, cluster.site(), slots);
                    }
                    views.add(n.view);
                }
                nodeViews = List.copyOf(views);
            }
            return nodeViews;
        }

        private List<JobRequest> pendingRequests() {
            List<JobRequest> requests = new ArrayList<>(pending.size());
            for (SimJob j : pending.values()) {
                if (j.request == null) {
                    j.request = new JobRequest(j.trace.id(), j.trace.account(), j.gpusPerNode, j.nodes, j.models, 0,
                            j.trace.submitMs(), false, walltimeSeconds(j), true);
                }
                requests.add(j.request);
            }
            return requests;
        }

        private List<RunningAttempt> runningViews() {
            if (runningViews == null) {
                List<RunningAttempt> views = new ArrayList<>(running.size());
                for (Live l : running.values()) {
                    if (l.view == null) {
                        l.view = new RunningAttempt(l.job.trace.id(), l.attempt, l.job.trace.account(), l.placements,
                                l.startedAt, l.walltimeSeconds, l.borrowed, true, l.terminating, l.stoppingFor,
                                options.checkpoint().savedAt(l.startedAt, now), l.job.preemptions);
                    }
                    views.add(l.view);
                }
                runningViews = List.copyOf(views);
            }
            return runningViews;
        }

        private Map<String, AccountStanding> standings() {
            Map<String, AccountStanding> standings = new HashMap<>();
            for (String a : accounts) {
                standings.put(a, new AccountStanding(a, shares.of(a), usage.of(a), fairUsage.of(a)));
            }
            return standings;
        }

        /** Whether some pending job would fit the GPUs free now (ignoring holds and order). */
        private boolean somePendingJobFits() {
            if (pending.isEmpty()) {
                return false;
            }
            Map<Long, Boolean> byShape = new HashMap<>();
            for (SimJob j : pending.values()) {
                long shape = ((long) j.gpusPerNode << 32) | j.nodes;
                if (byShape.computeIfAbsent(shape, s -> fits(j.gpusPerNode, j.nodes))) {
                    return true;
                }
            }
            return false;
        }

        private boolean fits(int gpusPerNode, int nodeCount) {
            int found = 0;
            for (Node n : nodes) {
                if (n.free >= gpusPerNode && ++found >= nodeCount) {
                    return true;
                }
            }
            return false;
        }
    }
}
