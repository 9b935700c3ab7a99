package coop.agent;

import com.google.protobuf.ByteString;
import coop.v1.AgentMessage;
import coop.v1.AttemptExited;
import coop.v1.AttemptRef;
import coop.v1.AttemptStarted;
import coop.v1.Gpu;
import coop.v1.Heartbeat;
import coop.v1.Hello;
import coop.v1.Kill;
import coop.v1.Launch;
import coop.v1.LogData;
import coop.v1.LogRequest;
import coop.v1.NodesGrpc;
import coop.v1.SchedulerMessage;
import coop.v1.Welcome;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.stub.StreamObserver;
import java.io.IOException;
import java.nio.file.NoSuchFileException;
import java.time.Duration;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.random.RandomGenerator;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The node daemon's session with the scheduler. It dials out (so a node behind a site's NAT
 * needs no inbound port), keeps one {@code Nodes.Connect} stream open, starts and stops ranks
 * on the scheduler's orders, and reports their exits until the scheduler acknowledges them.
 * When the stream breaks, running ranks keep running and the agent reconnects with backoff; its
 * next Hello lists them so the scheduler can reconcile.
 *
 * <p>All state lives on one event-loop thread, like the scheduler's own core: gRPC callbacks,
 * process exits and timers are handed to it, so there are no locks and every message on the
 * stream is sent from that one thread, which is what a {@link StreamObserver} requires.
 *
 * <p>Forking a rank's process is the one slow step (milliseconds, more on a loaded host), so it
 * runs on a few spawner threads: the loop hands the order over, keeps handling exits and orders
 * meanwhile, and takes the started process back as an event. An order to kill a rank that is
 * still being started is kept and carried out as soon as its process exists.
 */
public final class Agent implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(Agent.class);

    /** The TERM-to-KILL grace the agent gives a rank that ran past its walltime. */
    static final Duration WALLTIME_GRACE = Duration.ofSeconds(10);
    /** How long {@link #close()} lets ranks act on SIGTERM before it kills their groups. */
    static final Duration SHUTDOWN_GRACE = Duration.ofSeconds(5);
    /** Largest log tail served per stream, whatever the request asks for. */
    static final int MAX_LOG_BYTES = 1 << 20;
    /** Used if a Welcome names no interval, so a sloppy scheduler still sees the node alive. */
    static final Duration DEFAULT_HEARTBEAT = Duration.ofSeconds(10);
    static final Duration RECONNECT_INITIAL = Duration.ofMillis(200);
    static final Duration RECONNECT_CAP = Duration.ofSeconds(5);
    /**
     * Acknowledged exits are remembered, boundedly, so that a Launch repeated after its rank
     * ended is answered with the exit instead of running the rank a second time.
     */
    private static final int REMEMBERED_EXITS = 10_000;
    /** Threads that fork ranks; a few, so that ranks start side by side on a many-GPU node. */
    private static final int SPAWNERS = 4;

    private final AgentConfig config;
    private final ManagedChannel channel;
    private final NodesGrpc.NodesStub stub;
    private final ProcessLauncher launcher;
    private final InstantSource clock;
    private final GpuTelemetry telemetry;
    private final Backoff backoff;
    private final ScheduledExecutorService loop;
    private final java.util.concurrent.ExecutorService spawner;

    private final AtomicBoolean started = new AtomicBoolean();
    private final AtomicBoolean closing = new AtomicBoolean();
    private final CountDownLatch closed = new CountDownLatch(1);
    private volatile boolean connected;
    private volatile String failure;

    // Confined to the loop thread.
    private final Map<RankId, Running> running = new LinkedHashMap<>();
    /** Ranks handed to a spawner whose process is not back yet, with the kill order that came meanwhile, if any. */
    private final Map<RankId, Starting> starting = new LinkedHashMap<>();
    private final Map<RankId, RankExit> unacked = new LinkedHashMap<>();
    private final Map<RankId, RankExit> remembered = new LinkedHashMap<>() {
        @Override
        protected boolean removeEldestEntry(Map.Entry<RankId, RankExit> eldest) {
            return size() > REMEMBERED_EXITS;
        }
    };
    private Session session;
    private ScheduledFuture<?> reconnect;
    private long sessions;
    private boolean unreachableReported;

    /**
     * @param config who this node is and where the scheduler is
     * @param channel channel to the scheduler; the agent owns it and shuts it down on close
     * @param launcher starts and signals rank processes
     * @param clock source of the times the agent reports
     * @param random jitter for reconnect delays
     */
    public Agent(AgentConfig config, ManagedChannel channel, ProcessLauncher launcher,
            InstantSource clock, RandomGenerator random) {
        this(config, channel, launcher, clock, random, GpuTelemetry.NONE);
    }

    /**
     * @param config who this node is and where the scheduler is
     * @param channel channel to the scheduler; the agent owns it and shuts it down on close
     * @param launcher starts and signals rank processes
     * @param clock source of the times the agent reports
     * @param random jitter for reconnect delays
     * @param telemetry per-GPU usage for heartbeats; the agent starts and closes it
     */
    public Agent(AgentConfig config, ManagedChannel channel, ProcessLauncher launcher,
            InstantSource clock, RandomGenerator random, GpuTelemetry telemetry) {
        this.config = Objects.requireNonNull(config, "config");
        this.telemetry = Objects.requireNonNull(telemetry, "telemetry");
        this.channel = Objects.requireNonNull(channel, "channel");
        this.launcher = Objects.requireNonNull(launcher, "launcher");
        this.clock = Objects.requireNonNull(clock, "clock");
        this.backoff = new Backoff(RECONNECT_INITIAL, RECONNECT_CAP, random);
        this.stub = NodesGrpc.newStub(channel);
        this.loop = Executors.newSingleThreadScheduledExecutor(task -> {
            Thread thread = new Thread(task, "coop-agent-" + config.node());
            // The CLI blocks its main thread until close(); a forgotten agent must not pin a JVM.
            thread.setDaemon(true);
            return thread;
        });
        java.util.concurrent.atomic.AtomicInteger spawners = new java.util.concurrent.atomic.AtomicInteger();
        this.spawner = Executors.newFixedThreadPool(SPAWNERS, task -> {
            Thread thread = new Thread(task, "coop-agent-spawn-" + config.node() + "-" + spawners.incrementAndGet());
            thread.setDaemon(true);
            return thread;
        });
    }

    /**
     * An agent for production use: a plaintext Netty channel to {@code config.schedulerTarget()},
     * ranks under {@code config.workDir()}, the system clock, and no GPU usage in heartbeats.
     */
    public static Agent create(AgentConfig config) {
        return create(config, GpuTelemetry.NONE);
    }

    /** As {@link #create(AgentConfig)}, with heartbeats carrying the usage {@code telemetry} samples. */
    public static Agent create(AgentConfig config, GpuTelemetry telemetry) {
        return new Agent(config, channel(config).build(), new ProcessLauncher(config.workDir()),
                InstantSource.system(), RandomGenerator.getDefault(), telemetry);
    }

    /**
     * The channel builder an agent dials its scheduler with: mutual TLS with the node's certificate
     * (plaintext when {@code config.tls()} is null), and the node's name and token on every call.
     */
    public static NettyChannelBuilder channel(AgentConfig config) {
        NettyChannelBuilder builder = ClientTls.channel(config.schedulerTarget(), config.tls());
        if (config.token() != null) {
            // The node identity, on every call: the scheduler lets an agent speak only for its own node.
            io.grpc.Metadata headers = new io.grpc.Metadata();
            headers.put(io.grpc.Metadata.Key.of("coop-node", io.grpc.Metadata.ASCII_STRING_MARSHALLER), config.node());
            headers.put(io.grpc.Metadata.Key.of("coop-node-token", io.grpc.Metadata.ASCII_STRING_MARSHALLER),
                    config.token());
            builder.intercept(io.grpc.stub.MetadataUtils.newAttachHeadersInterceptor(headers));
        }
        return builder;
    }

    /** The version this build reports in its Hello: the jar's, or "dev" when run from classes. */
    public static String version() {
        String version = Agent.class.getPackage().getImplementationVersion();
        return version == null ? "dev" : version;
    }

    /** Dials the scheduler; returns at once, the session is established in the background. */
    public void start() {
        if (closing.get()) {
            throw new IllegalStateException("agent is closed");
        }
        if (started.compareAndSet(false, true)) {
            log.debug("agent {} (site {}, {} GPUs) dialing scheduler {}", config.node(), config.site(),
                    config.gpus().size(), config.schedulerTarget());
            telemetry.start();
            execute(() -> {
                if (stopLeftovers()) {
                    connect();
                }
            });
        }
    }

    /** Whether a session is established: the scheduler has answered the Hello with a Welcome. */
    public boolean isConnected() {
        return connected;
    }

    /** The agent's configuration. */
    public AgentConfig config() {
        return config;
    }

    /** Blocks until {@link #close()} has finished. */
    public void awaitClosed() throws InterruptedException {
        closed.await();
    }

    /** Blocks until {@link #close()} has finished or the timeout passes; true if closed. */
    public boolean awaitClosed(Duration timeout) throws InterruptedException {
        return closed.await(timeout.toMillis(), TimeUnit.MILLISECONDS);
    }

    /**
     * Stops the agent: no more reconnects, SIGTERM to every running rank's group, up to 5 s
     * ({@link #SHUTDOWN_GRACE}) for them to end, SIGKILL to the rest, then the stream is
     * completed and the channel shut down. The exits are sent while the stream is still up, so a
     * connected scheduler learns that the ranks were killed. Safe to call more than once and from
     * a shutdown hook; later calls wait for the first to finish.
     */
    @Override
    public void close() {
        if (!closing.compareAndSet(false, true)) {
            awaitClosedUninterruptibly();
            return;
        }
        try {
            // Ranks being forked land in `running` (as events on the loop) before the victims are counted.
            spawner.shutdown();
            awaitQuietly(() -> spawner.awaitTermination(10, TimeUnit.SECONDS));
            List<Running> victims = onLoop(() -> {
                cancelReconnect();
                List<Running> all = List.copyOf(running.values());
                all.forEach(r -> terminate(r, ExitReason.KILLED, SHUTDOWN_GRACE, "agent shutting down"));
                return all;
            });
            if (victims != null && !awaitHandled(victims, SHUTDOWN_GRACE)) {
                List<Running> survivors = onLoop(() -> List.copyOf(running.values()));
                if (survivors != null) {
                    for (Running r : survivors) {
                        log.warn("{} still running {} s after SIGTERM; sending SIGKILL to process group {}",
                                r.rank(), SHUTDOWN_GRACE.toSeconds(), r.pid());
                        launcher.signalGroup(r.pid(), ProcessLauncher.Signal.KILL);
                    }
                    awaitHandled(survivors, Duration.ofSeconds(2));
                }
            }
            onLoop(() -> {
                Session s = session;
                if (s != null) {
                    if (s.welcomed) {
                        log.info("disconnected from scheduler {}: agent shutting down", config.schedulerTarget());
                    }
                    endSession(s, true);
                }
                return null;
            });
        } finally {
            connected = false;
            spawner.shutdownNow();
            launcher.close();
            telemetry.close();
            loop.shutdownNow();
            awaitQuietly(() -> loop.awaitTermination(2, TimeUnit.SECONDS));
            channel.shutdown();
            if (!awaitQuietly(() -> channel.awaitTermination(1, TimeUnit.SECONDS))) {
                channel.shutdownNow();
            }
            log.info("agent {} stopped", config.node());
            closed.countDown();
        }
    }

    // ------------------------------------------------------------------ session

    /** One attempt at a stream; a new one is made for every reconnect. Loop-confined. */
    private final class Session implements StreamObserver<SchedulerMessage> {
        final long id;
        StreamObserver<AgentMessage> out;
        boolean welcomed;
        boolean ended;
        ScheduledFuture<?> heartbeat;

        Session(long id) {
            this.id = id;
        }

        // The three callbacks arrive on gRPC threads; state is touched only on the loop.

        @Override
        public void onNext(SchedulerMessage message) {
            execute(() -> handle(this, message));
        }

        @Override
        public void onError(Throwable t) {
            Status status = Status.fromThrowable(t);
            String why = describe(status);
            execute(() -> {
                if (refusesIdentity(status.getCode()) && this == session) {
                    fail("the scheduler refused node " + config.node() + ": " + why);
                } else {
                    lost(this, why, false);
                }
            });
        }

        @Override
        public void onCompleted() {
            // The scheduler ended its side; end ours too so the call is released.
            execute(() -> lost(this, "stream completed by the scheduler", true));
        }
    }

    /**
     * Refusals of who the agent says it is (an unknown node or wrong token, another node's name,
     * the wrong site, a Hello the scheduler cannot accept): retrying cannot change them, so the
     * agent stops and its service shows as failed rather than retrying every few seconds for ever.
     */
    private static boolean refusesIdentity(Status.Code code) {
        return code == Status.Code.UNAUTHENTICATED || code == Status.Code.PERMISSION_DENIED
                || code == Status.Code.INVALID_ARGUMENT;
    }

    private static String describe(Status status) {
        StringBuilder why = new StringBuilder(status.getCode().toString());
        if (status.getDescription() != null) {
            why.append(": ").append(status.getDescription());
        }
        // "io exception" alone does not tell an operator whether to look at DNS, a port or a firewall.
        if (status.getCause() != null && status.getCause().getMessage() != null) {
            why.append(" (").append(status.getCause().getMessage()).append(')');
        }
        return why.toString();
    }

    /**
     * Before the node is offered, stops the ranks an earlier agent on this work directory left
     * running (it was killed, or the machine's service manager let its ranks live): the scheduler
     * may already have given their GPUs to a new attempt, and a GPU must never carry two. They are
     * not reported as running, so the scheduler requeues whatever of them it still counts as live.
     */
    private boolean stopLeftovers() {
        try {
            for (RankRecords.Record r : launcher.stopLeftovers(SHUTDOWN_GRACE)) {
                log.warn("{} was still running from an earlier agent (process group {}, GPUs {}); {}", r.rank(),
                        r.pgid(), r.gpus(), r.end());
            }
            return true;
        } catch (IOException | RuntimeException e) {
            // Offering the node anyway could put two attempts on one GPU; an operator must look first.
            fail("cannot check for ranks left running by an earlier agent under " + config.workDir().resolve("running")
                    + ": " + e.getMessage());
            return false;
        }
    }

    /**
     * Stops the agent for a reason it cannot get past by retrying; {@link #failure()} then says
     * why, and the command running the agent exits non-zero with it, so its service shows as failed.
     */
    private void fail(String why) {
        if (failure == null) {
            failure = why;
        }
        log.error("agent {} stopping: {}", config.node(), why);
        // close() waits for this loop, so it runs on a thread of its own.
        Thread stopper = new Thread(this::close, "coop-agent-stop");
        stopper.setDaemon(true);
        stopper.start();
    }

    /** Why the agent stopped itself, if it did: a refused identity, unreadable rank records. */
    public java.util.Optional<String> failure() {
        return java.util.Optional.ofNullable(failure);
    }

    private void connect() {
        reconnect = null;
        if (closing.get()) {
            return;
        }
        Session s = new Session(++sessions);
        session = s;
        // gRPC backs off its own reconnects up to two minutes, failing calls fast meanwhile; our
        // schedule (capped at 5 s) is the one that should decide when to try again.
        channel.resetConnectBackoff();
        try {
            s.out = stub.connect(s);
        } catch (RuntimeException e) {
            lost(s, "cannot open stream: " + e, false);
            return;
        }
        send(s, AgentMessage.newBuilder().setHello(hello()).build());
    }

    /**
     * The stream of {@code s} is gone. If it was the current session, schedule the next try: one
     * log line per disconnect, and one per outage rather than per retry while the scheduler stays
     * unreachable (an hour down is 720 retries).
     */
    private void lost(Session s, String why, boolean completeStream) {
        boolean current = s == session;
        endSession(s, completeStream);
        if (!current || closing.get() || reconnect != null) {
            return;
        }
        Duration delay = backoff.next();
        if (why.startsWith(Status.Code.ALREADY_EXISTS.name())) {
            // Another agent holds this node's identity; it may be this one's own earlier session
            // that the scheduler has not yet seen end, so keep trying, but say so each time.
            log.warn("scheduler {} refused node {}: {}; retrying in {} ms", config.schedulerTarget(), config.node(),
                    why, delay.toMillis());
        } else if (s.welcomed) {
            log.info("disconnected from scheduler {}: {}; reconnecting in {} ms",
                    config.schedulerTarget(), why, delay.toMillis());
        } else if (!unreachableReported) {
            unreachableReported = true;
            log.warn("cannot reach scheduler {} ({}); retrying with backoff up to {} s",
                    config.schedulerTarget(), why, RECONNECT_CAP.toSeconds());
        } else {
            log.debug("scheduler {} still unreachable ({}); next try in {} ms",
                    config.schedulerTarget(), why, delay.toMillis());
        }
        reconnect = loop.schedule(this::connect, delay.toMillis(), TimeUnit.MILLISECONDS);
    }

    /** Forgets a session; completes our half of the stream if it may still be open. */
    private void endSession(Session s, boolean completeStream) {
        if (s.ended) {
            return;
        }
        s.ended = true;
        if (s.heartbeat != null) {
            s.heartbeat.cancel(false);
        }
        if (completeStream && s.out != null) {
            try {
                s.out.onCompleted();
            } catch (RuntimeException e) {
                log.debug("completing stream {} failed", s.id, e);
            }
        }
        if (session == s) {
            session = null;
            connected = false;
        }
    }

    private void cancelReconnect() {
        if (reconnect != null) {
            reconnect.cancel(false);
            reconnect = null;
        }
    }

    private void handle(Session s, SchedulerMessage message) {
        switch (message.getBodyCase()) {
            case WELCOME -> welcome(s, message.getWelcome());
            // Orders stay valid even if their stream has died since: they are idempotent, and acting
            // on them now saves the scheduler a round of reconciliation.
            case LAUNCH -> launch(message.getLaunch());
            case KILL -> kill(message.getKill());
            case EXIT_ACK -> unacked.remove(rankOf(message.getExitAck().getRef()));
            case LOG_REQUEST -> logs(s, message.getLogRequest());
            case BODY_NOT_SET -> log.debug("ignoring empty scheduler message");
        }
    }

    private void welcome(Session s, Welcome welcome) {
        if (s != session || s.ended) {
            return;
        }
        boolean first = !s.welcomed;
        s.welcomed = true;
        connected = true;
        unreachableReported = false;
        backoff.reset();
        if (first) {
            log.info("connected to scheduler {} as node {} (site {}, {} GPUs, {} ranks running)",
                    config.schedulerTarget(), config.node(), config.site(), config.gpus().size(),
                    running.size());
        }
        if (s.heartbeat != null) {
            s.heartbeat.cancel(false);
        }
        long interval = welcome.getHeartbeatIntervalMs() > 0
                ? welcome.getHeartbeatIntervalMs() : DEFAULT_HEARTBEAT.toMillis();
        s.heartbeat = loop.scheduleAtFixedRate(() -> heartbeat(s), interval, interval, TimeUnit.MILLISECONDS);
        // The previous stream may have died between an exit and the scheduler storing it.
        for (RankExit exit : List.copyOf(unacked.values())) {
            send(s, exited(exit));
        }
    }

    private void heartbeat(Session s) {
        if (s.ended) {
            return;
        }
        Heartbeat.Builder beat = Heartbeat.newBuilder()
                .setSentAtMs(clock.millis())
                .addAllRunning(runningRefs());
        // latest() answers from the last sample and never waits for nvidia-smi.
        for (GpuUsage usage : telemetry.latest()) {
            coop.v1.GpuUsage.Builder gpu = coop.v1.GpuUsage.newBuilder().setIndex(usage.index());
            usage.utilizationPct().ifPresent(gpu::setUtilizationPct);
            usage.memoryUsedMib().ifPresent(gpu::setMemoryUsedMib);
            beat.addGpus(gpu);
        }
        send(s, AgentMessage.newBuilder().setHeartbeat(beat).build());
    }

    /** Sends on a session; a failed send ends it, since the stream is then unusable. */
    private void send(Session s, AgentMessage message) {
        if (s == null || s.ended || s.out == null) {
            return;
        }
        try {
            s.out.onNext(message);
        } catch (RuntimeException e) {
            try {
                s.out.onError(e);
            } catch (RuntimeException ignored) {
                // Already broken; the reconnect below is all that is left to do.
            }
            lost(s, "send failed: " + e, false);
        }
    }

    /** Sends a report on the current session once it is welcomed; else the reconcile covers it. */
    private void report(AgentMessage message) {
        if (session != null && session.welcomed) {
            send(session, message);
        }
    }

    // ------------------------------------------------------------------ ranks

    /** A rank the agent started and has not seen end. Loop-confined. */
    private static final class Running {
        final RankProcess process;
        final CompletableFuture<Void> handled = new CompletableFuture<>();
        final List<ScheduledFuture<?>> timers = new ArrayList<>();
        ExitReason stopReason;

        Running(RankProcess process) {
            this.process = process;
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

    private void launch(Launch launch) {
        RankId id = rankOf(launch.getRef());
        if (closing.get()) {
            log.info("not starting {}: agent shutting down", id);
            return;
        }
        if (running.containsKey(id) || starting.containsKey(id)) {
            log.debug("{} is already running; Launch ignored", id);
            return;
        }
        RankExit done = remembered.get(id);
        if (done != null) {
            log.debug("{} already ended; re-sending its exit", id);
            report(exited(done));
            return;
        }
        LaunchOrder order = new LaunchOrder(id, launch.getCommand(), launch.getGpuIndicesList(),
                launch.getEnvMap(), Duration.ofSeconds(Math.max(0, launch.getWalltimeSeconds())));
        starting.put(id, new Starting());
        try {
            spawner.execute(() -> {
                RankProcess process = null;
                Exception failure = null;
                try {
                    process = launcher.start(order);
                } catch (IOException | RuntimeException e) {
                    failure = e;
                }
                RankProcess started = process;
                Exception failed = failure;
                execute(() -> started(id, order, started, failed));
            });
        } catch (RejectedExecutionException e) {
            starting.remove(id);
            log.info("not starting {}: agent shutting down", id);
        }
    }

    /** A spawner is done with a rank: it runs (and is watched from now on), or it could not start. */
    private void started(RankId id, LaunchOrder order, RankProcess process, Exception failure) {
        Starting s = starting.remove(id);
        if (failure != null) {
            log.warn("cannot start {}: {}", id, failure.toString());
            recordExit(new RankExit(id, RankExit.LAUNCH_FAILED_CODE, ExitReason.LAUNCH_FAILED, clock.millis()));
            return;
        }
        Running r = new Running(process);
        running.put(id, r);
        log.info("started {} as pid {} on GPUs {} in {}", id, process.pid(), order.gpuIndices(),
                process.directory());
        report(AgentMessage.newBuilder()
                .setStarted(AttemptStarted.newBuilder().setRef(refOf(id)).setPid(process.pid()))
                .build());
        // Watch for the exit first: nothing below may leave a running rank unwatched.
        process.onExit().whenComplete((code, error) -> execute(() -> ended(r, code, error)));
        if (order.hasWalltime()) {
            // In seconds: the executor copes with absurd delays that would overflow as millis.
            r.timers.add(loop.schedule(() -> {
                if (running.get(id) == r) {
                    terminate(r, ExitReason.WALLTIME, WALLTIME_GRACE,
                            "walltime of " + order.walltime().toSeconds() + " s reached");
                }
            }, order.walltime().toSeconds(), TimeUnit.SECONDS));
        }
        if (s != null && s.kill != null) {
            kill(s.kill);
        }
    }

    private void kill(Kill kill) {
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
                report(exited(done));
            } else {
                log.debug("Kill for {} which is not running here; ignored", id);
            }
            return;
        }
        String why = kill.getReason().isBlank() ? "scheduler's order" : kill.getReason();
        terminate(r, ExitReason.KILLED, Duration.ofSeconds(Math.max(0, kill.getGraceSeconds())), why);
    }

    /** SIGTERM to the rank's group now, SIGKILL after the grace if the rank is still running. */
    private void terminate(Running r, ExitReason reason, Duration grace, String why) {
        if (r.stopReason == null) {
            r.stopReason = reason;
        }
        log.info("stopping {} ({}): SIGTERM to process group {}, SIGKILL in {} s", r.rank(), why,
                r.pid(), grace.toSeconds());
        launcher.signalGroup(r.pid(), ProcessLauncher.Signal.TERM);
        try {
            r.timers.add(loop.schedule(() -> {
                if (running.get(r.rank()) == r) {
                    log.info("{} ignored SIGTERM for {} s; SIGKILL to process group {}", r.rank(),
                            grace.toSeconds(), r.pid());
                    launcher.signalGroup(r.pid(), ProcessLauncher.Signal.KILL);
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
            long now = clock.millis();
            try {
                launcher.recordEnd(r.rank(), now, reason.wire() + " " + exitCode);
            } catch (IOException e) {
                log.warn("cannot record the end of {}: {}", r.rank(), e.toString());
            }
            recordExit(new RankExit(r.rank(), exitCode, reason, now));
        } finally {
            r.handled.complete(null);
        }
    }

    private void recordExit(RankExit exit) {
        log.info("{} ended: {} with code {}", exit.rank(), exit.reason().wire(), exit.exitCode());
        unacked.put(exit.rank(), exit);
        remembered.put(exit.rank(), exit);
        report(exited(exit));
    }

    private void logs(Session s, LogRequest request) {
        RankId id = rankOf(request.getRef());
        int max = request.getMaxBytes() <= 0 ? MAX_LOG_BYTES : Math.min(MAX_LOG_BYTES, request.getMaxBytes());
        LogData.Builder data = LogData.newBuilder().setRequestId(request.getRequestId());
        try {
            RankOutput output = launcher.read(id, Math.max(0, request.getStdoutOffset()),
                    Math.max(0, request.getStderrOffset()), max);
            data.setStdout(ByteString.copyFrom(output.stdout().bytes())).setStdoutOffset(output.stdout().offset())
                    .setStderr(ByteString.copyFrom(output.stderr().bytes())).setStderrOffset(output.stderr().offset());
        } catch (NoSuchFileException e) {
            data.setError("no output for " + id + " on node " + config.node() + ": it never ran here");
        } catch (IOException e) {
            data.setError("cannot read output of " + id + " on node " + config.node() + ": " + e);
        }
        send(s, AgentMessage.newBuilder().setLogData(data).build());
    }

    // ------------------------------------------------------------------ wire

    private Hello hello() {
        Hello.Builder hello = Hello.newBuilder()
                .setNode(config.node())
                .setSite(config.site())
                .addAllRunning(runningRefs())
                .setVersion(config.version());
        if (config.advertiseAddress() != null) {
            hello.setAddress(config.advertiseAddress());
        }
        for (GpuDevice gpu : config.gpus()) {
            hello.addGpus(Gpu.newBuilder()
                    .setIndex(gpu.index()).setModel(gpu.model()).setMemoryMib(gpu.memoryMib()));
        }
        return hello.build();
    }

    private List<AttemptRef> runningRefs() {
        // A rank being forked is running as far as the scheduler is concerned.
        List<AttemptRef> refs = new ArrayList<>(running.size() + starting.size());
        running.keySet().forEach(id -> refs.add(refOf(id)));
        starting.keySet().forEach(id -> refs.add(refOf(id)));
        return refs;
    }

    private static AgentMessage exited(RankExit exit) {
        return AgentMessage.newBuilder()
                .setExited(AttemptExited.newBuilder()
                        .setRef(refOf(exit.rank()))
                        .setExitCode(exit.exitCode())
                        .setReason(exit.reason().wire())
                        .setEndedAtMs(exit.endedAtMs()))
                .build();
    }

    private static RankId rankOf(AttemptRef ref) {
        return new RankId(ref.getJobId(), ref.getAttempt(), ref.getRank());
    }

    private static AttemptRef refOf(RankId id) {
        return AttemptRef.newBuilder()
                .setJobId(id.jobId()).setAttempt(id.attempt()).setRank(id.rank()).build();
    }

    // ------------------------------------------------------------------ loop plumbing

    private void execute(Runnable task) {
        try {
            loop.execute(() -> {
                try {
                    task.run();
                } catch (RuntimeException e) {
                    // One bad message must not kill the loop thread and with it every rank's bookkeeping.
                    log.error("agent event failed", e);
                }
            });
        } catch (RejectedExecutionException e) {
            log.debug("agent closed; event dropped");
        }
    }

    /** Runs on the loop and waits; null if the loop is gone. */
    private <T> T onLoop(Callable<T> task) {
        try {
            return loop.submit(task).get(10, TimeUnit.SECONDS);
        } catch (RejectedExecutionException | TimeoutException e) {
            return null;
        } catch (ExecutionException e) {
            log.error("agent shutdown step failed", e.getCause());
            return null;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return null;
        }
    }

    private static boolean awaitHandled(List<Running> ranks, Duration timeout) {
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

    private interface Wait {
        boolean await() throws InterruptedException;
    }

    private static boolean awaitQuietly(Wait wait) {
        try {
            return wait.await();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    private void awaitClosedUninterruptibly() {
        boolean interrupted = false;
        while (true) {
            try {
                closed.await();
                break;
            } catch (InterruptedException e) {
                interrupted = true;
            }
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
    }
}
