package coop.bench.swarm;

import coop.agent.Agent;
import coop.agent.AgentConfig;
import coop.agent.ClientTls;
import coop.agent.GpuDevice;
import coop.v1.AgentMessage;
import coop.v1.Gpu;
import coop.v1.Heartbeat;
import coop.v1.Hello;
import coop.v1.NodesGrpc;
import coop.v1.SchedulerMessage;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.stub.StreamObserver;
import java.nio.file.Path;
import java.time.Duration;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;

/**
 * Many simulated agents in one process, each an enrolled node speaking the real protocol to a
 * scheduler: its own channel with mutual TLS under its own certificate and the node's token (as
 * {@link Agent#channel} builds it for a real agent), a Connect stream with a Hello, and once
 * welcomed a heartbeat at the interval the Welcome names. What a simulated agent lacks is
 * everything else an agent does (no ranks, no GPU telemetry), which a heartbeat of an idle node
 * does not carry anyway.
 *
 * <p>The heartbeats of all agents are spread evenly over the interval, so the scheduler sees a
 * steady rate rather than bursts, and are sent by two timer threads. Each send's lateness (how
 * long after its scheduled moment it went out) is recorded while {@link #startRecording} is on,
 * so a report can tell the bench's own delays from the scheduler's.
 *
 * <p>A stream that ends without the swarm closing it is counted as a loss, with its reason and
 * when it happened ({@link #losses}), and the agent dials again, as a real agent does.
 */
public final class Swarm implements AutoCloseable {
    private static final GpuDevice GPU = new GpuDevice(0, "GPU-sim", "A100", 81_920);
    private static final int GPUS_PER_NODE = 8;

    /** A node as enrollment returned it: its name, site, token and TLS material (null: plaintext). */
    public record Node(String name, String site, String token, ClientTls tls) {
    }

    private final String target;
    private final List<SimulatedAgent> agents = new ArrayList<>();
    private final ScheduledExecutorService timers = Executors.newScheduledThreadPool(2, task -> {
        Thread t = new Thread(task, "coop-swarm-heartbeats");
        t.setDaemon(true);
        return t;
    });
    private final long anchorNanos = System.nanoTime();
    private final AtomicInteger welcomed = new AtomicInteger();
    private final AtomicInteger settledCount = new AtomicInteger();
    private final AtomicLong lastWelcomeNanos = new AtomicLong(System.nanoTime());
    private final AtomicInteger reconnects = new AtomicInteger();
    private final AtomicReference<String> firstProblem = new AtomicReference<>();
    private final java.util.Queue<Loss> losses = new java.util.concurrent.ConcurrentLinkedQueue<>();
    private final AtomicLong heartbeats = new AtomicLong();
    private volatile long[] lateness;
    private final AtomicInteger latenessCount = new AtomicInteger();

    /** A stream that ended without the swarm closing it: after a Welcome (a session) or before (a dial). */
    private record Loss(long atNanos, boolean session, String why) {
    }

    /**
     * The losses of a stretch of time: sessions (welcomed streams) that ended, dials that failed
     * before a Welcome, how many of each reason (the first 160 characters of the first line, the
     * node named apart), and when the first and last happened, in seconds since the swarm was made.
     */
    public record Losses(int sessions, int dials, Map<String, Integer> byReason, double firstAtS, double lastAtS) {
        public int total() {
            return sessions + dials;
        }

        /** "3 × stream failed: ...; 1 × ..." most frequent first, or "none". */
        public String reasons() {
            if (byReason.isEmpty()) {
                return "none";
            }
            StringBuilder b = new StringBuilder();
            byReason.entrySet().stream().sorted(Map.Entry.<String, Integer>comparingByValue().reversed())
                    .forEach(e -> b.append(b.length() == 0 ? "" : "; ").append(e.getValue()).append(" x ")
                            .append(e.getKey()));
            return b.toString();
        }
    }

    /** @param target the scheduler's HOST:PORT */
    public Swarm(String target, List<Node> nodes) {
        this.target = target;
        for (int i = 0; i < nodes.size(); i++) {
            agents.add(new SimulatedAgent(i, nodes.get(i)));
        }
    }

    /**
     * Connects every agent, at most {@code inFlight} first handshakes at a time, and waits until
     * all are connected (an agent whose dial failed or whose session was lost dials again), until
     * all have been tried and none was welcomed for 15 s, or until {@code patience} is up. Reports
     * progress about once a second.
     *
     * @return how many are connected (welcomed, their stream still open)
     */
    public int connect(int inFlight, Duration patience, Consumer<String> progress) throws InterruptedException {
        Semaphore slots = new Semaphore(inFlight);
        long started = System.nanoTime();
        long deadline = started + patience.toNanos();
        long nextReport = started + TimeUnit.SECONDS.toNanos(1);
        for (SimulatedAgent a : agents) {
            while (!slots.tryAcquire(100, TimeUnit.MILLISECONDS)) {
                if (System.nanoTime() > deadline) {
                    return connected();
                }
            }
            a.dial(slots::release);
            if (System.nanoTime() > nextReport) {
                nextReport = System.nanoTime() + TimeUnit.SECONDS.toNanos(1);
                progress.accept(progressLine(started));
            }
        }
        long stall = TimeUnit.SECONDS.toNanos(15);
        while (connected() < agents.size() && System.nanoTime() < deadline
                && (settledCount.get() < agents.size() || System.nanoTime() - lastWelcomeNanos.get() < stall)) {
            Thread.sleep(100);
            if (System.nanoTime() > nextReport) {
                nextReport = System.nanoTime() + TimeUnit.SECONDS.toNanos(1);
                progress.accept(progressLine(started));
            }
        }
        return connected();
    }

    private String progressLine(long started) {
        double s = (System.nanoTime() - started) / 1e9;
        int lost = losses.size();
        return String.format(java.util.Locale.ROOT, "connected %d/%d agents over mutual TLS in %.0f s (%.0f/s)%s",
                connected(), agents.size(), s, welcomed.get() / Math.max(s, 1e-3),
                lost > 0 ? ", " + lost + " streams lost or refused so far (" + reconnects.get() + " dialled again)"
                        : "");
    }

    /** Agents welcomed whose stream is still open. */
    public int connected() {
        int n = 0;
        for (SimulatedAgent a : agents) {
            if (a.connected()) {
                n++;
            }
        }
        return n;
    }

    /** The first reason an agent's stream failed or closed, or null. */
    public String firstProblem() {
        return firstProblem.get();
    }

    /** The moment {@link #losses} counts from, on {@link System#nanoTime}'s scale. */
    public long now() {
        return System.nanoTime();
    }

    /** Losses between two moments of {@link #now()}. */
    public Losses losses(long fromNanos, long toNanos) {
        int sessions = 0;
        int dials = 0;
        Map<String, Integer> byReason = new java.util.TreeMap<>();
        long first = Long.MAX_VALUE;
        long last = Long.MIN_VALUE;
        for (Loss l : losses) {
            if (l.atNanos() < fromNanos || l.atNanos() >= toNanos) {
                continue;
            }
            if (l.session()) {
                sessions++;
            } else {
                dials++;
            }
            first = Math.min(first, l.atNanos());
            last = Math.max(last, l.atNanos());
            byReason.merge(reason(l.why()), 1, Integer::sum);
        }
        return new Losses(sessions, dials, byReason, first == Long.MAX_VALUE ? 0 : (first - anchorNanos) / 1e9,
                last == Long.MIN_VALUE ? 0 : (last - anchorNanos) / 1e9);
    }

    /** Streams dialled again after a loss, so far. */
    public int reconnects() {
        return reconnects.get();
    }

    /** A loss's reason without the node's name, short enough to count alike reasons together. */
    public static String reason(String why) {
        int colon = why.indexOf(": ");
        String r = colon < 0 ? why : why.substring(colon + 2);
        int nl = r.indexOf('\n');
        if (nl >= 0) {
            r = r.substring(0, nl);
        }
        return r.length() <= 160 ? r : r.substring(0, 160) + "...";
    }

    private void lost(boolean session, String why) {
        losses.add(new Loss(System.nanoTime(), session, why));
        firstProblem.compareAndSet(null, why);
    }

    /** Heartbeats sent so far. */
    public long heartbeats() {
        return heartbeats.get();
    }

    /** Starts recording each heartbeat's send lateness, for up to {@code capacity} sends. */
    public void startRecording(int capacity) {
        latenessCount.set(0);
        lateness = new long[capacity];
    }

    /** Stops recording; the lateness of each send recorded, in nanoseconds, sorted. */
    public long[] stopRecording() {
        long[] l = lateness;
        lateness = null;
        if (l == null) {
            return new long[0];
        }
        long[] out = Arrays.copyOf(l, Math.min(l.length, latenessCount.get()));
        Arrays.sort(out);
        return out;
    }

    /** Stops the heartbeats, ends every stream and closes every channel. */
    @Override
    public void close() {
        timers.shutdownNow();
        try {
            timers.awaitTermination(5, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        for (SimulatedAgent a : agents) {
            a.hangUp();
        }
        for (SimulatedAgent a : agents) {
            if (a.channel != null) {
                // Its channel is shut down by hangUp; wait for it to let go of its socket.
                try {
                    a.channel.awaitTermination(1, TimeUnit.SECONDS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    return;
                }
            }
        }
    }

    /**
     * One simulated node: its channel, made once, and its current stream. Like a real agent it
     * dials again with backoff (200 ms doubling to 5 s, jittered) when a stream ends, so a
     * session lost under load is counted and recovered rather than silently gone for the rest of
     * the run.
     */
    private final class SimulatedAgent {
        final int index;
        final Node node;
        ManagedChannel channel;
        volatile Session current;
        volatile boolean closing;
        final AtomicInteger failures = new AtomicInteger();
        final AtomicBoolean settled = new AtomicBoolean();
        Runnable onSettled = () -> {
        };

        SimulatedAgent(int index, Node node) {
            this.index = index;
            this.node = node;
        }

        /** The first dial, during the ramp-up; {@code settledHook} runs once it is welcomed or has failed. */
        void dial(Runnable settledHook) {
            onSettled = settledHook;
            AgentConfig config = new AgentConfig(target, node.name(), node.site(), List.of(GPU), Path.of("."),
                    Agent.version(), null, node.token(), node.tls());
            try {
                // Callbacks run on the transport's threads: they only schedule work, never block.
                channel = Agent.channel(config).directExecutor().build();
            } catch (RuntimeException e) {
                lost(false, "cannot make a channel: " + e);
                settle();
                return;
            }
            open();
        }

        private void open() {
            if (closing) {
                return;
            }
            Session s = new Session(this);
            current = s;
            s.open();
        }

        /** A stream ended without this swarm closing it: counted, and dialled again after a backoff. */
        void ended(Session s, boolean wasWelcomed, String why) {
            lost(wasWelcomed, node.name() + ": " + why);
            settle();
            if (closing) {
                return;
            }
            int n = failures.getAndIncrement();
            long capMs = 5_000;
            long delayMs = Math.min(capMs, 200L << Math.min(n, 5));
            delayMs = delayMs / 2 + java.util.concurrent.ThreadLocalRandom.current().nextLong(delayMs / 2 + 1);
            try {
                timers.schedule(() -> {
                    if (current == s && !closing) {
                        // gRPC backs off its own reconnects up to two minutes; a real agent resets that too.
                        channel.resetConnectBackoff();
                        reconnects.incrementAndGet();
                        open();
                    }
                }, delayMs, TimeUnit.MILLISECONDS);
            } catch (java.util.concurrent.RejectedExecutionException e) {
                // The swarm is closing.
            }
        }

        void settle() {
            if (settled.compareAndSet(false, true)) {
                settledCount.incrementAndGet();
                onSettled.run();
            }
        }

        boolean connected() {
            Session s = current;
            return s != null && s.welcomed && !s.over.get();
        }

        void hangUp() {
            closing = true;
            Session s = current;
            if (s != null) {
                s.hangUp();
            }
            if (channel != null) {
                channel.shutdownNow();
            }
        }
    }

    /** One stream of a simulated agent. Its sends run on the timer threads, never two at once. */
    private final class Session implements StreamObserver<SchedulerMessage> {
        final SimulatedAgent agent;
        volatile StreamObserver<AgentMessage> out;
        volatile boolean welcomed;
        final AtomicBoolean over = new AtomicBoolean();
        volatile ScheduledFuture<?> beat;
        long intervalNanos;
        long dueNanos;

        Session(SimulatedAgent agent) {
            this.agent = agent;
        }

        void open() {
            try {
                out = NodesGrpc.newStub(agent.channel).connect(this);
                Hello.Builder hello = Hello.newBuilder().setNode(agent.node.name()).setSite(agent.node.site())
                        .setVersion(Agent.version());
                for (int g = 0; g < GPUS_PER_NODE; g++) {
                    hello.addGpus(Gpu.newBuilder().setIndex(g).setModel(GPU.model()).setMemoryMib(GPU.memoryMib()));
                }
                out.onNext(AgentMessage.newBuilder().setHello(hello).build());
            } catch (RuntimeException e) {
                end("cannot connect: " + e);
            }
        }

        @Override
        public void onNext(SchedulerMessage m) {
            if (m.hasWelcome() && !welcomed && !over.get()) {
                long interval = m.getWelcome().getHeartbeatIntervalMs();
                intervalNanos = TimeUnit.MILLISECONDS.toNanos(interval > 0 ? interval : 10_000);
                // Its slot in the interval, whenever it connected: the swarm's heartbeats are spread evenly.
                long slot = anchorNanos + intervalNanos * agent.index / agents.size();
                long now = System.nanoTime();
                dueNanos = slot + Math.floorDiv(now - slot, intervalNanos) * intervalNanos + intervalNanos;
                welcomed = true;
                agent.failures.set(0);
                Swarm.this.welcomed.incrementAndGet();
                lastWelcomeNanos.set(now);
                agent.settle();
                try {
                    beat = timers.scheduleAtFixedRate(this::beat, dueNanos - now, intervalNanos, TimeUnit.NANOSECONDS);
                } catch (java.util.concurrent.RejectedExecutionException e) {
                    // The swarm is closing.
                }
                if (over.get() && beat != null) {
                    beat.cancel(false);
                }
            }
        }

        private void beat() {
            if (over.get()) {
                return;
            }
            long now = System.nanoTime();
            long[] l = lateness;
            if (l != null) {
                int i = latenessCount.getAndIncrement();
                if (i < l.length) {
                    l[i] = Math.max(0, now - dueNanos);
                }
            }
            dueNanos += intervalNanos;
            try {
                out.onNext(AgentMessage.newBuilder().setHeartbeat(Heartbeat.newBuilder()
                        .setSentAtMs(InstantSource.system().millis())).build());
                heartbeats.incrementAndGet();
            } catch (RuntimeException e) {
                end("heartbeat send failed: " + e);
            }
        }

        @Override
        public void onError(Throwable t) {
            Status s = Status.fromThrowable(t);
            end("stream failed: " + s.getCode() + (s.getDescription() == null ? "" : " " + s.getDescription())
                    + (s.getCause() == null ? "" : " (" + s.getCause().getMessage() + ")"));
        }

        @Override
        public void onCompleted() {
            end("stream completed by the scheduler");
        }

        private void end(String why) {
            if (over.compareAndSet(false, true)) {
                ScheduledFuture<?> b = beat;
                if (b != null) {
                    b.cancel(false);
                }
                if (!agent.closing) {
                    agent.ended(this, welcomed, why);
                }
            }
        }

        void hangUp() {
            if (over.compareAndSet(false, true)) {
                ScheduledFuture<?> b = beat;
                if (b != null) {
                    b.cancel(false);
                }
                if (out != null) {
                    try {
                        out.onCompleted();
                    } catch (RuntimeException e) {
                        // Already broken: the channel's shutdown releases it.
                    }
                }
            }
        }
    }
}
