package coop.agent;

import coop.v1.AgentMessage;
import io.grpc.ManagedChannel;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import java.io.IOException;
import java.time.Duration;
import java.time.InstantSource;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
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
 * <p>The agent owns its threads and wires its parts together: the {@link SchedulerConnection}
 * (Hello, heartbeats, reconnects, refusals), the {@link Ranks} it runs, and {@link Wire}, which
 * turns both into messages. All their state lives on one {@link EventLoop} thread, like the
 * scheduler's own core: gRPC callbacks, process exits and timers are handed to it, so there are
 * no locks and every message on the stream is sent from that one thread, which is what a
 * {@code StreamObserver} requires. Ranks are forked on a few spawner threads, since forking is
 * the one slow step.
 */
public final class Agent implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(Agent.class);

    /** How long {@link #close()} lets ranks act on SIGTERM before it kills their groups. */
    static final Duration SHUTDOWN_GRACE = Duration.ofSeconds(5);
    /** Threads that fork ranks; a few, so that ranks start side by side on a many-GPU node. */
    private static final int SPAWNERS = 4;

    private final AgentConfig config;
    private final ManagedChannel channel;
    private final ProcessLauncher launcher;
    private final GpuTelemetry telemetry;
    private final EventLoop loop;
    private final ExecutorService spawner;
    private final Ranks ranks;
    private final SchedulerConnection connection;
    /** Removes old rank folders on a thread of its own. */
    private final java.util.concurrent.ScheduledExecutorService sweeper =
            Executors.newSingleThreadScheduledExecutor(task -> {
                Thread thread = new Thread(task, "coop-agent-retention");
                thread.setDaemon(true);
                return thread;
            });
    private final AttemptHooks hooks;

    private final AtomicBoolean started = new AtomicBoolean();
    private final AtomicBoolean closing = new AtomicBoolean();
    private final CountDownLatch closed = new CountDownLatch(1);
    private volatile String failure;

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
        Objects.requireNonNull(clock, "clock");
        this.loop = new EventLoop(config.node());
        AtomicInteger spawners = new AtomicInteger();
        this.spawner = Executors.newFixedThreadPool(SPAWNERS, task -> {
            Thread thread = new Thread(task, "coop-agent-spawn-" + config.node() + "-" + spawners.incrementAndGet());
            thread.setDaemon(true);
            return thread;
        });
        // Health reports come from the check's and spawners' threads; the stream is the loop's.
        this.hooks = new AttemptHooks(config.hooks(), config.workDir(), clock,
                (healthy, reason) -> loop.execute(() -> report(Wire.health(healthy, reason))));
        // Ranks report through the connection, made next; reports only come from the loop, once started.
        this.ranks = new Ranks(config, launcher, clock, loop, spawner, closing::get, this::report, hooks,
                new Workdirs(config.workDir(), Workdirs.from(channel)));
        this.connection = new SchedulerConnection(config, channel, clock, random, telemetry, loop, ranks,
                closing::get, this::fail,
                () -> hooks.latestHealth().map(o -> Wire.health(o.passed(), o.reason())));
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
        return new Agent(config, channel(config).build(),
                new ProcessLauncher(config.workDir(), InstantSource.system(), config.confinement(), config.node(),
                        config.checkpointRoot()),
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
            Retention retention = ranks.retention();
            if (retention.active()) {
                // Off the loop: removing a year of folders must not hold up heartbeats.
                sweeper.scheduleWithFixedDelay(() -> {
                    try {
                        retention.sweep();
                    } catch (IOException | RuntimeException e) {
                        log.warn("cannot remove old rank folders under {}: {}", config.workDir(), e.toString());
                    }
                }, 0, retention.period().toSeconds(), TimeUnit.SECONDS);
            }
            loop.execute(() -> {
                if (stopLeftovers()) {
                    hooks.start();
                    connection.connect();
                }
            });
        }
    }

    /** Whether a session is established: the scheduler has answered the Hello with a Welcome. */
    public boolean isConnected() {
        return connection.isConnected();
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
            List<Ranks.Running> victims = loop.call(() -> {
                connection.cancelReconnect();
                return ranks.terminateAll(ExitReason.KILLED, SHUTDOWN_GRACE, "agent shutting down");
            });
            if (victims != null && !Ranks.awaitHandled(victims, SHUTDOWN_GRACE)) {
                List<Ranks.Running> survivors = loop.call(ranks::running);
                if (survivors != null) {
                    ranks.killGroups(survivors, SHUTDOWN_GRACE);
                    Ranks.awaitHandled(survivors, Duration.ofSeconds(2));
                }
            }
            loop.call(() -> {
                connection.close();
                return null;
            });
        } finally {
            connection.markClosed();
            spawner.shutdownNow();
            sweeper.shutdownNow();
            hooks.close();
            launcher.close();
            telemetry.close();
            loop.shutdown(Duration.ofSeconds(2));
            channel.shutdown();
            if (!awaitQuietly(() -> channel.awaitTermination(1, TimeUnit.SECONDS))) {
                channel.shutdownNow();
            }
            log.info("agent {} stopped", config.node());
            closed.countDown();
        }
    }

    private void report(AgentMessage message) {
        connection.report(message);
    }

    /**
     * Before the node is offered, stops the ranks an earlier agent on this work directory left
     * running (it was killed, or the machine's service manager let its ranks live): the scheduler
     * may already have given their GPUs to a new attempt, and a GPU must never carry two. They are
     * not reported as running, so the scheduler requeues whatever of them it still counts as live.
     */
    private boolean stopLeftovers() {
        try {
            ranks.stopLeftovers(SHUTDOWN_GRACE);
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
    public Optional<String> failure() {
        return Optional.ofNullable(failure);
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
