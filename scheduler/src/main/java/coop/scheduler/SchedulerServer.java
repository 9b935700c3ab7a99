package coop.scheduler;

import coop.scheduler.engine.ClusterState;
import coop.scheduler.engine.EventLoop;
import coop.scheduler.rpc.Services;
import coop.scheduler.store.Store;
import io.grpc.Server;
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
     * heartbeat, and how long a preempted attempt has between SIGTERM and SIGKILL (null: the policy's
     * preemption_grace_s).
     */
    public record Config(Path dataDir, String host, int port, Duration heartbeatInterval, Duration preemptionGrace) {
        public static Config of(Path dataDir, String host, int port) {
            return new Config(dataDir, host, port, Duration.ofSeconds(5), null);
        }
    }

    private final Store store;
    private final EventLoop loop;
    private final Server server;

    private SchedulerServer(Store store, EventLoop loop, Server server) {
        this.store = store;
        this.loop = loop;
        this.server = server;
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
            NettyServerBuilder builder = NettyServerBuilder.forAddress(new InetSocketAddress(config.host(), config.port()));
            Services.register(builder, loop, store, state.tokenDigests());
            Server server = builder.build();
            loop.start();
            server.start();
            log.info("scheduler listening on {}:{} with data in {}", config.host(), server.getPort(), config.dataDir());
            return new SchedulerServer(store, loop, server);
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

    /** The store's synced batches and records written so far. */
    public Store.Counters storeCounters() {
        return store.counters();
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
