package coop.cli;

import coop.scheduler.SchedulerServer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.InstantSource;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code coop scheduler}: runs the scheduler on a data directory until Ctrl-C. */
@Command(name = "scheduler", mixinStandardHelpOptions = true,
        description = "Run the scheduler: recover the cooperative from --data and serve gRPC on --listen until "
                + "interrupted.")
public final class SchedulerCommand implements Callable<Integer> {

    @Spec
    CommandSpec spec;

    @Option(names = "--data", required = true, description = "Data directory made by `coop init`.")
    Path data;

    @Option(names = "--listen", defaultValue = "127.0.0.1:7070",
            description = "HOST:PORT to listen on; port 0 picks a free one (default: ${DEFAULT-VALUE}).")
    String listen;

    @Option(names = "--heartbeat", defaultValue = "5s",
            description = "Heartbeat interval agents are told to use; a node is lost after 3 missed "
                    + "(default: ${DEFAULT-VALUE}). "
                    + Durations.FORMS_HELP)
    String heartbeat;

    @Option(names = "--preemption-grace",
            description = "Time a preempted attempt gets between SIGTERM (checkpoint now) and SIGKILL, "
                    + "overriding the policy's preemption_grace_s (default: the policy's, 60s at founding). "
                    + Durations.FORMS_HELP)
    String grace;

    @Option(names = "--replica", paramLabel = "ID",
            description = "Run as replica ID of a cooperative founded with coop init --replicas: take part in its Raft "
                    + "group on the address the founding gave ID, and serve clients (on --listen) only while this "
                    + "replica leads.")
    String replica;

    @Option(names = "--port-file", description = "Write the port listened on to this file once serving.")
    Path portFile;

    @Option(names = "--metrics-file", description = "Write the Prometheus metrics to this file every "
            + "--metrics-every, replacing it atomically (for node_exporter's textfile collector: name it *.prom).")
    Path metricsFile;

    @Option(names = "--metrics-every", defaultValue = "15s", description = "How often to write --metrics-file "
            + "(default: ${DEFAULT-VALUE}). "
            + Durations.FORMS_HELP)
    String metricsEvery;

    @Option(names = "--insecure-plaintext",
            description = "Serve without TLS: calls are neither encrypted nor bound to certificates. By default the "
                    + "scheduler requires mutual TLS with certificates from the cooperative's CA (DATA/tls).")
    boolean plaintext;

    @Option(names = "--http", paramLabel = "HOST:PORT",
            description = "Also serve the read-only web dashboard, its JSON API (/api/v1/) and /metrics on HOST:PORT, "
                    + "such as 127.0.0.1:8080; port 0 picks a free one (default: no dashboard). It needs no login: "
                    + "keep it on loopback unless everyone who can reach it may see the cluster.")
    String http;

    @Option(names = "--http-show-commands",
            description = "Show every job's command in the dashboard's JSON API to whoever can reach it. By default "
                    + "it shows none: a job's command belongs to its account, and the dashboard has no login.")
    boolean httpShowCommands;

    @Option(names = "--backup-root", paramLabel = "DIR",
            description = "The folder `coop backup --to NAME` writes backups under, made owner-only if missing; "
                    + "it must lie outside --data. Backups hold the CA's key: without this option they are refused.")
    Path backupRoot;

    @Option(names = "--webhook", paramLabel = "URL",
            description = "POST every job event (BEGIN, END, FAIL, PREEMPT, REQUEUE) of every job to this http(s) URL "
                    + "as JSON: the operators' own hook, such as a chat bridge (default: none).")
    String webhook;

    @Option(names = "--smtp", paramLabel = "HOST:PORT",
            description = "Mail server for members' email notifications (coop submit --notify-to ADDRESS); without "
                    + "it, email addresses are refused at submit.")
    String smtp;

    @Option(names = "--smtp-from", paramLabel = "ADDRESS", defaultValue = "coop@localhost",
            description = "The sender of notification mail (default: ${DEFAULT-VALUE}).")
    String smtpFrom;

    @Option(names = "--notify-hosts", paramLabel = "HOST[,HOST...]", split = ",",
            description = "Hosts members' notification URLs may name (coop submit --notify-to URL); the scheduler "
                    + "calls no other, so that a member cannot make it call into the operator's network "
                    + "(default: none).")
    java.util.List<String> notifyHosts = new java.util.ArrayList<>();

    @Option(names = "--notify-tries", paramLabel = "N", defaultValue = "5",
            description = "Tries per notification before it is given up with a log line (default: ${DEFAULT-VALUE}).")
    int notifyTries;

    @Option(names = "--notify-backoff", paramLabel = "DURATION", defaultValue = "1s",
            description = "Wait before the first retry, doubled after each (default: ${DEFAULT-VALUE}).")
    String notifyBackoff;

    @Option(names = "--notify-deadline", paramLabel = "DURATION", defaultValue = "15m",
            description = "No retry later than this after the event (default: ${DEFAULT-VALUE}).")
    String notifyDeadline;

    @Option(names = "--notify-timeout", paramLabel = "DURATION", defaultValue = "10s",
            description = "Connect and reply timeout of each try (default: ${DEFAULT-VALUE}).")
    String notifyTimeout;

    /** Where notifications go and how they are paced, from the options. */
    coop.scheduler.notify.NotifyConfig notifications() {
        var n = coop.scheduler.notify.NotifyConfig.NONE;
        if (webhook != null) {
            try {
                if (!(coop.scheduler.domain.NotifyTarget.parse("--webhook", webhook)
                        instanceof coop.scheduler.domain.NotifyTarget.Url)) {
                    throw new CliException("--webhook: give an http(s) URL, got '" + webhook + "'");
                }
            } catch (coop.scheduler.domain.CoopException e) {
                throw new CliException(e.getMessage());
            }
            n = n.withWebhook(webhook);
        }
        if (smtp != null) {
            int colon = smtp.lastIndexOf(':');
            int port;
            try {
                port = colon < 1 ? -1 : Integer.parseInt(smtp.substring(colon + 1));
            } catch (NumberFormatException e) {
                port = -1;
            }
            if (port < 1 || port > 65535) {
                throw new CliException("--smtp: expected HOST:PORT such as 127.0.0.1:25, got '" + smtp + "'");
            }
            if (!coop.scheduler.domain.NotifyTarget.EMAIL.matcher(smtpFrom).matches()) {
                throw new CliException("--smtp-from: '" + smtpFrom + "' is not an email address");
            }
            n = n.withSmtp(smtp.substring(0, colon), port, smtpFrom);
        }
        java.util.Set<String> hosts = new java.util.TreeSet<>();
        for (String h : notifyHosts) {
            if (h.isBlank()) {
                throw new CliException("--notify-hosts: an empty host in '" + String.join(",", notifyHosts) + "'");
            }
            hosts.add(h.strip());
        }
        if (notifyTries < 1) {
            throw new CliException("--notify-tries: must be 1 or more, got " + notifyTries);
        }
        return n.withHosts(hosts).withRetries(notifyTries, Durations.option("--notify-backoff", notifyBackoff),
                Durations.option("--notify-deadline", notifyDeadline),
                Durations.option("--notify-timeout", notifyTimeout));
    }

    @Override
    public Integer call() throws Exception {
        int colon = listen.lastIndexOf(':');
        if (colon < 1) {
            throw new CliException("--listen: expected HOST:PORT, got '" + listen + "'");
        }
        int port;
        try {
            port = Integer.parseInt(listen.substring(colon + 1));
        } catch (NumberFormatException e) {
            throw new CliException("--listen: port must be a number, got '" + listen.substring(colon + 1) + "'");
        }
        Duration interval = Durations.option("--heartbeat", heartbeat);
        Duration preemptionGrace = grace == null ? null : Durations.option("--preemption-grace", grace);
        String host = listen.substring(0, colon);
        Duration metricsPace = Durations.option("--metrics-every", metricsEvery);
        if (metricsFile != null) {
            MetricsFile.requireFolder(metricsFile);
        }
        quietLeakDetector();
        var config = new SchedulerServer.Config(data, host, port, interval, preemptionGrace, plaintext);
        if (http != null) {
            config = config.withHttp(httpAddress(http)).withHttpShowingCommands(httpShowCommands);
        } else if (httpShowCommands) {
            throw new CliException("--http-show-commands: the dashboard is served only with --http HOST:PORT");
        }
        if (backupRoot != null) {
            config = config.withBackupRoot(backupRoot);
        }
        config = config.withNotify(notifications());
        if (replica != null) {
            return replicated(config);
        }
        SchedulerServer server = SchedulerServer.start(config, InstantSource.system());
        if (metricsFile != null) {
            MetricsFile.start(server.metrics()::scrape, metricsFile, metricsPace);
        }
        CountDownLatch stopped = new CountDownLatch(1);
        java.util.concurrent.atomic.AtomicBoolean interrupted = new java.util.concurrent.atomic.AtomicBoolean();
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            interrupted.set(true);
            server.close();
            stopped.countDown();
        }, "coop-scheduler-shutdown"));
        if (portFile != null) {
            Path tmp = portFile.resolveSibling(portFile.getFileName() + ".tmp");
            Files.writeString(tmp, Integer.toString(server.port()));
            Files.move(tmp, portFile, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
        }
        System.err.printf("coop scheduler listening on %s:%d (%s; data: %s)%n", host, server.port(),
                plaintext ? "plaintext" : "mutual TLS", data);
        if (server.dashboardUrl() != null) {
            System.err.println("coop dashboard at " + server.dashboardUrl());
        }
        server.loopStopped().thenRun(stopped::countDown);
        stopped.await();
        if (interrupted.get()) {
            return 0;
        }
        // Not a Ctrl-C: the event loop stopped itself rather than write a state it could not vouch for.
        System.err.println("coop scheduler: the event loop stopped (see the log above); exiting so that a restart "
                + "recovers the acknowledged state from " + data);
        return 1;
    }

    /**
     * Runs as a replica until Ctrl-C: follows, and serves while it leads (writing --port-file each
     * time it starts serving). Exits 1 if this replica refused a committed batch, having stopped.
     */
    private int replicated(SchedulerServer.Config config) throws InterruptedException, java.io.IOException {
        // Raft logs each election, vote and retried append at info: only its warnings, unless asked otherwise.
        if (System.getProperty("org.slf4j.simpleLogger.log.org.apache.ratis") == null) {
            System.setProperty("org.slf4j.simpleLogger.log.org.apache.ratis", "warn");
        }
        coop.scheduler.ReplicatedServer r;
        try {
            r = coop.scheduler.ReplicatedServer.start(config, replica, InstantSource.system());
        } catch (IllegalArgumentException e) {
            throw new CliException(e.getMessage(), e);
        }
        CountDownLatch stopped = new CountDownLatch(1);
        java.util.concurrent.atomic.AtomicBoolean interrupted = new java.util.concurrent.atomic.AtomicBoolean();
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            interrupted.set(true);
            r.close();
            stopped.countDown();
        }, "coop-scheduler-shutdown"));
        System.err.printf("coop scheduler: replica %s in %s; serves on %s while it leads%n", replica, data, listen);
        SchedulerServer last = null;
        while (!stopped.await(100, java.util.concurrent.TimeUnit.MILLISECONDS)) {
            String refused = r.replica().stateMachine().refused();
            if (refused != null) {
                System.err.println("coop scheduler: replica " + replica + " refused a committed batch and stopped: "
                        + refused);
                return 1;
            }
            SchedulerServer now = r.serving();
            if (now != null && now != last) {
                if (portFile != null) {
                    Path tmp = portFile.resolveSibling(portFile.getFileName() + ".tmp");
                    Files.writeString(tmp, Integer.toString(now.port()));
                    Files.move(tmp, portFile, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
                }
                System.err.printf("coop scheduler: replica %s leads; listening on %s:%d%n", replica,
                        config.host(), now.port());
            } else if (now == null && last != null) {
                System.err.printf("coop scheduler: replica %s no longer leads; following%n", replica);
            }
            last = now;
        }
        return interrupted.get() ? 0 : 1;
    }

    /** {@code --http HOST:PORT}, with a warning when HOST is not a loopback address. */
    public static java.net.InetSocketAddress httpAddress(String value) {
        int colon = value.lastIndexOf(':');
        if (colon < 1) {
            throw new CliException("--http: expected HOST:PORT such as 127.0.0.1:8080, got '" + value + "'");
        }
        String host = value.substring(0, colon);
        if (host.startsWith("[") && host.endsWith("]")) {
            host = host.substring(1, host.length() - 1);
        }
        int port;
        try {
            port = Integer.parseInt(value.substring(colon + 1));
        } catch (NumberFormatException e) {
            throw new CliException("--http: port must be a number, got '" + value.substring(colon + 1) + "'");
        }
        if (port < 0 || port > 65535) {
            throw new CliException("--http: port must be between 0 and 65535, got " + port);
        }
        java.net.InetAddress address;
        try {
            address = java.net.InetAddress.getByName(host);
        } catch (java.net.UnknownHostException e) {
            throw new CliException("--http: unknown host '" + host + "'");
        }
        if (!address.isLoopbackAddress()) {
            System.err.println("warning: --http " + value + " is not a loopback address: anyone who can reach it "
                    + "sees the cluster, its jobs and its votes (the dashboard has no login)");
        }
        return new java.net.InetSocketAddress(address, port);
    }


    /** The shaded Netty's name for the leak detector's level, which an operator may still set with -D. */
    static final String LEAK_DETECTION = "io.grpc.netty.shaded.io.netty.leakDetection.level";

    /**
     * Turns Netty's buffer leak detector off in the scheduler process unless -D names a level. By
     * default it tracks one buffer in 128 with a stack trace taken at allocation and at release: at
     * 10,000 agents heartbeating that is over a hundred stack traces a second, for a debugging aid.
     */
    static void quietLeakDetector() {
        if (System.getProperty(LEAK_DETECTION) == null) {
            io.grpc.netty.shaded.io.netty.util.ResourceLeakDetector.setLevel(
                    io.grpc.netty.shaded.io.netty.util.ResourceLeakDetector.Level.DISABLED);
        }
    }
}
