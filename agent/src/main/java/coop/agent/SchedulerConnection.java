package coop.agent;

import coop.v1.AgentMessage;
import coop.v1.NodesGrpc;
import coop.v1.SchedulerMessage;
import coop.v1.Welcome;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.stub.StreamObserver;
import java.time.Duration;
import java.time.InstantSource;
import java.util.Optional;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;
import java.util.function.Supplier;
import java.util.random.RandomGenerator;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The agent's side of the {@code Nodes.Connect} stream: opens it with a Hello, keeps it alive
 * with heartbeats once the scheduler answers with a Welcome, hands the scheduler's orders to the
 * {@link Ranks}, and when the stream breaks dials again with backoff. A refusal of the node's
 * identity stops the agent instead, since retrying cannot change it. Loop-confined, except
 * {@link #isConnected()}.
 */
final class SchedulerConnection {

    // The agent's parts all log as the agent: operators filter and read one category.
    private static final Logger log = LoggerFactory.getLogger(Agent.class);

    /** Used if a Welcome names no interval, so a sloppy scheduler still sees the node alive. */
    static final Duration DEFAULT_HEARTBEAT = Duration.ofSeconds(10);
    static final Duration RECONNECT_INITIAL = Duration.ofMillis(200);
    static final Duration RECONNECT_CAP = Duration.ofSeconds(5);

    private final AgentConfig config;
    private final ManagedChannel channel;
    private final NodesGrpc.NodesStub stub;
    private final InstantSource clock;
    private final GpuTelemetry telemetry;
    private final Backoff backoff;
    private final EventLoop loop;
    private final Ranks ranks;
    private final BooleanSupplier closing;
    private final Consumer<String> fail;
    private final Supplier<Optional<AgentMessage>> health;

    private volatile boolean connected;
    private Session session;
    private ScheduledFuture<?> reconnect;
    private long sessions;
    private boolean unreachableReported;

    /**
     * @param closing whether the agent is shutting down, when it must not dial again
     * @param fail stops the agent for a reason retrying cannot get past
     * @param health the node's latest health check outcome, if it has one, sent at the start of each session
     */
    SchedulerConnection(AgentConfig config, ManagedChannel channel, InstantSource clock, RandomGenerator random,
            GpuTelemetry telemetry, EventLoop loop, Ranks ranks, BooleanSupplier closing, Consumer<String> fail,
            Supplier<Optional<AgentMessage>> health) {
        this.config = config;
        this.channel = channel;
        this.stub = NodesGrpc.newStub(channel);
        this.clock = clock;
        this.telemetry = telemetry;
        this.backoff = new Backoff(RECONNECT_INITIAL, RECONNECT_CAP, random);
        this.loop = loop;
        this.ranks = ranks;
        this.closing = closing;
        this.fail = fail;
        this.health = health;
    }

    /** Whether a session is established: the scheduler has answered the Hello with a Welcome. */
    boolean isConnected() {
        return connected;
    }

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
            loop.execute(() -> handle(this, message));
        }

        @Override
        public void onError(Throwable t) {
            Status status = Status.fromThrowable(t);
            String why = describe(status);
            loop.execute(() -> {
                if (refusesIdentity(status.getCode()) && this == session) {
                    fail.accept("the scheduler refused node " + config.node() + ": " + why);
                } else {
                    lost(this, why, false);
                }
            });
        }

        @Override
        public void onCompleted() {
            // The scheduler ended its side; end ours too so the call is released.
            loop.execute(() -> lost(this, "stream completed by the scheduler", true));
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

    /** Opens a stream and says Hello; unless the agent is closing. */
    void connect() {
        reconnect = null;
        if (closing.getAsBoolean()) {
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
        send(s, AgentMessage.newBuilder().setHello(Wire.hello(config, ranks.runningRefs())).build());
    }

    /**
     * The stream of {@code s} is gone. If it was the current session, schedule the next try: one
     * log line per disconnect, and one per outage rather than per retry while the scheduler stays
     * unreachable (an hour down is 720 retries).
     */
    private void lost(Session s, String why, boolean completeStream) {
        boolean current = s == session;
        endSession(s, completeStream);
        if (!current || closing.getAsBoolean() || reconnect != null) {
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

    /** No more reconnects: the agent is shutting down. */
    void cancelReconnect() {
        if (reconnect != null) {
            reconnect.cancel(false);
            reconnect = null;
        }
    }

    /** Ends the current session, if any, completing the stream: the agent is shutting down. */
    void close() {
        Session s = session;
        if (s != null) {
            if (s.welcomed) {
                log.info("disconnected from scheduler {}: agent shutting down", config.schedulerTarget());
            }
            endSession(s, true);
        }
    }

    /** Safe from any thread: the agent has stopped, whatever the loop managed to do. */
    void markClosed() {
        connected = false;
    }

    private void handle(Session s, SchedulerMessage message) {
        switch (message.getBodyCase()) {
            case WELCOME -> welcome(s, message.getWelcome());
            // Orders stay valid even if their stream has died since: they are idempotent, and acting
            // on them now saves the scheduler a round of reconciliation.
            case LAUNCH -> ranks.launch(message.getLaunch());
            case KILL -> ranks.kill(message.getKill());
            case EXIT_ACK -> ranks.acknowledged(message.getExitAck().getRef());
            case LOG_REQUEST -> send(s, ranks.logs(message.getLogRequest()));
            case BODY_NOT_SET -> log.debug("ignoring empty scheduler message");
        }
    }

    private void welcome(Session s, Welcome welcome) {
        if (s != session || s.ended) {
            return;
        }
        java.util.Set<String> unknown = new java.util.TreeSet<>(config.confinement().runAs().accounts());
        unknown.removeAll(welcome.getAccountsList());
        if (!unknown.isEmpty() && welcome.getAccountsCount() > 0) {
            // A typo in the map would send that account's jobs to the catch-all user, or refuse them.
            fail.accept("--run-as names " + String.join(", ", unknown) + ", which the cooperative has no account for "
                    + "(its accounts: " + String.join(", ", welcome.getAccountsList()) + ")");
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
                    ranks.runningCount());
        }
        if (s.heartbeat != null) {
            s.heartbeat.cancel(false);
        }
        long interval = welcome.getHeartbeatIntervalMs() > 0
                ? welcome.getHeartbeatIntervalMs() : DEFAULT_HEARTBEAT.toMillis();
        s.heartbeat = loop.scheduleAtFixedRate(() -> heartbeat(s), interval, TimeUnit.MILLISECONDS);
        // The previous stream may have died between an exit and the scheduler storing it.
        for (RankExit exit : ranks.unacknowledged()) {
            send(s, Wire.exited(exit));
        }
        // The check may have passed or failed while the stream was down; the scheduler's drain follows it now.
        health.get().ifPresent(m -> send(s, m));
    }

    private void heartbeat(Session s) {
        if (s.ended) {
            return;
        }
        // latest() answers from the last sample and never waits for nvidia-smi.
        send(s, AgentMessage.newBuilder()
                .setHeartbeat(Wire.heartbeat(clock.millis(), ranks.runningRefs(), telemetry.latest()))
                .build());
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
    void report(AgentMessage message) {
        if (session != null && session.welcomed) {
            send(session, message);
        }
    }
}
