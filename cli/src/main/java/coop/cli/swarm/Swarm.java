package coop.cli.swarm;

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
    private final AtomicInteger ended = new AtomicInteger();
    private final AtomicReference<String> firstProblem = new AtomicReference<>();
    private final AtomicLong heartbeats = new AtomicLong();
    private volatile long[] lateness;
    private final AtomicInteger latenessCount = new AtomicInteger();

    /** @param target the scheduler's HOST:PORT */
    public Swarm(String target, List<Node> nodes) {
        this.target = target;
        for (int i = 0; i < nodes.size(); i++) {
            agents.add(new SimulatedAgent(i, nodes.get(i)));
        }
    }

    /**
     * Connects every agent, at most {@code inFlight} handshakes at a time, and waits until each has
     * been welcomed or has failed, or {@code patience} is up. Reports progress about once a second.
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
        while (welcomed.get() + ended.get() < agents.size() && System.nanoTime() < deadline) {
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
        return String.format(java.util.Locale.ROOT, "connected %d/%d agents over mutual TLS in %.0f s (%.0f/s)%s",
                connected(), agents.size(), s, welcomed.get() / Math.max(s, 1e-3),
                ended.get() > 0 ? ", " + ended.get() + " failed or closed" : "");
    }

    /** Agents welcomed whose stream is still open. */
    public int connected() {
        int n = 0;
        for (SimulatedAgent a : agents) {
            if (a.welcomed && !a.over.get()) {
                n++;
            }
        }
        return n;
    }

    /** The first reason an agent's stream failed or closed, or null. */
    public String firstProblem() {
        return firstProblem.get();
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
                try {
                    a.channel.awaitTermination(1, TimeUnit.SECONDS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    return;
                }
            }
        }
    }

    /** One simulated node's session. Its sends run on the timer threads, never two at once. */
    private final class SimulatedAgent implements StreamObserver<SchedulerMessage> {
        final int index;
        final Node node;
        ManagedChannel channel;
        volatile StreamObserver<AgentMessage> out;
        volatile boolean welcomed;
        final AtomicBoolean over = new AtomicBoolean();
        final AtomicBoolean settled = new AtomicBoolean();
        Runnable onSettled = () -> {
        };
        ScheduledFuture<?> beat;
        long intervalNanos;
        long dueNanos;

        SimulatedAgent(int index, Node node) {
            this.index = index;
            this.node = node;
        }

        void dial(Runnable settledHook) {
            onSettled = settledHook;
            AgentConfig config = new AgentConfig(target, node.name(), node.site(), List.of(GPU), Path.of("."),
                    Agent.version(), null, node.token(), node.tls());
            try {
                // Callbacks run on the transport's threads: they only schedule work, never block.
                channel = Agent.channel(config).directExecutor().build();
                out = NodesGrpc.newStub(channel).connect(this);
                Hello.Builder hello = Hello.newBuilder().setNode(node.name()).setSite(node.site())
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
                long slot = anchorNanos + intervalNanos * index / agents.size();
                long now = System.nanoTime();
                dueNanos = slot + Math.floorDiv(now - slot, intervalNanos) * intervalNanos + intervalNanos;
                welcomed = true;
                Swarm.this.welcomed.incrementAndGet();
                settle();
                try {
                    beat = timers.scheduleAtFixedRate(this::beat, dueNanos - now, intervalNanos, TimeUnit.NANOSECONDS);
                } catch (java.util.concurrent.RejectedExecutionException e) {
                    // The swarm is closing.
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
                ended.incrementAndGet();
                firstProblem.compareAndSet(null, node.name() + ": " + why);
                if (beat != null) {
                    beat.cancel(false);
                }
                settle();
            }
        }

        private void settle() {
            if (settled.compareAndSet(false, true)) {
                onSettled.run();
            }
        }

        void hangUp() {
            if (over.compareAndSet(false, true) && out != null) {
                try {
                    out.onCompleted();
                } catch (RuntimeException e) {
                    // Already broken: the channel's shutdown below releases it.
                }
            }
            if (channel != null) {
                channel.shutdownNow();
            }
        }
    }
}
