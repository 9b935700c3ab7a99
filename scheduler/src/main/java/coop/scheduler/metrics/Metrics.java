package coop.scheduler.metrics;

import coop.scheduler.domain.JobState;
import coop.scheduler.engine.Accounting;
import coop.scheduler.engine.ClusterState;
import coop.scheduler.engine.EventLoop;
import coop.scheduler.store.Store;
import io.grpc.ForwardingServerCall;
import io.grpc.ForwardingServerCallListener;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.Status;
import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.Timer;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.time.Duration;
import java.time.InstantSource;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * The scheduler's Prometheus metrics, in a Micrometer registry; {@link #scrape()} gives the
 * text exposition format for {@code /metrics}.
 *
 * <p>The event loop owns the cluster state, so nothing here reads it from a scrape thread: the
 * loop hands over a {@link Accounting.Census} after each tick (every 250 ms), and the gauges
 * read the latest one through a volatile field. Timers and summaries are recorded where the
 * work happens (the loop, the store's commit, the gRPC edge), each a few atomic increments, so
 * the submit path, at thousands of calls a second, does not notice them.
 */
public final class Metrics implements EventLoop.Observer, Store.CommitListener {
    private static final Accounting.Census NO_CENSUS = new Accounting.Census(0, Map.of(), Map.of(), Map.of(), 0,
            0, Long.MAX_VALUE, Map.of(), Map.of());
    private static final Status.Code[] CODES = Status.Code.values();

    private final PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    private final InstantSource clock;
    private final Timer allocation;
    private final Timer commit;
    private final DistributionSummary commitRecords;
    private final Timer heartbeatDelay;
    private final Map<String, Timer[]> rpcTimers = new ConcurrentHashMap<>();
    /** Gauges of each open account, registered when it first appears in a census; loop thread only. */
    private final Map<String, List<Meter>> accountGauges = new HashMap<>();
    private volatile Accounting.Census census = NO_CENSUS;

    /**
     * @param clock             the scheduler's clock, the one heartbeats are compared with
     * @param heartbeatInterval how often agents are told to heartbeat, published for alert rules
     */
    public Metrics(InstantSource clock, Duration heartbeatInterval) {
        this.clock = clock;
        allocation = Timer.builder("coop.allocation.cycle")
                .description("Time of one allocation cycle on the event loop (snapshot, plan, apply).")
                .publishPercentileHistogram().minimumExpectedValue(Duration.ofMillis(1))
                .maximumExpectedValue(Duration.ofSeconds(10)).register(registry);
        commit = Timer.builder("coop.store.commit")
                .description("Time to encode, write and fsync one synced WriteBatch of the store (group commit: "
                        + "one per event-loop turn that changed anything).")
                .publishPercentileHistogram().minimumExpectedValue(Duration.ofMillis(1))
                .maximumExpectedValue(Duration.ofSeconds(10)).register(registry);
        commitRecords = DistributionSummary.builder("coop.store.commit.records")
                .description("Records in one synced WriteBatch: how many changes share one fsync.")
                .serviceLevelObjectives(1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 2048, 4096, 8192)
                .register(registry);
        heartbeatDelay = Timer.builder("coop.heartbeat.delay")
                .description("Time from an agent sending a heartbeat (its clock, sent_at_ms) to the scheduler "
                        + "taking it in (its clock): the event loop applying it, or, for one that reports nothing "
                        + "new (the same ranks and GPU usage as the one before), the transport recording it. "
                        + "Network, gRPC and the loop's backlog, plus any skew between the two clocks. Heartbeats "
                        + "that state no send time are not counted.")
                .publishPercentileHistogram().minimumExpectedValue(Duration.ofMillis(1))
                .maximumExpectedValue(Duration.ofSeconds(60)).register(registry);
        Gauge.builder("coop.heartbeat.interval", () -> heartbeatInterval.toMillis() / 1000.0)
                .description("The heartbeat interval agents are told to keep; a node is declared lost after 3 "
                        + "missed.").baseUnit("seconds").register(registry);
        Gauge.builder("coop.heartbeat.oldest.age", this::oldestHeartbeatAge)
                .description("Seconds since the least recent last heartbeat among connected agents was applied "
                        + "(0 with none connected). Normally just over one interval; a node is declared lost at 3 "
                        + "intervals. Alert when above 2 * coop_heartbeat_interval_seconds: a node is going silent, "
                        + "or the event loop is falling behind.").baseUnit("seconds").register(registry);
        Gauge.builder("coop.agents.connected", () -> census.agentsConnected())
                .description("Agents with an open session (Hello answered, not lost or disconnected).")
                .register(registry);
        Gauge.builder("coop.gpus.online", () -> census.gpusOnline())
                .description("GPUs of the nodes whose agents are connected.").register(registry);
        for (JobState s : JobState.values()) {
            Gauge.builder("coop.jobs", () -> census.jobs().getOrDefault(s, 0))
                    .description("Jobs the scheduler holds, by state.")
                    .tag("state", s.name().toLowerCase(Locale.ROOT)).register(registry);
        }
    }

    /** The metrics in the Prometheus text exposition format (version 0.0.4). */
    public String scrape() {
        return registry.scrape();
    }

    /** The registry, for meters of other parts. */
    public PrometheusMeterRegistry registry() {
        return registry;
    }

    @Override
    public void allocated(long nanos) {
        allocation.record(nanos, TimeUnit.NANOSECONDS);
    }

    @Override
    public void committed(int records, long nanos) {
        commit.record(nanos, TimeUnit.NANOSECONDS);
        commitRecords.record(records);
    }

    /** Publishes the state's counts; on the loop thread, after a tick. */
    @Override
    public void ticked(ClusterState state) {
        Accounting.Census c = state.census();
        for (String account : c.allocatedGpus().keySet()) {
            accountGauges.computeIfAbsent(account, a -> List.of(
                    Gauge.builder("coop.account.gpus.allocated", () -> census.allocatedGpus().getOrDefault(a, 0))
                            .description("GPUs held by the account's running attempts.").tag("account", a)
                            .register(registry),
                    Gauge.builder("coop.account.gpus.entitled", () -> census.entitledGpus().getOrDefault(a, 0.0))
                            .description("GPUs the account is entitled to: its share under the live policy of the "
                                    + "GPUs of connected nodes.").tag("account", a).register(registry),
                    FunctionCounter.builder("coop.account.preemptions", this,
                                    m -> m.census.preemptions().getOrDefault(a, 0L))
                            .description("Attempts of the account's jobs told to stop for another job, since the "
                                    + "cooperative began (counted from the stored jobs, so a restart keeps it).")
                            .tag("account", a).register(registry),
                    FunctionCounter.builder("coop.account.preempted.gpu.seconds", this,
                                    m -> m.census.lostGpuSeconds().getOrDefault(a, 0.0))
                            .description("GPU-seconds of the account's preempted attempts, each counted whole from "
                                    + "its start to its end: the scheduler cannot know when a job last saved a "
                                    + "checkpoint, so this is the work lost if it saved none.")
                            .tag("account", a).register(registry)));
        }
        accountGauges.entrySet().removeIf(e -> {
            if (c.allocatedGpus().containsKey(e.getKey())) {
                return false;
            }
            e.getValue().forEach(registry::remove);
            return true;
        });
        census = c;
    }

    /** An agent's heartbeat was taken in: on the loop thread, or on the transport's for one with nothing new. */
    public void heartbeatApplied(long sentAtMs) {
        if (sentAtMs > 0) {
            heartbeatDelay.record(Math.max(0, clock.millis() - sentAtMs), TimeUnit.MILLISECONDS);
        }
    }

    private double oldestHeartbeatAge() {
        long oldest = census.oldestHeartbeat();
        return oldest == Long.MAX_VALUE ? 0 : Math.max(0, clock.millis() - oldest) / 1000.0;
    }

    /**
     * Times every call of the server, by full method name and status code, from the call's start to
     * its close (or its cancellation by the client). For streams (an agent's Connect) that is the
     * session's length.
     */
    public ServerInterceptor rpcInterceptor() {
        return new ServerInterceptor() {
            @Override
            public <Q, R> ServerCall.Listener<Q> interceptCall(ServerCall<Q, R> call, Metadata headers,
                                                               ServerCallHandler<Q, R> next) {
                long started = System.nanoTime();
                Timer[] byCode = rpcTimers.computeIfAbsent(call.getMethodDescriptor().getFullMethodName(),
                        m -> new Timer[CODES.length]);
                String method = call.getMethodDescriptor().getFullMethodName();
                AtomicBoolean done = new AtomicBoolean();
                ServerCall<Q, R> timed = new ForwardingServerCall.SimpleForwardingServerCall<>(call) {
                    @Override
                    public void close(Status status, Metadata trailers) {
                        if (done.compareAndSet(false, true)) {
                            rpc(byCode, method, status.getCode()).record(System.nanoTime() - started,
                                    TimeUnit.NANOSECONDS);
                        }
                        super.close(status, trailers);
                    }
                };
                return new ForwardingServerCallListener.SimpleForwardingServerCallListener<>(
                        next.startCall(timed, headers)) {
                    @Override
                    public void onCancel() {
                        if (done.compareAndSet(false, true)) {
                            rpc(byCode, method, Status.Code.CANCELLED).record(System.nanoTime() - started,
                                    TimeUnit.NANOSECONDS);
                        }
                        super.onCancel();
                    }
                };
            }
        };
    }

    private Timer rpc(Timer[] byCode, String method, Status.Code code) {
        Timer t = byCode[code.ordinal()];
        if (t == null) {
            // Registering is idempotent, so two threads racing here get the same timer.
            t = Timer.builder("coop.rpc").description("gRPC calls served, by method and status, from start to close.")
                    .tag("method", method).tag("status", code.name())
                    .publishPercentileHistogram().minimumExpectedValue(Duration.ofMillis(1))
                    .maximumExpectedValue(Duration.ofSeconds(30)).register(registry);
            byCode[code.ordinal()] = t;
        }
        return t;
    }
}
