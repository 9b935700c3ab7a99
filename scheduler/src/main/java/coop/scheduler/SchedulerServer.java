package coop.scheduler;

import coop.scheduler.engine.ClusterState;
import coop.scheduler.engine.EventLoop;
import coop.scheduler.metrics.Metrics;
import coop.scheduler.rpc.Services;
import coop.scheduler.store.Store;
import coop.scheduler.trust.Authority;
import io.grpc.Server;
import io.grpc.TlsServerCredentials;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.time.InstantSource;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A running scheduler: the store recovered from the data directory, the event loop, and the
 * gRPC server on a real socket. {@link #close()} stops taking calls, drains the loop and
 * closes the store.
 */
public final class SchedulerServer implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(SchedulerServer.class);

    /**
     * Where the scheduler keeps its data and listens (port 0 picks a free port), how often agents
     * heartbeat, how long a preempted attempt has between SIGTERM and SIGKILL (null: the policy's
     * preemption_grace_s), and whether to serve plaintext instead of mutual TLS (never by default:
     * only for a cooperative without a CA, or a test that speaks plaintext).
     */
    public record Config(Path dataDir, String host, int port, Duration heartbeatInterval, Duration preemptionGrace,
                         boolean plaintext) {
        public Config(Path dataDir, String host, int port, Duration heartbeatInterval, Duration preemptionGrace) {
            this(dataDir, host, port, heartbeatInterval, preemptionGrace, false);
        }

        public static Config of(Path dataDir, String host, int port) {
            return new Config(dataDir, host, port, Duration.ofSeconds(5), null);
        }
    }

    private final Store store;
    private final EventLoop loop;
    private final Server server;
    private final Metrics metrics;

    private SchedulerServer(Store store, EventLoop loop, Server server, Metrics metrics) {
        this.store = store;
        this.loop = loop;
        this.server = server;
        this.metrics = metrics;
    }

    public static SchedulerServer start(Config config, InstantSource clock) {
        if (!Store.exists(config.dataDir())) {
            throw new IllegalStateException("no cooperative in " + config.dataDir()
                    + ": run `coop init --data " + config.dataDir() + " ...` first");
        }
        Store store = Store.open(config.dataDir());
        try {
            ClusterState state = new ClusterState(store, clock, config.heartbeatInterval(), config.preemptionGrace());
            EventLoop loop = new EventLoop(state, store, Duration.ofMillis(250));
            Metrics metrics = new Metrics(clock, config.heartbeatInterval());
            loop.observe(metrics);
            store.onCommit(metrics);
            InetSocketAddress address = new InetSocketAddress(config.host(), config.port());
            Authority authority = null;
            NettyServerBuilder builder;
            if (config.plaintext()) {
                builder = NettyServerBuilder.forAddress(address);
                log.warn("serving plaintext: calls are neither encrypted nor bound to certificates");
            } else {
                if (!Authority.exists(config.dataDir())) {
                    throw new IllegalStateException("no certificate authority in " + config.dataDir().resolve(
                            Authority.FOLDER) + ", so mutual TLS cannot be required (a cooperative founded before "
                            + "coop had TLS?); start with --insecure-plaintext to serve it without TLS");
                }
                authority = Authority.load(config.dataDir(), new java.security.SecureRandom());
                // Mutual TLS: every caller shows a certificate the cooperative's CA signed.
                builder = NettyServerBuilder.forAddress(address, TlsServerCredentials.newBuilder()
                        .keyManager(authority.schedulerCertificate().toFile(), authority.schedulerKey().toFile())
                        .trustManager(authority.caCertificate().toFile())
                        .clientAuth(TlsServerCredentials.ClientAuth.REQUIRE)
                        .build());
            }
            Services.register(builder, loop, store, state.tokenDigests(), state.enrolledNodes(), authority, metrics);
            Server server = builder.build();
            loop.start();
            server.start();
            log.info("scheduler listening on {}:{} ({}) with data in {}", config.host(), server.getPort(),
                    config.plaintext() ? "plaintext" : "mutual TLS", config.dataDir());
            return new SchedulerServer(store, loop, server, metrics);
        } catch (IOException e) {
            store.close();
            throw new UncheckedIOException("cannot listen on " + config.host() + ":" + config.port(), e);
        } catch (RuntimeException e) {
            store.close();
            throw e;
        }
    }

    public int port() {
        return server.getPort();
    }

    /** The scheduler's metrics; {@code metrics()::scrape} serves {@code /metrics}. */
    public Metrics metrics() {
        return metrics;
    }

    /** The store's synced batches and records written so far. */
    public Store.Counters storeCounters() {
        return store.counters();
    }

    /** Whether the gRPC server still serves and the event loop still applies commands. */
    public boolean isServing() {
        return !server.isShutdown() && loop.isRunning();
    }

    public void awaitTermination() throws InterruptedException {
        server.awaitTermination();
    }

    @Override
    public void close() {
        server.shutdown();
        try {
            if (!server.awaitTermination(5, TimeUnit.SECONDS)) {
                server.shutdownNow();
                server.awaitTermination(5, TimeUnit.SECONDS);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        loop.close();
        store.close();
    }
}
