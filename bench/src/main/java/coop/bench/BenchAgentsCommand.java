package coop.bench;

import static coop.bench.BenchReport.round;

import coop.bench.swarm.ProcStat;
import coop.bench.swarm.Scrape;
import coop.bench.swarm.Swarm;
import coop.cli.CliException;
import coop.cli.Client;
import coop.cli.Durations;
import coop.cli.Identity;
import coop.cli.InitCommand;
import coop.cli.NodeIdentity;
import coop.cli.SchedulerProcess;
import coop.v1.EnrollRequest;
import coop.v1.EnrollResponse;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.NavigableMap;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code coop bench agents}: what N heartbeating agents cost a scheduler. A throwaway
 * cooperative with a {@code coop scheduler} child process (mutual TLS, synced RocksDB, on
 * 127.0.0.1), N nodes enrolled through it, and N simulated agents ({@link Swarm}) in this
 * process, each with its own certificate, heartbeating at 1 Hz. After the ramp-up it measures,
 * over --duration: the scheduler process's CPU (from /proc), the heartbeat delay as the
 * scheduler's own metric records it (an agent's send to the scheduler taking it in), how late
 * the swarm itself sent, the agents still connected at the end, and this process's CPU.
 */
@Command(name = "agents", mixinStandardHelpOptions = true,
        description = {"What N agents heartbeating over mutual TLS cost a local throwaway scheduler (a child "
                + "process): its CPU as %% of one core, the heartbeat delay (agent's send to the scheduler taking "
                + "it in: p50, p99, max, from the scheduler's coop_heartbeat_delay_seconds histogram), and the "
                + "agents still connected at the end.",
                "The simulated agents run in this process (each its own TLS connection and certificate, heartbeats "
                        + "spread evenly over the interval), so on a small machine they share its cores with the "
                        + "scheduler; their own CPU and send lateness are reported too.",
                "Needs about --agents + 1000 open files in each process (ulimit -n)."})
final class BenchAgentsCommand implements Callable<Integer> {
    /** Open files beyond one socket per agent: the JVM's jars and libraries, RocksDB, epoll, pipes. */
    static final int SPARE_FILES = 1000;
    private static final Duration START_PATIENCE = Duration.ofSeconds(120);
    private static final String DELAY = "coop_heartbeat_delay_seconds";

    @Spec
    CommandSpec spec;

    @Option(names = "--agents", defaultValue = "10000", description = "Simulated agents, one enrolled node and one "
            + "TLS connection each (default: ${DEFAULT-VALUE}).")
    int agents;

    @Option(names = "--duration", defaultValue = "60s", description = "How long to measure once every agent is "
            + "connected (default: ${DEFAULT-VALUE}). "
            + Durations.FORMS_HELP)
    String duration;

    @Option(names = "--heartbeat", defaultValue = "1s", description = "Heartbeat interval the scheduler tells "
            + "agents (default: ${DEFAULT-VALUE}). "
            + Durations.FORMS_HELP)
    String heartbeat;

    @Option(names = "--connecting", defaultValue = "64", description = "TLS handshakes and Hellos in flight during "
            + "the ramp-up (default: ${DEFAULT-VALUE}).")
    int connecting;

    @Option(names = "--scheduler-heap", description = "The scheduler JVM's -Xmx (default: 256m plus 100 KB per "
            + "agent).")
    String schedulerHeap;

    @Option(names = "--jfr", description = "Record the scheduler with Java Flight Recorder into this file "
            + "(profile settings), to find its hot spots.")
    Path jfr;

    @Option(names = "--scheduler-jvm", paramLabel = "OPTION", description = "An option for the scheduler's JVM, "
            + "after the bench's own (repeatable), such as -XX:+UseParallelGC, to compare settings.")
    List<String> schedulerJvm = new ArrayList<>();

    @Mixin
    ThrowawayFolder throwaway;

    @Mixin
    BenchOptions options;

    /** What one run measured. Delays in milliseconds; CPU as % of one core over the measured window. */
    record Result(int agents, int connectedAtEnd, double schedulerAgentsConnected, double seconds,
                  long intervalMs, double schedulerCpuPct, double benchCpuPct, double lagP50Ms, double lagP99Ms,
                  double lagMaxMs, double heartbeatsApplied, long heartbeatsSent, double lateP50Ms,
                  double lateP99Ms, double lateMaxMs, double oldestAgeS, double enrollS, double rampS,
                  double schedulerRssMb, double benchRssMb, Swarm.Losses rampLosses,
                  Swarm.Losses measuredLosses, int reconnects, String problem) {
    }

    @Override
    public Integer call() throws Exception {
        if (agents < 1) {
            throw new CliException("--agents: must be at least 1, got " + agents);
        }
        if (connecting < 1) {
            throw new CliException("--connecting: must be at least 1, got " + connecting);
        }
        Duration window = Durations.option("--duration", duration);
        Duration interval = Durations.option("--heartbeat", heartbeat);
        long limit = ProcStat.openFilesLimit();
        requireOpenFiles(agents, limit);
        String heap = schedulerHeap != null ? schedulerHeap : (256 + agents / 10) + "m";
        if (!heap.matches("[0-9]+[kKmMgG]?")) {
            throw new CliException("--scheduler-heap: expected a size such as 512m or 2g, got '" + heap + "'");
        }
        System.err.printf(Locale.ROOT, "coop bench agents: %d agents heartbeating every %s over mutual TLS, measured "
                + "for %s; scheduler -Xmx%s%s%n", agents, Durations.format(interval), Durations.format(window), heap,
                limit < 0 ? " (open-file limit unknown: not Linux?)" : "");
        Path dir = Files.createTempDirectory("coop-bench-agents");
        boolean ok = false;
        try {
            Result r = run(dir, window, interval, heap);
            print(r);
            ok = r.problem() == null;
            return ok ? 0 : 1;
        } finally {
            throwaway.cleanUp(dir, !ok, "data and the scheduler's log");
        }
    }

    /** Refuses a run the open-file limit (-1: unknown) cannot hold: one socket per agent in each process, and more. */
    static void requireOpenFiles(int agents, long limit) {
        long needed = (long) agents + SPARE_FILES;
        if (limit >= 0 && limit < needed) {
            throw new CliException("--agents " + agents + ": needs about " + needed + " open files in this process "
                    + "and as many in the scheduler, but the limit (ulimit -n) is " + limit + "; raise it (ulimit -n "
                    + needed + ", or more) or run fewer agents");
        }
    }

    private Result run(Path dir, Duration window, Duration interval, String heap) throws Exception {
        Path data = dir.resolve("data");
        Identity me = InitCommand.found(data, List.of("bench"), List.of("bench"), dir.resolve("identities"), null,
                new SecureRandom()).get("bench");
        Path metricsFile = dir.resolve("scheduler.prom");
        List<String> jvm = new ArrayList<>(List.of("-Xmx" + heap));
        if (jfr != null) {
            jvm.add("-XX:StartFlightRecording=settings=profile,filename=" + jfr.toAbsolutePath());
        }
        jvm.addAll(schedulerJvm);
        SchedulerProcess scheduler = SchedulerProcess.launch("the scheduler", data, dir.resolve("port"),
                dir.resolve("scheduler.log"), jvm, List.of("--heartbeat", Durations.format(interval), "--metrics-file",
                        metricsFile.toString(), "--metrics-every", "1s"));
        Thread reaper = new Thread(() -> scheduler.process().destroyForcibly(), "coop-bench-agents-reaper");
        Runtime.getRuntime().addShutdownHook(reaper);
        try {
            String target = scheduler.awaitServing(START_PATIENCE);
            long t0 = System.nanoTime();
            List<Swarm.Node> nodes = enroll(target, me);
            double enrollS = (System.nanoTime() - t0) / 1e9;
            try (Swarm swarm = new Swarm(target, nodes)) {
                long t1 = System.nanoTime();
                long rampFrom = swarm.now();
                Duration patience = Duration.ofSeconds(60).plusMillis(100L * agents);
                int connected = swarm.connect(connecting, patience, line -> System.err.println("  " + line));
                double rampS = (System.nanoTime() - t1) / 1e9;
                if (connected < agents) {
                    System.err.printf(Locale.ROOT, "  only %d of %d agents connected after %.0f s; first problem: "
                            + "%s%n", connected, agents, rampS, swarm.firstProblem());
                } else {
                    System.err.printf(Locale.ROOT, "  all in after %.1f s%n", rampS);
                }
                // Two intervals for the last agents' first heartbeats and the JIT to settle.
                System.err.printf(Locale.ROOT, "  settling for %s%n", Durations.format(interval.multipliedBy(2)));
                Thread.sleep(interval.multipliedBy(2).toMillis());
                long ticks = ProcStat.ticksPerSecond();
                long self = ProcessHandle.current().pid();
                Scrape before = Scrape.parse(freshScrape(metricsFile, scheduler));
                long start = System.nanoTime();
                ProcStat schedulerBefore = ProcStat.of(scheduler.pid());
                ProcStat selfBefore = ProcStat.of(self);
                long measureFrom = swarm.now();
                Swarm.Losses rampLosses = swarm.losses(rampFrom, measureFrom);
                if (rampLosses.total() > 0) {
                    System.err.printf(Locale.ROOT, "  lost during the ramp-up: %d sessions, %d dials refused or "
                            + "failed, between %.1f s and %.1f s: %s%n", rampLosses.sessions(), rampLosses.dials(),
                            rampLosses.firstAtS(), rampLosses.lastAtS(), rampLosses.reasons());
                }
                swarm.startRecording((int) Math.min(Integer.MAX_VALUE - 16,
                        (long) agents * (window.toMillis() / Math.max(1, interval.toMillis()) + 2)));
                long sentBefore = swarm.heartbeats();
                long end = start + window.toNanos();
                long nextReport = start + TimeUnit.SECONDS.toNanos(10);
                while (System.nanoTime() < end) {
                    Thread.sleep(Math.min(200, Math.max(1, (end - System.nanoTime()) / 1_000_000)));
                    if (!scheduler.process().isAlive()) {
                        throw new CliException("the scheduler exited with " + scheduler.process().exitValue() + ": "
                                + SchedulerProcess.tail(scheduler.log()));
                    }
                    if (System.nanoTime() > nextReport) {
                        nextReport += TimeUnit.SECONDS.toNanos(10);
                        Swarm.Losses so = swarm.losses(measureFrom, swarm.now());
                        System.err.printf(Locale.ROOT, "  measuring: %.0f/%d s, %d agents connected%s%n",
                                (System.nanoTime() - start) / 1e9, window.toSeconds(), swarm.connected(),
                                so.total() == 0 ? "" : ", " + so.total() + " streams lost so far: " + so.reasons());
                    }
                }
                Scrape after = Scrape.parse(freshScrape(metricsFile, scheduler));
                double seconds = (System.nanoTime() - start) / 1e9;
                ProcStat schedulerAfter = ProcStat.of(scheduler.pid());
                ProcStat selfAfter = ProcStat.of(self);
                long[] late = swarm.stopRecording();
                long sent = swarm.heartbeats() - sentBefore;
                int connectedAtEnd = swarm.connected();
                Swarm.Losses measuredLosses = swarm.losses(measureFrom, swarm.now());
                NavigableMap<Double, Double> delays = Scrape.between(before.buckets(DELAY), after.buckets(DELAY));
                String problem = problem(agents, connectedAtEnd, rampLosses, measuredLosses, swarm.firstProblem());
                return new Result(agents, connectedAtEnd, after.value("coop_agents_connected").orElse(-1), seconds,
                        interval.toMillis(), cpuPct(schedulerAfter.cpuTicks() - schedulerBefore.cpuTicks(), ticks,
                        seconds), cpuPct(selfAfter.cpuTicks() - selfBefore.cpuTicks(), ticks, seconds),
                        1000 * Scrape.quantile(0.50, delays), 1000 * Scrape.quantile(0.99, delays),
                        1000 * Scrape.highestBound(delays), Scrape.count(delays), sent, percentileMs(late, 0.50),
                        percentileMs(late, 0.99), late.length == 0 ? 0 : late[late.length - 1] / 1e6,
                        after.value("coop_heartbeat_oldest_age_seconds").orElse(-1), enrollS, rampS,
                        schedulerAfter.rssKb() / 1024.0, selfAfter.rssKb() / 1024.0, rampLosses, measuredLosses,
                        swarm.reconnects(), problem);
            }
        } finally {
            scheduler.stop();
            try {
                Runtime.getRuntime().removeShutdownHook(reaper);
            } catch (IllegalStateException e) {
                // Already shutting down: the hook runs anyway.
            }
        }
    }

    /**
     * What went wrong, or null: agents not connected at the end, or sessions lost (an agent
     * welcomed whose stream then ended: declared lost by the scheduler, or the transport broke),
     * even if they connected again. Dials refused before a Welcome and then retried successfully
     * are reported, but are no failure of the run.
     */
    static String problem(int agents, int connectedAtEnd, Swarm.Losses ramp, Swarm.Losses measured,
                          String firstProblem) {
        List<String> p = new ArrayList<>();
        if (connectedAtEnd < agents) {
            p.add((agents - connectedAtEnd) + " of " + agents + " agents not connected at the end");
        }
        if (ramp.sessions() > 0) {
            p.add(ramp.sessions() + " sessions lost during the ramp-up (" + ramp.reasons() + ")");
        }
        if (measured.total() > 0) {
            p.add(measured.sessions() + " sessions lost and " + measured.dials() + " dials failed while measuring ("
                    + measured.reasons() + ")");
        }
        if (p.isEmpty()) {
            return null;
        }
        return String.join("; ", p) + "; first problem: " + firstProblem;
    }

    /** Enrolls the nodes, 16 calls at a time (each one synced write, and a key and certificate made). */
    private List<Swarm.Node> enroll(String target, Identity me) throws InterruptedException {
        ExecutorService pool = Executors.newFixedThreadPool(16);
        long started = System.nanoTime();
        try (Client client = new Client(target, me)) {
            List<Future<EnrollResponse>> answers = new ArrayList<>();
            for (int i = 1; i <= agents; i++) {
                String name = String.format(Locale.ROOT, "n%05d", i);
                answers.add(pool.submit(() -> client.nodes().enroll(EnrollRequest.newBuilder().setName(name)
                        .setSite("bench").setAccount("bench").build())));
            }
            List<Swarm.Node> nodes = new ArrayList<>();
            long nextReport = started + TimeUnit.SECONDS.toNanos(2);
            for (Future<EnrollResponse> f : answers) {
                EnrollResponse r;
                try {
                    r = f.get();
                } catch (ExecutionException e) {
                    throw new CliException("enrolling a node failed: " + e.getCause().getMessage());
                }
                nodes.add(new Swarm.Node(r.getName(), r.getSite(), r.getToken(), NodeIdentity.tls(r)));
                if (System.nanoTime() > nextReport) {
                    nextReport = System.nanoTime() + TimeUnit.SECONDS.toNanos(2);
                    System.err.printf(Locale.ROOT, "  enrolled %d/%d nodes%n", nodes.size(), agents);
                }
            }
            System.err.printf(Locale.ROOT, "  enrolled %d nodes in %.1f s%n", nodes.size(),
                    (System.nanoTime() - started) / 1e9);
            return nodes;
        } finally {
            pool.shutdownNow();
        }
    }

    /** The scheduler's metrics file once it has been written anew (it is rewritten every second). */
    private static String freshScrape(Path file, SchedulerProcess scheduler) throws IOException, InterruptedException {
        FileTime seen = Files.exists(file) ? Files.getLastModifiedTime(file) : FileTime.fromMillis(0);
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (!Files.exists(file) || Files.getLastModifiedTime(file).equals(seen)) {
            if (System.nanoTime() > deadline) {
                throw new CliException("the scheduler did not rewrite its metrics file " + file + " in 10 s: "
                        + SchedulerProcess.tail(scheduler.log()));
            }
            Thread.sleep(10);
        }
        return Files.readString(file);
    }

    private static double cpuPct(long ticks, long perSecond, double seconds) {
        return 100.0 * ticks / perSecond / seconds;
    }

    private static double percentileMs(long[] sortedNanos, double p) {
        if (sortedNanos.length == 0) {
            return 0;
        }
        int i = (int) Math.ceil(p * sortedNanos.length) - 1;
        return sortedNanos[Math.max(0, Math.min(sortedNanos.length - 1, i))] / 1e6;
    }

    private void print(Result r) throws IOException {
        new BenchReport()
                .put("agents", r.agents())
                .put("agents_connected_at_end", r.connectedAtEnd())
                .put("scheduler_agents_connected", Math.round(r.schedulerAgentsConnected()))
                .put("scheduler_cpu_pct", round(r.schedulerCpuPct(), 1))
                .put("heartbeat_lag_p50_ms", round(r.lagP50Ms(), 2))
                .put("heartbeat_lag_p99_ms", round(r.lagP99Ms(), 2))
                .put("heartbeat_lag_max_ms", round(r.lagMaxMs(), 2))
                .put("heartbeats_applied", Math.round(r.heartbeatsApplied()))
                .put("heartbeats_sent", r.heartbeatsSent())
                .put("heartbeats_per_s", Math.round(r.heartbeatsApplied() / r.seconds()))
                .put("send_late_p50_ms", round(r.lateP50Ms(), 2))
                .put("send_late_p99_ms", round(r.lateP99Ms(), 2))
                .put("send_late_max_ms", round(r.lateMaxMs(), 2))
                .put("oldest_heartbeat_age_s", round(r.oldestAgeS(), 2))
                .put("bench_cpu_pct", round(r.benchCpuPct(), 1))
                .put("scheduler_rss_mb", Math.round(r.schedulerRssMb()))
                .put("bench_rss_mb", Math.round(r.benchRssMb()))
                .put("heartbeat_interval_ms", r.intervalMs())
                .put("seconds", round(r.seconds(), 2))
                .put("enroll_s", round(r.enrollS(), 1))
                .put("ramp_s", round(r.rampS(), 1))
                .put("sessions_lost_ramp", r.rampLosses().sessions())
                .put("dials_failed_ramp", r.rampLosses().dials())
                .put("sessions_lost_measuring", r.measuredLosses().sessions())
                .put("dials_failed_measuring", r.measuredLosses().dials())
                .put("reconnects", r.reconnects())
                .put("loss_reasons_ramp", r.rampLosses().byReason())
                .put("loss_reasons_measuring", r.measuredLosses().byReason())
                .put("problem", r.problem())
                .line("%d agents (enrolled in %.0f s, connected in %.0f s), heartbeat every %d ms, measured over %.1f "
                        + "s: %d connected at the end (the scheduler counts %d)", r.agents(), r.enrollS(), r.rampS(),
                        r.intervalMs(), r.seconds(), r.connectedAtEnd(), Math.round(r.schedulerAgentsConnected()))
                .line("scheduler CPU: %.1f %% of one core; RSS %.0f MB", r.schedulerCpuPct(), r.schedulerRssMb())
                .line("heartbeat lag (agent's send to the scheduler taking it in, its histogram): p50 %.2f ms, p99 "
                        + "%.2f ms, max <= %.2f ms; %.0f applied (%.0f/s), %d sent", r.lagP50Ms(), r.lagP99Ms(),
                        r.lagMaxMs(), r.heartbeatsApplied(), r.heartbeatsApplied() / r.seconds(), r.heartbeatsSent())
                .line("oldest last heartbeat at the end: %.2f s ago", r.oldestAgeS())
                .line("streams lost: during the ramp-up %d sessions and %d dials, while measuring %d sessions and %d "
                        + "dials; %d dialled again%s", r.rampLosses().sessions(), r.rampLosses().dials(),
                        r.measuredLosses().sessions(), r.measuredLosses().dials(), r.reconnects(),
                        r.rampLosses().total() + r.measuredLosses().total() == 0 ? ""
                                : " (ramp-up: " + r.rampLosses().reasons() + "; measuring: "
                                + r.measuredLosses().reasons() + ")")
                .line("bench (the simulated agents, same machine): CPU %.1f %% of one core, RSS %.0f MB; sends late "
                        + "by p50 %.2f ms, p99 %.2f ms, max %.2f ms", r.benchCpuPct(), r.benchRssMb(), r.lateP50Ms(),
                        r.lateP99Ms(), r.lateMaxMs())
                .print(spec.commandLine().getOut(), options.json);
        if (r.problem() != null) {
            spec.commandLine().getErr().println("coop bench agents: " + r.problem());
            spec.commandLine().getErr().flush();
        }
    }
}
