package coop.scheduler;

import coop.scheduler.engine.Backup;
import coop.scheduler.engine.ClusterState;
import coop.scheduler.engine.EventLoop;
import coop.scheduler.http.DashboardServer;
import coop.scheduler.metrics.Metrics;
import coop.scheduler.notify.Notifier;
import coop.scheduler.notify.NotifyConfig;
import coop.scheduler.rpc.Services;
import coop.scheduler.rpc.Transport;
import coop.scheduler.store.Store;
import coop.scheduler.trust.Authority;
import coop.scheduler.trust.CooperativeTrust;
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
     * preemption_grace_s), whether to serve plaintext instead of mutual TLS (never by default:
     * only for a cooperative without a CA, or a test that speaks plaintext), where to serve the
     * read-only web dashboard (null: nowhere; port 0 picks a free port), whether the dashboard,
     * which has no login, shows every job's command (by default it shows none), and the folder
     * backups go under (null: backups are refused), and where job notifications go.
     */
    public record Config(Path dataDir, String host, int port, Duration heartbeatInterval, Duration preemptionGrace,
                         boolean plaintext, InetSocketAddress http, boolean httpShowsCommands, Path backupRoot,
                         NotifyConfig notifications) {
        public Config {
            notifications = notifications == null ? NotifyConfig.NONE : notifications;
        }

        public Config(Path dataDir, String host, int port, Duration heartbeatInterval, Duration preemptionGrace,
                      boolean plaintext, InetSocketAddress http, boolean httpShowsCommands, Path backupRoot) {
            this(dataDir, host, port, heartbeatInterval, preemptionGrace, plaintext, http, httpShowsCommands,
                    backupRoot, NotifyConfig.NONE);
        }

        public Config(Path dataDir, String host, int port, Duration heartbeatInterval, Duration preemptionGrace,
                      boolean plaintext) {
            this(dataDir, host, port, heartbeatInterval, preemptionGrace, plaintext, null, false, null);
        }

        public Config(Path dataDir, String host, int port, Duration heartbeatInterval, Duration preemptionGrace) {
            this(dataDir, host, port, heartbeatInterval, preemptionGrace, false);
        }

        /** This configuration with the dashboard served on {@code http}. */
        public Config withHttp(InetSocketAddress http) {
            return new Config(dataDir, host, port, heartbeatInterval, preemptionGrace, plaintext, http,
                    httpShowsCommands, backupRoot, notifications);
        }

        /** This configuration with the dashboard showing every job's command to whoever reaches it. */
        public Config withHttpShowingCommands(boolean show) {
            return new Config(dataDir, host, port, heartbeatInterval, preemptionGrace, plaintext, http, show,
                    backupRoot, notifications);
        }

        /** This configuration with backups taken under {@code root}. */
        public Config withBackupRoot(Path root) {
            return new Config(dataDir, host, port, heartbeatInterval, preemptionGrace, plaintext, http,
                    httpShowsCommands, root, notifications);
        }

        /** This configuration with job notifications sent as {@code sinks} says. */
        public Config withNotify(NotifyConfig sinks) {
            return new Config(dataDir, host, port, heartbeatInterval, preemptionGrace, plaintext, http,
                    httpShowsCommands, backupRoot, sinks);
        }

        public static Config of(Path dataDir, String host, int port) {
            return new Config(dataDir, host, port, Duration.ofSeconds(5), null);
        }
    }

    /** Each HTTP/2 stream's and connection's receive window, in bytes. */
    public static final int FLOW_CONTROL_WINDOW = 4 << 20;

    private final Store store;
    private final EventLoop loop;
    private final Server server;
    private final DashboardServer http;
    private final String dashboardUrl;
    private final Metrics metrics;
    private final Transport transport;
    private final Notifier notifier;
    /** Whether closing closes the store too (not on a replica, whose store outlives each term it leads). */
    private final boolean ownsStore;

    private SchedulerServer(Store store, boolean ownsStore, EventLoop loop, Server server, DashboardServer http,
                            String dashboardUrl, Metrics metrics, Transport transport, Notifier notifier) {
        this.ownsStore = ownsStore;
        this.transport = transport;
        this.notifier = notifier;
        this.store = store;
        this.loop = loop;
        this.server = server;
        this.http = http;
        this.dashboardUrl = dashboardUrl;
        this.metrics = metrics;
    }

    /** The file, in the data folder's {@code tls/}, that holds the Ed25519 key the scheduler signs ledger heads with. */
    public static final String LEDGER_KEY = "ledger-signing.key";

    /**
     * The scheduler's own Ed25519 key for signing ledger heads (receipts), made at the first start
     * and kept owner-only beside its other keys in {@code tls/}, which backups copy. A data folder
     * moved without it gets a new key, which the ledger announces anew; receipts signed before
     * check with the key announced before them.
     */
    static java.security.KeyPair ledgerKey(java.nio.file.Path dataDir) {
        java.nio.file.Path file = dataDir.resolve(Authority.FOLDER).resolve(LEDGER_KEY);
        try {
            // Two lines: the private key (base64 PKCS#8), then its public key (base64 X.509).
            if (java.nio.file.Files.exists(file)) {
                java.util.List<String> lines = java.nio.file.Files.readAllLines(file);
                if (lines.size() < 2) {
                    throw new IllegalStateException(file + " must hold the private key and then the public key");
                }
                return new java.security.KeyPair(coop.scheduler.ledger.Keys.publicKey(lines.get(1).strip()),
                        coop.scheduler.ledger.Keys.privateKey(lines.get(0).strip()));
            }
            java.security.KeyPair pair = coop.scheduler.ledger.Keys.generate();
            Authority.writePrivate(file, (coop.scheduler.ledger.Keys.encode(pair.getPrivate()) + "\n"
                    + coop.scheduler.ledger.Keys.encode(pair.getPublic()) + "\n")
                    .getBytes(java.nio.charset.StandardCharsets.US_ASCII));
            return pair;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read or write the ledger signing key " + file, e);
        }
    }

    public static SchedulerServer start(Config config, InstantSource clock) {
        if (!Store.exists(config.dataDir())) {
            throw new IllegalStateException("no cooperative in " + config.dataDir()
                    + ": run `coop init --data " + config.dataDir() + " ...` first");
        }
        return start(config, clock, Store.open(config.dataDir()), true, null);
    }

    /**
     * Starts on a store that is already open, as the leading replica does: the state is what the
     * store holds now, and closing leaves the store open unless {@code ownsStore}.
     */
    static SchedulerServer start(Config config, InstantSource clock, Store store, boolean ownsStore,
                                 java.util.function.Supplier<java.util.List<coop.scheduler.replica.Replica.Status>>
                                         replicas) {
        Transport transport = null;
        Notifier notifier = null;
        try {
            ClusterState state = ClusterState.recover(store, clock, config.heartbeatInterval(), config.preemptionGrace());
            EventLoop loop = new EventLoop(state, store, Duration.ofMillis(250));
            Metrics metrics = new Metrics(clock, config.heartbeatInterval());
            loop.observe(metrics);
            state.notifyReach(config.notifications().reach());
            notifier = Notifier.start(config.notifications());
            notifier.register(metrics.registry());
            loop.onJobEvents(notifier);
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
                // Mutual TLS: every caller shows a certificate the cooperative's CA signed, and one
                // that does not gets an alert that says so (CooperativeTrust).
                builder = NettyServerBuilder.forAddress(address, TlsServerCredentials.newBuilder()
                        .keyManager(authority.schedulerCertificate().toFile(), authority.schedulerKey().toFile())
                        .trustManager(CooperativeTrust.of(Authority.certificate(authority.caPem())))
                        .clientAuth(TlsServerCredentials.ClientAuth.REQUIRE)
                        .build());
            }
            // Calls run on Netty's I/O threads: no handler blocks (each queues a command for the
            // event loop, or hands slow work to an executor of its own), so a hop to a thread pool
            // and back per call would only cost CPU.
            builder.directExecutor();
            transport = Transport.on(builder);
            // A fixed window instead of gRPC's auto-tuning, whose bandwidth probe sends a PING (and
            // reads its ack) after nearly every request read: for calls of a few hundred bytes that
            // was a frame each way per call. The window is large enough for log tails and backups.
            builder.flowControlWindow(FLOW_CONTROL_WINDOW);
            Backup backups = config.backupRoot() == null ? Backup.refused()
                    : Backup.under(config.backupRoot(), config.dataDir());
            Services.register(builder, loop, store, state.tokenDigests(), state.enrolledNodes(), authority, metrics,
                    backups, replicas);
            Server server = builder.build();
            java.security.KeyPair signing = ledgerKey(config.dataDir());
            loop.start();
            // Announced before the first call is answered, so every receipt checks from the ledger.
            String announced = coop.scheduler.ledger.Keys.encode(signing.getPublic());
            if (loop.call((s, tx) -> s.announceSchedulerKey(announced, tx)).join()) {
                log.info("ledger heads are signed with a new key, announced in the ledger: {}", announced);
            }
            loop.signHeads(signing);
            server.start();
            log.info("scheduler listening on {}:{} ({}) with data in {}", config.host(), server.getPort(),
                    config.plaintext() ? "plaintext" : "mutual TLS", config.dataDir());
            DashboardServer http = null;
            String url = null;
            if (config.http() != null) {
                try {
                    http = DashboardServer.start(config.http(), loop, store, clock, metrics::scrape,
                            config.httpShowsCommands());
                } catch (RuntimeException e) {
                    server.shutdownNow();
                    loop.close();
                    transport.close();
                    notifier.close();
                    throw e;
                }
                url = dashboardUrl(config.http().getHostString(), http.port());
                log.info("dashboard at {}", url);
            }
            if (config.notifications().sendsAnything()) {
                log.info("job notifications: {}", config.notifications().describe());
            }
            return new SchedulerServer(store, ownsStore, loop, server, http, url, metrics, transport, notifier);
        } catch (IOException e) {
            if (ownsStore) {
                store.close();
            }
            if (notifier != null) {
                notifier.close();
            }
            if (transport != null) {
                transport.close();
            }
            throw new UncheckedIOException("cannot listen on " + config.host() + ":" + config.port(), e);
        } catch (RuntimeException e) {
            if (ownsStore) {
                store.close();
            }
            if (notifier != null) {
                notifier.close();
            }
            if (transport != null) {
                transport.close();
            }
            throw e;
        }
    }

    public int port() {
        return server.getPort();
    }

    /** The dashboard's port, or -1 when the scheduler serves none. */
    public int httpPort() {
        return http == null ? -1 : http.port();
    }

    /** The dashboard's address for a browser, such as {@code http://127.0.0.1:8080/}; null when none is served. */
    public String dashboardUrl() {
        return dashboardUrl;
    }

    private static String dashboardUrl(String host, int port) {
        String h = host.contains(":") ? "[" + host + "]" : host;
        return "http://" + h + ":" + port + "/";
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

    /**
     * Completes when the event loop stops: on {@link #close()}, or when a failure it could not
     * write safely stopped it (the process should then exit, and a restart recovers from disk).
     */
    public java.util.concurrent.CompletableFuture<Void> loopStopped() {
        return loop.stopped();
    }

    public void awaitTermination() throws InterruptedException {
        server.awaitTermination();
    }

    @Override
    public void close() {
        if (http != null) {
            // First, so nothing reads the store while it closes.
            http.close();
        }
        server.shutdown();
        try {
            if (!server.awaitTermination(5, TimeUnit.SECONDS)) {
                server.shutdownNow();
                server.awaitTermination(5, TimeUnit.SECONDS);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        transport.close();
        loop.close();
        // After the loop: the events of its last turn are queued by then, and stop with it.
        notifier.close();
        if (ownsStore) {
            store.close();
        }
    }
}
