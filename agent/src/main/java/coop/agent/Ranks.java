package coop.agent;

import static coop.agent.Wire.exited;
import static coop.agent.Wire.rankOf;
import static coop.agent.Wire.refOf;

import com.google.protobuf.ByteString;
import coop.v1.AgentMessage;
import coop.v1.AttemptRef;
import coop.v1.AttemptStarted;
import coop.v1.Kill;
import coop.v1.Launch;
import coop.v1.LogData;
import coop.v1.LogRequest;
import java.io.IOException;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Duration;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The ranks a node runs on the scheduler's orders: starts them, stops them (SIGTERM or the job's
 * own {@code --signal}, then SIGKILL after a grace, with {@code coop-stop-reason} written first),
 * notices their exits and keeps each exit until the scheduler acknowledges it.
 * Everything but {@link #killGroups} and {@link #awaitHandled} is confined to the agent's loop.
 *
 * <p>Forking a rank's process is the one slow step (milliseconds, more on a loaded host), so it
 * runs on a spawner thread: the loop hands the order over, keeps handling exits and orders
 * meanwhile, and takes the started process back as an event. An order to kill a rank that is
 * still being started is kept and carried out as soon as its process exists.
 */
final class Ranks {

    // The agent's parts all log as the agent: operators filter and read one category.
    private static final Logger log = LoggerFactory.getLogger(Agent.class);

    /** The TERM-to-KILL grace the agent gives a rank that ran past its walltime. */
    static final Duration WALLTIME_GRACE = Duration.ofSeconds(10);
    /** Largest log tail served per stream, whatever the request asks for. */
    static final int MAX_LOG_BYTES = 1 << 20;
    /**
     * Acknowledged exits are remembered, boundedly, so that a Launch repeated after its rank
     * ended is answered with the exit instead of running the rank a second time.
     */
    private static final int REMEMBERED_EXITS = 10_000;

    private final AgentConfig config;
    private final ProcessLauncher launcher;
    private final InstantSource clock;
    private final EventLoop loop;
    private final ExecutorService spawner;
    private final BooleanSupplier closing;
    private final Consumer<AgentMessage> report;
    private final Retention retention;
    private final AttemptHooks hooks;
    private final Workdirs workdirs;

    private final Map<RankId, Running> running = new LinkedHashMap<>();
    /** Ranks handed to a spawner whose process is not back yet, with the kill order that came meanwhile, if any. */
    private final Map<RankId, Starting> starting = new LinkedHashMap<>();
    /**
     * Ranks whose process ended and whose epilog runs: their exit is reported once it is done, so
     * that their GPUs are not given to another attempt while the epilog still works on them.
     */
    private final Map<RankId, RankExit> finishing = new LinkedHashMap<>();
    private final Map<RankId, RankExit> unacked = new LinkedHashMap<>();
    private final Map<RankId, RankExit> remembered = new LinkedHashMap<>() {
        @Override
        protected boolean removeEldestEntry(Map.Entry<RankId, RankExit> eldest) {
            return size() > REMEMBERED_EXITS;
        }
    };

    /**
     * @param spawner threads that fork ranks; the agent owns and shuts them down
     * @param closing whether the agent is shutting down, when no rank may start any more
     * @param report sends a message on the current session once it is welcomed, else drops it
     * @param hooks the operator's health check, prolog, epilog and GPU job map around each rank
     * @param workdirs the folders shipped with jobs, unpacked into their ranks' folders
     */
    Ranks(AgentConfig config, ProcessLauncher launcher, InstantSource clock, EventLoop loop,
            ExecutorService spawner, BooleanSupplier closing, Consumer<AgentMessage> report, AttemptHooks hooks,
            Workdirs workdirs) {
        this.workdirs = workdirs;
        this.config = config;
        this.launcher = launcher;
        this.clock = clock;
        this.loop = loop;
        this.spawner = spawner;
        this.closing = closing;
        this.report = report;
        this.retention = new Retention(config.workDir(), config.retain(), clock);
        this.hooks = hooks;
    }

    /** Removes the folders of ranks that ended longer ago than the node keeps them; safe off the loop. */
    Retention retention() {
        return retention;
    }

    /** A rank the agent started and has not seen end. Loop-confined but for its final fields. */
    static final class Running {
        final RankProcess process;
        final LaunchOrder order;
        final CompletableFuture<Void> handled = new CompletableFuture<>();
        final List<ScheduledFuture<?>> timers = new ArrayList<>();
        ExitReason stopReason;

        Running(RankProcess process, LaunchOrder order) {
            this.process = process;
            this.order = order;
        }

        RankId rank() {
            return process.rank();
        }

        long pid() {
            return process.pid();
        }
    }

    /** A rank whose process a spawner is forking. Loop-confined. */
    private static final class Starting {
        Kill kill;
    }

    /**
     * Stops the ranks an earlier agent on this work directory left running, giving each
     * {@code grace} after SIGTERM; see {@link ProcessLauncher#stopLeftovers}.
     */
    void stopLeftovers(Duration grace) throws IOException {
        for (RankRecords.Record r : launcher.stopLeftovers(grace)) {
            log.warn("{} was still running from an earlier agent (process group {}, GPUs {}); {}", r.rank(),
                    r.pgid(), r.gpus(), r.end());
        }
    }

    void launch(Launch launch) {
        RankId id = rankOf(launch.getRef());
        if (closing.getAsBoolean()) {
            log.info("not starting {}: agent shutting down", id);
            return;
        }
        if (running.containsKey(id) || starting.containsKey(id) || finishing.containsKey(id)) {
            log.debug("{} is already running; Launch ignored", id);
            return;
        }
        RankExit done = remembered.get(id);
        if (done != null) {
            log.debug("{} already ended; re-sending its exit", id);
            report.accept(exited(done));
            return;
        }
        String workdir = launch.getWorkdir();
        Map<String, String> env = launch.getEnvMap();
        if (!workdir.isEmpty()) {
            // The shipped folder is unpacked into the rank's own, which --chdir does not change.
            env = new LinkedHashMap<>(env);
            env.put("COOP_WORKDIR", launcher.rankDirectory(id).toAbsolutePath().toString());
        }
        String command = launch.getCommand();
        if (!launch.getOutput().isEmpty() || !launch.getError().isEmpty()) {
            env = new LinkedHashMap<>(env);
            command = OutputFiles.wrap(command, launch.getOutput(), launch.getError(), env);
        }
        LaunchOrder order = new LaunchOrder(id, command, launch.getGpuIndicesList(),
                env, Duration.ofSeconds(Math.max(0, launch.getWalltimeSeconds())),
                launch.hasSignal() ? StopWarning.of(launch.getSignal()) : null, launch.getUserEnvMap(),
                launch.getChdir(), launch.getContainer().isEmpty() ? null : new LaunchOrder.Container(
                        launch.getContainer(), launch.getMountsList().stream().map(m -> new Confinement.Mount(
                                Path.of(m.getSource()), Path.of(m.getDestination()), m.getReadOnly())).toList()),
                Math.max(0, launch.getMemMb()) * 1024 * 1024);
        starting.put(id, new Starting());
        try {
            spawner.execute(() -> {
                RankProcess process = null;
                Exception failure = null;
                String refusal = null;
                try {
                    refusal = hooks.beforeStart(order, launcher.rankDirectory(id), launcher.userOf(order))
                            .orElse(null);
                    if (refusal == null && !workdir.isEmpty()) {
                        workdirs.unpack(id.jobId(), workdir, launcher.rankDirectory(id),
                                launcher.otherUserOf(order));
                    }
                    if (refusal == null) {
                        process = launcher.start(order);
                    }
                } catch (IOException | RuntimeException e) {
                    failure = e;
                }
                RankProcess started = process;
                Exception failed = failure;
                String refused = refusal;
                loop.execute(() -> started(id, order, started, failed, refused));
            });
        } catch (RejectedExecutionException e) {
            starting.remove(id);
            log.info("not starting {}: agent shutting down", id);
        }
    }

    /**
     * A spawner is done with a rank: it runs (and is watched from now on), the node refused it
     * (its health check or prolog failed: a node fault, which the scheduler requeues elsewhere),
     * or it could not start.
     */
    private void started(RankId id, LaunchOrder order, RankProcess process, Exception failure, String refusal) {
        Starting s = starting.remove(id);
        if (refusal != null) {
            log.warn("not starting {}: {}", id, refusal);
            recordExit(new RankExit(id, RankExit.LAUNCH_FAILED_CODE, ExitReason.NODE_FAULT, clock.millis(), refusal));
            return;
        }
        if (failure instanceof ProcessLauncher.JobMistake || failure instanceof Workdirs.Unavailable) {
            // The job's own mistake, in words its submitter reads in `coop job`.
            String why = failure.getMessage() + " on node " + config.node();
            log.warn("cannot start {}: {}", id, why);
            recordExit(new RankExit(id, RankExit.LAUNCH_FAILED_CODE, ExitReason.LAUNCH_FAILED, clock.millis(), why));
            return;
        }
        if (failure != null) {
            log.warn("cannot start {}: {}", id, failure.toString());
            recordExit(new RankExit(id, RankExit.LAUNCH_FAILED_CODE, ExitReason.LAUNCH_FAILED, clock.millis(),
                    "cannot start on " + config.node() + ": " + failure.getMessage()));
            return;
        }
        Running r = new Running(process, order);
        running.put(id, r);
        hooks.started(order);
        log.info("started {} as pid {} on GPUs {} in {}", id, process.pid(), order.gpuIndices(),
                process.directory());
        report.accept(AgentMessage.newBuilder()
                .setStarted(AttemptStarted.newBuilder().setRef(refOf(id)).setPid(process.pid()))
                .build());
        // Watch for the exit first: nothing below may leave a running rank unwatched.
        process.onExit().whenComplete((code, error) -> loop.execute(() -> ended(r, code, error)));
        if (order.hasWalltime()) {
            StopWarning warning = order.warning();
            if (warning != null) {
                // The job's own warning (--signal SIG@LEAD), LEAD before the walltime's stop, which still comes.
                long at = Math.max(0, order.walltime().toSeconds() - warning.lead().toSeconds());
                r.timers.add(loop.schedule(() -> {
                    if (running.get(id) == r) {
                        stopReason(r, WALLTIME_REASON);
                        warn(r, warning, "walltime of " + order.walltime().toSeconds() + " s in "
                                + warning.lead().toSeconds() + " s");
                    }
                }, at, TimeUnit.SECONDS));
            }
            // In seconds: the executor copes with absurd delays that would overflow as millis.
            r.timers.add(loop.schedule(() -> {
                if (running.get(id) == r) {
                    stopReason(r, WALLTIME_REASON);
                    terminate(r, ExitReason.WALLTIME, WALLTIME_GRACE,
                            "walltime of " + order.walltime().toSeconds() + " s reached");
                }
            }, order.walltime().toSeconds(), TimeUnit.SECONDS));
        }
        if (s != null && s.kill != null) {
            kill(s.kill);
        }
    }

    void kill(Kill kill) {
        RankId id = rankOf(kill.getRef());
        Running r = running.get(id);
        Starting s = starting.get(id);
        if (r == null && s != null) {
            // Carried out once its process exists; the first order's grace and reason count.
            if (s.kill == null) {
                s.kill = kill;
            }
            return;
        }
        if (r == null) {
            RankExit done = remembered.get(id);
            if (done != null) {
                report.accept(exited(done));
            } else {
                log.debug("Kill for {} which is not running here; ignored", id);
            }
            return;
        }
        String why = kill.getReason().isBlank() ? "scheduler's order" : kill.getReason();
        Duration grace = Duration.ofSeconds(Math.max(0, kill.getGraceSeconds()));
        if (!kill.getStopReason().isBlank()) {
            stopReason(r, kill.getStopReason());
        }
        StopWarning warning = kill.hasSignal() ? StopWarning.of(kill.getSignal()) : null;
        if (warning == null || warning.signal() == ProcessLauncher.Signal.TERM && !warning.shellOnly()
                || r.stopReason != null) {
            terminate(r, ExitReason.KILLED, grace, why);
            return;
        }
        // The job's signal at once; SIGTERM after its lead if that comes before the grace ends, SIGKILL at the end.
        r.stopReason = ExitReason.KILLED;
        warn(r, warning, why);
        Duration untilTerm = warning.lead().compareTo(grace) < 0 ? warning.lead() : null;
        try {
            if (untilTerm != null) {
                r.timers.add(loop.schedule(() -> {
                    if (running.get(r.rank()) == r) {
                        terminate(r, ExitReason.KILLED, grace.minus(untilTerm), why);
                    }
                }, untilTerm.toSeconds(), TimeUnit.SECONDS));
            } else {
                r.timers.add(loop.schedule(() -> {
                    if (running.get(r.rank()) == r) {
                        log.info("{} still running {} s after {}; SIGKILL to process group {}", r.rank(),
                                grace.toSeconds(), warning.signal(), r.pid());
                        launcher.stop(r.rank(), r.pid(), ProcessLauncher.Signal.KILL);
                    }
                }, grace.toSeconds(), TimeUnit.SECONDS));
            }
        } catch (RejectedExecutionException e) {
            // Shutting down: close() sends the SIGKILL itself.
        }
    }

    /** What the agent writes in {@code coop-stop-reason} before it stops a rank at its walltime. */
    static final String WALLTIME_REASON = "walltime";

    /**
     * Writes why the rank is about to be stopped into its {@code coop-stop-reason} file, before any
     * signal, so that a job's handler finds it there: the first reason stays. The folder belongs to
     * the job's user, who could put a link where the file goes: the agent (often root) creates the
     * file only as a new one (O_EXCL, which follows no link), so it never writes through a link.
     */
    private void stopReason(Running r, String word) {
        java.nio.file.Path file = launcher.stopReasonFile(r.rank());
        try (var out = java.nio.file.Files.newOutputStream(file, java.nio.file.StandardOpenOption.CREATE_NEW,
                java.nio.file.StandardOpenOption.WRITE, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
            out.write((word.strip() + "\n").getBytes(java.nio.charset.StandardCharsets.UTF_8));
        } catch (java.nio.file.FileAlreadyExistsException e) {
            log.debug("{} already says why {} stops", file, r.rank());
        } catch (IOException e) {
            log.warn("cannot write {} for {}: {}", file, r.rank(), e.toString());
        }
    }

    /** Sends the job's own signal ahead of its stop: to its shell alone with B:, else to its whole group. */
    private void warn(Running r, StopWarning warning, String why) {
        log.info("warning {} ({}): SIG{} to {} {}", r.rank(), why, warning.signal(),
                warning.shellOnly() ? "process" : "process group", r.pid());
        if (warning.shellOnly()) {
            launcher.signalShell(r.rank(), r.pid(), warning.signal());
        } else {
            launcher.stop(r.rank(), r.pid(), warning.signal());
        }
    }

    /** SIGTERM to the rank's group now, SIGKILL after the grace if the rank is still running. */
    private void terminate(Running r, ExitReason reason, Duration grace, String why) {
        if (r.stopReason == null) {
            r.stopReason = reason;
        }
        log.info("stopping {} ({}): SIGTERM to process group {}, SIGKILL in {} s", r.rank(), why,
                r.pid(), grace.toSeconds());
        launcher.stop(r.rank(), r.pid(), ProcessLauncher.Signal.TERM);
        try {
            r.timers.add(loop.schedule(() -> {
                if (running.get(r.rank()) == r) {
                    log.info("{} ignored SIGTERM for {} s; SIGKILL to process group {}", r.rank(),
                            grace.toSeconds(), r.pid());
                    launcher.stop(r.rank(), r.pid(), ProcessLauncher.Signal.KILL);
                }
            }, grace.toSeconds(), TimeUnit.SECONDS));
        } catch (RejectedExecutionException e) {
            // Shutting down: close() sends the SIGKILL itself.
        }
    }

    private void ended(Running r, Integer code, Throwable error) {
        try {
            if (running.get(r.rank()) != r) {
                return;
            }
            running.remove(r.rank());
            r.timers.forEach(t -> t.cancel(false));
            // Whatever the leader left behind in its group dies with it: the rank's GPUs go back to
            // the pool now, and a stray worker must not keep using them under someone else's job.
            launcher.signalGroup(r.pid(), ProcessLauncher.Signal.KILL);
            int exitCode = error == null && code != null ? code : RankExit.LAUNCH_FAILED_CODE;
            ExitReason reason = r.stopReason == null ? ExitReason.EXITED : r.stopReason;
            // The kernel's own stop (out of memory, a refused fork) is the truth even when an order came too.
            String why = r.process.why();
            long now = clock.millis();
            try {
                launcher.recordEnd(r.rank(), now, reason.wire() + " " + exitCode + (why.isEmpty() ? "" : " (" + why + ")"));
            } catch (IOException e) {
                log.warn("cannot record the end of {}: {}", r.rank(), e.toString());
            }
            hooks.ended(r.order);
            RankExit exit = new RankExit(r.rank(), exitCode, reason, now, why);
            if (hooks.hasEpilog()) {
                epilogThenReport(r, exit);
            } else {
                recordExit(exit);
            }
        } finally {
            r.handled.complete(null);
        }
    }

    /** Runs the epilog on a spawner and reports the exit once it is done; at shutdown, reports it at once. */
    private void epilogThenReport(Running r, RankExit exit) {
        RankId id = r.rank();
        finishing.put(id, exit);
        try {
            spawner.execute(() -> {
                try {
                    hooks.epilog(r.order, r.process.directory(), launcher.userOf(r.order));
                } finally {
                    loop.execute(() -> recordExit(finishing.remove(id)));
                }
            });
        } catch (RejectedExecutionException e) {
            log.info("agent shutting down: no epilog after {}", id);
            recordExit(finishing.remove(id));
        }
    }

    private void recordExit(RankExit exit) {
        log.info("{} ended: {} with code {}{}", exit.rank(), exit.reason().wire(), exit.exitCode(),
                exit.why().isEmpty() ? "" : " (" + exit.why() + ")");
        unacked.put(exit.rank(), exit);
        remembered.put(exit.rank(), exit);
        report.accept(exited(exit));
    }

    /** The scheduler has stored this exit; it need not be sent again. */
    void acknowledged(AttemptRef ref) {
        unacked.remove(rankOf(ref));
    }

    /** Exits not yet acknowledged: a stream may have died between an exit and the scheduler storing it. */
    List<RankExit> unacknowledged() {
        return List.copyOf(unacked.values());
    }

    /** The output a LogRequest asks for, or the reason there is none. */
    AgentMessage logs(LogRequest request) {
        RankId id = rankOf(request.getRef());
        int max = request.getMaxBytes() <= 0 ? MAX_LOG_BYTES : Math.min(MAX_LOG_BYTES, request.getMaxBytes());
        LogData.Builder data = LogData.newBuilder().setRequestId(request.getRequestId());
        try {
            RankOutput output = launcher.read(id, Math.max(0, request.getStdoutOffset()),
                    Math.max(0, request.getStderrOffset()), max);
            data.setStdout(ByteString.copyFrom(output.stdout().bytes())).setStdoutOffset(output.stdout().offset())
                    .setStderr(ByteString.copyFrom(output.stderr().bytes())).setStderrOffset(output.stderr().offset());
        } catch (NoSuchFileException e) {
            java.util.Optional<Long> removed = retention.removedAt(launcher.rankDirectory(id));
            data.setError(removed.isPresent()
                    ? "the output of " + id + " was removed from node " + config.node() + " at "
                            + java.time.Instant.ofEpochMilli(removed.get()) + ": the node keeps output for "
                            + retention.describe() + " after a job ends (--retain)"
                    : "no output for " + id + " on node " + config.node() + ": it never ran here");
        } catch (IOException e) {
            data.setError("cannot read output of " + id + " on node " + config.node() + ": " + e);
        }
        return AgentMessage.newBuilder().setLogData(data).build();
    }

    /** The ranks to list in a Hello or heartbeat. */
    List<AttemptRef> runningRefs() {
        // A rank being forked is running as far as the scheduler is concerned.
        List<AttemptRef> refs = new ArrayList<>(running.size() + starting.size() + finishing.size());
        running.keySet().forEach(id -> refs.add(refOf(id)));
        starting.keySet().forEach(id -> refs.add(refOf(id)));
        // So is one whose epilog runs: its GPUs are not free yet.
        finishing.keySet().forEach(id -> refs.add(refOf(id)));
        return refs;
    }

    /** How many ranks have processes running, not counting those being forked. */
    int runningCount() {
        return running.size();
    }

    /** The ranks whose processes run, not counting those being forked. */
    List<Running> running() {
        return List.copyOf(running.values());
    }

    /** SIGTERM to every running rank, SIGKILL after {@code grace}; the ranks it stops. */
    List<Running> terminateAll(ExitReason reason, Duration grace, String why) {
        List<Running> all = running();
        all.forEach(r -> terminate(r, reason, grace, why));
        return all;
    }

    /** SIGKILL to the groups of ranks that outlived their SIGTERM by {@code grace}; safe off the loop. */
    void killGroups(List<Running> survivors, Duration grace) {
        for (Running r : survivors) {
            log.warn("{} still running {} s after SIGTERM; sending SIGKILL to process group {}",
                    r.rank(), grace.toSeconds(), r.pid());
            launcher.stop(r.rank(), r.pid(), ProcessLauncher.Signal.KILL);
        }
    }

    /** Waits until the exits of {@code ranks} are handled on the loop; true if all were in time. */
    static boolean awaitHandled(List<Running> ranks, Duration timeout) {
        try {
            CompletableFuture.allOf(ranks.stream().map(r -> r.handled).toArray(CompletableFuture[]::new))
                    .get(timeout.toMillis(), TimeUnit.MILLISECONDS);
            return true;
        } catch (TimeoutException | ExecutionException e) {
            return false;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }
}
