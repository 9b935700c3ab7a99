package coop.bench;

import com.fasterxml.jackson.databind.node.ObjectNode;
import coop.bench.replay.Horizon;
import coop.bench.replay.Jitter;
import coop.bench.replay.LiveRecord;
import coop.bench.replay.LiveReplay;
import coop.cli.CliException;
import coop.cli.Durations;
import coop.cli.SimulateCommand;
import coop.scheduler.allocation.Allocator;
import coop.scheduler.sim.AccountReport;
import coop.scheduler.sim.FairShares;
import coop.scheduler.sim.FairTarget;
import coop.scheduler.sim.Measures;
import coop.scheduler.sim.LostWork;
import coop.scheduler.sim.PolicyReport;
import coop.scheduler.sim.Shares;
import coop.scheduler.sim.SimulatedCluster;
import coop.scheduler.sim.SimulationOptions;
import coop.scheduler.sim.SimulationResult;
import coop.scheduler.sim.Simulator;
import coop.scheduler.sim.Trace;
import coop.scheduler.sim.TraceJob;
import coop.scheduler.sim.Window;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import java.util.stream.Stream;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code coop bench replay}: replays a trace through a real cluster on this machine (scheduler,
 * one agent per node on simulated GPUs, jobs that sleep for their run time) in real time, and
 * the same trace through the simulator, and reports both with the simulator's measures, side by
 * side, with the difference per account. For the trace's compressed Philly slice it also shows
 * what a real Slurm achieved on it (from the trace's README).
 */
@Command(name = "replay", mixinStandardHelpOptions = true,
        description = {"Replay a trace (CSV: submit_s,account,gpus,duration_s,gpu_model) in real time through a real "
                + "cluster on this machine: a scheduler, one agent per node on simulated GPUs, and jobs that sleep "
                + "for their run time, submitted at their trace times.",
                "Reports the simulator's measures (voted share, fair target, achieved share, utilization, Jain's "
                        + "index, waits, preemptions and the GPU time they lost) for the live run and for the "
                        + "simulator on the same jobs, nodes and shares, measured from the first to the last submit, "
                        + "and the difference per account. The live run stops at the last submit and cancels what "
                        + "is left."})
public final class BenchReplayCommand implements Callable<Integer> {

    /** The voted shares given with the compressed Philly slice in shared/traces/README.md. */
    static final List<String> README_SHARES = List.of("vc-b436b2=25", "vc-ee9e8c=15", "vc-6c71a0=15", "vc-0e4a51=10",
            "vc-6214e9=5", "vc-7f04ca=5", "vc-2869ce=5", "vc-e13805=5", "vc-ed69ec=5", "vc-103959=4", "vc-11cb48=2",
            "vc-925e2b=1", "vc-51b7ef=1", "vc-23dbec=1", "vc-795a4c=1");
    /** The slice the Slurm figures are for, and those figures (trace README: two runs of Slurm 22.05). */
    static final String SLURM_TRACE = "philly-150h-F360.csv";
    static final String SLURM_NODES = "11x8";
    static final double SLURM_WORST_GAP_PP = 11.3;
    static final double SLURM_UTILIZATION = 0.939;
    static final double SLURM_IDEAL_UTILIZATION = 0.950;

    @Spec
    CommandSpec spec;

    @Option(names = "--trace", required = true, paramLabel = "FILE", description = "The trace CSV.")
    Path trace;

    @Option(names = "--nodes", defaultValue = SLURM_NODES, paramLabel = "KxG",
            description = "K nodes of G GPUs each, at one site as in the simulator (default: ${DEFAULT-VALUE}).")
    String nodes;

    @Option(names = "--shares", split = ",", paramLabel = "ACCOUNT=PERCENT",
            description = "Voted shares in percent, summing to 100, for every account of the trace (default: the "
                    + "shares the trace README gives for " + SLURM_TRACE + ").")
    List<String> shares;

    @Option(names = "--speed", defaultValue = "1", paramLabel = "X",
            description = "Replay X times faster: submit times, run times and the preemption grace are divided by X "
                    + "(default: ${DEFAULT-VALUE}).")
    double speed;

    @Option(names = "--limit", paramLabel = "N", description = "Replay only the trace's first N jobs.")
    Integer limit;

    @Option(names = "--grace", defaultValue = "60s", paramLabel = "DURATION",
            description = "How long a preempted job keeps its GPUs to checkpoint, before --speed (default: "
                    + "${DEFAULT-VALUE}, as the simulator). "
                    + Durations.FORMS_HELP)
    String grace;

    @Option(names = "--min-run", defaultValue = "5m", paramLabel = "DURATION",
            description = "The founding policy's min_run_before_preempt_s, before --speed: an attempt runs this long "
                    + "before it may be preempted, and a shorter job preempts no one (default: ${DEFAULT-VALUE}, "
                    + "the founding default; 0 for none). Live and simulated alike. "
                    + Durations.FORMS_HELP)
    String minRun;

    @Option(names = "--reserve-wait", defaultValue = "5m", paramLabel = "DURATION",
            description = "The founding policy's reserve_wait_s, before --speed (default: ${DEFAULT-VALUE}). "
                    + Durations.FORMS_HELP)
    String reserveWait;

    @Option(names = "--drain", description = "Run on after the last submit until every job has ended (the simulator "
            + "likewise); shares are still measured up to the last submit.")
    boolean drain;

    @Option(names = "--sleep-margin", defaultValue = "40", paramLabel = "MS",
            description = "Each job sleeps this much less than its run time, for the latency the scheduler adds "
                    + "between placing an attempt and hearing that it ended (default: ${DEFAULT-VALUE}).")
    long sleepMarginMs;

    @Option(names = "--jitter-runs", defaultValue = "10", paramLabel = "N",
            description = "After the live run, replay the trace N more times through the simulator with submits and "
                    + "run times lengthened at random by as much as the live run's were on average, and show the "
                    + "range of each account's predicted share (default: ${DEFAULT-VALUE}; 0: none).")
    int jitterRuns;

    @Option(names = "--data", paramLabel = "DIR",
            description = "Folder for the live cluster's data; must be empty or absent, and is kept (default: a "
                    + "temporary folder, deleted afterwards unless --keep).")
    Path data;

    @Mixin
    ThrowawayFolder throwaway;

    @Mixin
    BenchOptions options;

    @Override
    public Integer call() throws Exception {
        if (!(speed > 0) || Double.isInfinite(speed)) {
            throw new CliException("--speed: must be a positive number, got " + speed);
        }
        if (limit != null && limit < 1) {
            throw new CliException("--limit: must be at least 1, got " + limit);
        }
        if (jitterRuns < 0) {
            throw new CliException("--jitter-runs: must not be negative, got " + jitterRuns);
        }
        if (sleepMarginMs < 0) {
            throw new CliException("--sleep-margin: must not be negative, got " + sleepMarginMs);
        }
        Trace jobs = scaled(SimulateCommand.readTrace(trace));
        SimulatedCluster cluster;
        try {
            cluster = SimulatedCluster.parse(nodes);
        } catch (IllegalArgumentException e) {
            throw new CliException("--nodes: " + e.getMessage());
        }
        Shares voted = SimulateCommand.parseShares(shares == null ? README_SHARES : shares, jobs);
        // The grace and the founding policy's preemption bounds, sped up as the trace is, in whole
        // seconds as agents and policies take them; the simulator gets the same.
        Duration liveGrace = spedUp("--grace", grace);
        long lastSubmit = jobs.jobs().get(jobs.jobs().size() - 1).submitMs();
        Duration liveMinRun = spedUp("--min-run", minRun);
        Duration liveReserveWait = spedUp("--reserve-wait", reserveWait);
        SimulationOptions simOptions = SimulationOptions.defaults().withGrace(liveGrace)
                .withPreemptionBounds(liveMinRun, liveReserveWait);
        Simulator simulator;
        try {
            simulator = new Simulator(jobs, cluster, voted, simOptions);
        } catch (IllegalArgumentException e) {
            throw new CliException(e.getMessage());
        }
        // Progress and the scheduler's own log lines stay out of the report's way.
        System.setProperty("org.slf4j.simpleLogger.defaultLogLevel", "warn");
        Window window = simulator.window();
        FairShares target = FairTarget.compute(jobs.jobs(), cluster.capacity(), voted, window);
        SimulationResult simulated = simulator.run(new Allocator());
        PolicyReport predicted = Measures.of(simulated, target, voted);
        System.err.printf(Locale.ROOT, "simulated: utilization %.1f %%, worst gap %.1f pp; now the live replay "
                + "(%s)%n", 100 * predicted.utilization(), predicted.worstGapPp(), clock(lastSubmit));

        Path folder = folder();
        boolean temporary = data == null;
        CountDownLatch cleanedUp = new CountDownLatch(1);
        Thread main = Thread.currentThread();
        // Ctrl-C: the replay cancels its jobs and stops agents and scheduler before the JVM exits.
        Thread hook = new Thread(() -> {
            main.interrupt();
            try {
                cleanedUp.await(60, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }, "coop-replay-shutdown");
        Runtime.getRuntime().addShutdownHook(hook);
        LiveRecord record;
        long horizon;
        try {
            LiveReplay.Run run;
            try {
                run = new LiveReplay(new LiveReplay.Settings(jobs, cluster, voted, liveGrace, folder, drain,
                        sleepMarginMs, liveMinRun, liveReserveWait), System.err).run();
            } catch (InterruptedException e) {
                throw new CliException("interrupted: the replay's jobs were cancelled and its cluster stopped");
            }
            record = LiveRecord.of(run, jobs, cluster, window, "live");
            // Both measured up to the same instant: what ran, waited and finished by the live stop.
            horizon = drain ? Long.MAX_VALUE : run.stopMs() - run.startMs();
            predicted = Measures.of(Horizon.cut(simulated, horizon), target, voted);
        } finally {
            throwaway.cleanUp(folder, !temporary, "data");
            cleanedUp.countDown();
            try {
                Runtime.getRuntime().removeShutdownHook(hook);
            } catch (IllegalStateException shuttingDown) {
                // The hook is running: it waits for the latch released above.
            }
        }
        PolicyReport live = Measures.of(record.result(), target, voted);
        Map<String, double[]> range = range(jobs, cluster, voted, simOptions.withWindow(window), target, horizon,
                record.anomalies(), predicted);

        boolean slurmApplies = slurmApplies(voted);
        BenchReport report = new BenchReport();
        LostWork[] lost = {LostWork.of(simulated), LostWork.of(record.result())};
        if (options.json) {
            putFigures(report, predicted, live, range, record.anomalies(), slurmApplies, liveGrace, lost);
        } else {
            putTables(report, jobs, cluster, window, liveGrace, target, predicted, live, range, record.anomalies(),
                    slurmApplies, lost);
        }
        report.print(spec.commandLine().getOut(), options.json);
        return 0;
    }

    /**
     * Each account's lowest and highest predicted share over the simulator's own replay and
     * {@code --jitter-runs} replays of the trace delayed as the live run was ({@link Jitter}).
     */
    private Map<String, double[]> range(Trace jobs, SimulatedCluster cluster, Shares voted, SimulationOptions options,
                                        FairShares target, long horizon, LiveRecord.Anomalies anomalies,
                                        PolicyReport predicted) {
        Map<String, double[]> range = new LinkedHashMap<>();
        predicted.accounts().forEach(a -> range.put(a.account(),
                new double[] {a.achievedPercent(), a.achievedPercent()}));
        if (jitterRuns > 0) {
            System.err.printf(Locale.ROOT, "simulating %d variants delayed as the live run was (submits %.0f ms, "
                    + "run times %.0f ms on average)%n", jitterRuns, anomalies.meanSubmitLagMs(),
                    anomalies.meanOverrunMs());
        }
        for (int seed = 1; seed <= jitterRuns; seed++) {
            Trace variant = Jitter.of(jobs, anomalies.meanSubmitLagMs(), anomalies.meanOverrunMs(), seed);
            SimulationResult r = new Simulator(variant, cluster, voted, options).run(new Allocator());
            for (AccountReport a : Measures.of(Horizon.cut(r, horizon), target, voted).accounts()) {
                double[] mm = range.computeIfAbsent(a.account(), k -> new double[] {a.achievedPercent(),
                        a.achievedPercent()});
                mm[0] = Math.min(mm[0], a.achievedPercent());
                mm[1] = Math.max(mm[1], a.achievedPercent());
            }
        }
        return range;
    }

    /** How far the live share lies outside the predicted range, per account (0 inside it). */
    private static double outside(double live, double[] range) {
        return Math.max(0, Math.max(range[0] - live, live - range[1]));
    }

    /** The trace cut to --limit jobs, with submit and run times divided by --speed (at least 1 ms). */
    private Trace scaled(Trace t) {
        List<TraceJob> kept = limit == null ? t.jobs() : t.jobs().subList(0, Math.min(limit, t.jobs().size()));
        List<TraceJob> out = new ArrayList<>(kept.size());
        for (TraceJob j : kept) {
            out.add(new TraceJob(j.id(), j.line(), Math.round(j.submitMs() / speed), j.account(), j.gpus(),
                    Math.max(1, Math.round(j.durationMs() / speed)), j.gpuModel()));
        }
        return new Trace(t.source(), out);
    }

    private Path folder() throws IOException {
        if (data == null) {
            return Files.createTempDirectory("coop-replay-");
        }
        if (Files.exists(data)) {
            try (Stream<Path> entries = Files.list(data)) {
                if (entries.findAny().isPresent()) {
                    throw new CliException("--data: " + data + " is not empty; give an empty or new folder");
                }
            }
        }
        return Files.createDirectories(data);
    }

    /** Whether this run is the one the Slurm figures describe: the whole slice, 11x8, the README's shares. */
    private boolean slurmApplies(Shares voted) {
        return trace.getFileName().toString().equals(SLURM_TRACE) && limit == null && nodes.strip().equals(SLURM_NODES)
                && voted.equals(SimulateCommand.parseShares(README_SHARES, new Trace("", List.of())));
    }

    // ------------------------------------------------------------------ output

    private static double maxDiff(PolicyReport simulated, PolicyReport live) {
        double worst = 0;
        for (AccountReport a : live.accounts()) {
            worst = Math.max(worst, Math.abs(a.achievedPercent() - simulated.account(a.account()).achievedPercent()));
        }
        return worst;
    }

    /** The figures for --json: both runs with the simulator's measures, and how far apart they are. */
    private void putFigures(BenchReport report, PolicyReport simulated, PolicyReport live, Map<String, double[]> range,
                            LiveRecord.Anomalies anomalies, boolean slurmApplies, Duration liveGrace,
                            LostWork[] lost) {
        ObjectNode root = report.figures();
        ObjectNode liveNode = root.putObject("live");
        SimulateCommand.putPolicy(liveNode, live, null);
        SimulateCommand.putLostWork(liveNode, lost[1]);
        ObjectNode simulatedNode = root.putObject("simulated");
        SimulateCommand.putPolicy(simulatedNode, simulated, null);
        SimulateCommand.putLostWork(simulatedNode, lost[0]);
        ObjectNode slurm = root.putObject("slurm");
        slurm.put("worst_gap_pp", SLURM_WORST_GAP_PP);
        slurm.put("utilization", SLURM_UTILIZATION);
        slurm.put("ideal_utilization", SLURM_IDEAL_UTILIZATION);
        slurm.put("applies", slurmApplies);
        SimulateCommand.number(root, "max_diff_pp", maxDiff(simulated, live), 2);
        ObjectNode diff = root.putObject("diff_pp");
        for (AccountReport a : live.accounts()) {
            SimulateCommand.number(diff, a.account(),
                    a.achievedPercent() - simulated.account(a.account()).achievedPercent(), 2);
        }
        ObjectNode ranges = root.putObject("simulated_range");
        double outsideMax = 0;
        for (AccountReport a : live.accounts()) {
            double[] mm = range.get(a.account());
            ObjectNode o = ranges.putObject(a.account());
            SimulateCommand.number(o, "min", mm[0], 2);
            SimulateCommand.number(o, "max", mm[1], 2);
            outsideMax = Math.max(outsideMax, outside(a.achievedPercent(), mm));
        }
        SimulateCommand.number(root, "outside_range_pp", outsideMax, 2);
        root.put("jitter_runs", jitterRuns);
        root.put("trace", trace.toString());
        root.put("nodes", nodes);
        root.put("speed", speed);
        root.put("grace_s", liveGrace.toSeconds());
        root.put("failed_jobs", anomalies.failed());
        root.put("unsubmitted_jobs", anomalies.unsubmitted());
        SimulateCommand.number(root, "submit_lag_mean_ms", anomalies.meanSubmitLagMs(), 1);
        root.put("submit_lag_max_ms", anomalies.maxSubmitLagMs());
        SimulateCommand.number(root, "overrun_mean_ms", anomalies.meanOverrunMs(), 1);
        root.put("overrun_max_ms", anomalies.maxOverrunMs());
    }

    /** The text: the table per account, the table of the runs' measures, and what they show. */
    private void putTables(BenchReport report, Trace jobs, SimulatedCluster cluster, Window window, Duration liveGrace,
                           FairShares target, PolicyReport simulated, PolicyReport live,
                           Map<String, double[]> range, LiveRecord.Anomalies anomalies, boolean slurmApplies,
                           LostWork[] lost) {
        report.line("trace %s: %d jobs, %d accounts; cluster %s at one site; speed %s", jobs.source(),
                jobs.jobs().size(), jobs.accounts().size(), cluster, trim(speed));
        report.line("window %s to %s (first to last submit, replay time); preemption grace %d s; "
                + "walltime = run time, rounded up to seconds (live: 1 s more)", clock(window.startMs()),
                clock(window.endMs()), liveGrace.toSeconds());
        report.line("target: the ideal weighted max-min share of the same jobs (divisible GPUs, free "
                + "preemption; utilization %.1f %%); shares in %%, differences in pp%n", 100 * target.utilization());

        List<String[]> rows = new ArrayList<>();
        rows.add(new String[] {"ACCOUNT", "VOTED", "TARGET", "SIMULATED", "GAP", "SIM RANGE", "LIVE", "GAP",
                "LIVE-SIM"});
        for (AccountReport a : live.accounts()) {
            AccountReport s = simulated.account(a.account());
            double[] mm = range.get(a.account());
            rows.add(new String[] {a.account(), pct(a.entitledPercent()), pct(a.targetPercent()),
                    pct(s.achievedPercent()), signed(s.gapPp()), pct(mm[0]) + "-" + pct(mm[1]),
                    pct(a.achievedPercent()), signed(a.gapPp()), signed(a.achievedPercent() - s.achievedPercent())});
        }
        report.table(rows);
        report.line();

        List<String[]> overall = new ArrayList<>();
        overall.add(new String[] {"", "simulated", "live", slurmApplies ? "Slurm 22.05 (trace README)" : ""});
        overall.add(line(simulated, live, "utilization", r -> pct(100 * r.utilization()) + " %",
                slurmApplies ? pct(100 * SLURM_UTILIZATION) + " %" : ""));
        overall.add(line(simulated, live, "utilization while a pending job fits",
                r -> Double.isNaN(r.utilizationWhileFitPending()) ? "-" : pct(100 * r.utilizationWhileFitPending())
                        + " %", ""));
        overall.add(line(simulated, live, "Jain's index of achieved/target",
                r -> String.format(Locale.ROOT, "%.3f", r.jain()), ""));
        overall.add(line(simulated, live, "worst |achieved - target| (pp)", r -> pct(r.worstGapPp()),
                slurmApplies ? pct(SLURM_WORST_GAP_PP) : ""));
        overall.add(line(simulated, live, "preemptions", r -> Integer.toString(r.preemptions()), ""));
        overall.add(new String[] {"GPU-hours lost to preemption (share of delivered)", lostText(lost[0]),
            lostText(lost[1]), ""});
        overall.add(new String[] {"preemptions of one job (max, p99)", perJob(lost[0]), perJob(lost[1]), ""});
        overall.add(line(simulated, live, "longest wait of a multi-node job (s)", r -> secs(r.gangWaitMaxSeconds()),
                ""));
        overall.add(line(simulated, live, "mean wait (s)", r -> secs(r.waitMeanSeconds()), ""));
        overall.add(line(simulated, live, "mean completion time (s)", r -> secs(r.completionMeanSeconds()), ""));
        overall.add(line(simulated, live, "jobs finished", r -> r.finished() + "/" + r.jobs(), ""));
        overall.add(line(simulated, live, "stopped at", r -> clock(Math.round(r.endSeconds() * 1000)), ""));
        report.table(overall);

        double worst = maxDiff(simulated, live);
        String who = live.accounts().stream()
                .max(Comparator.comparingDouble(a -> Math.abs(a.achievedPercent()
                        - simulated.account(a.account()).achievedPercent())))
                .map(AccountReport::account).orElse("-");
        report.line("%nlargest |live - simulated| of an account's share: %.2f pp (%s); within 1 pp: %s",
                worst, who, worst <= 1.0 ? "yes" : "NO");
        if (jitterRuns > 0) {
            AccountReport farthest = live.accounts().stream().max(Comparator.comparingDouble(
                    a -> outside(a.achievedPercent(), range.get(a.account())))).orElseThrow();
            double beyond = outside(farthest.achievedPercent(), range.get(farthest.account()));
            report.line("SIM RANGE: the simulator's shares over %d replays with submits and run times "
                    + "delayed at random as much as live; %s", jitterRuns + 1, beyond == 0
                    ? "every live share lies inside it"
                    : String.format(Locale.ROOT, "live lies outside it by up to %.2f pp (%s)", beyond,
                    farthest.account()));
        }
        if (slurmApplies) {
            report.line("Slurm 22.05 on the same slice (Fair Tree fair-share, backfill, no preemption): "
                    + "worst gap %.1f pp, utilization %.1f %% against the ideal's %.1f %%", SLURM_WORST_GAP_PP,
                    100 * SLURM_UTILIZATION, 100 * SLURM_IDEAL_UTILIZATION);
        }
        report.line("live: submits %.0f ms late on average (at most %d ms); one-attempt jobs held their GPUs "
                        + "%.0f ms longer than their run time on average (at most %d ms); %d job%s failed%s",
                anomalies.meanSubmitLagMs(), anomalies.maxSubmitLagMs(), anomalies.meanOverrunMs(),
                anomalies.maxOverrunMs(), anomalies.failed(), anomalies.failed() == 1 ? "" : "s",
                anomalies.unsubmitted() > 0 ? "; " + anomalies.unsubmitted() + " never submitted" : "");
    }

    private static String perJob(LostWork w) {
        return w.maxPreemptionsPerJob() + ", " + w.p99PreemptionsPerJob();
    }

    /** A duration option (zero allowed) divided by {@code --speed}, rounded to whole seconds. */
    private Duration spedUp(String option, String text) {
        return Duration.ofSeconds(Math.round(Durations.optionOrZero(option, text).toMillis() / speed / 1000.0));
    }

    /** Lost GPU-hours and their share of delivered ones; live, what preempted jobs ran beyond their work. */
    private static String lostText(LostWork w) {
        return String.format(Locale.ROOT, "%.3f (%.2f %%)", w.lostGpuHours(), 100 * w.lostShare());
    }

    private static String[] line(PolicyReport simulated, PolicyReport live, String label,
                                 Function<PolicyReport, String> value, String slurm) {
        return new String[] {label, value.apply(simulated), value.apply(live), slurm};
    }

    private static String pct(double v) {
        return Double.isNaN(v) ? "-" : String.format(Locale.ROOT, "%.1f", v);
    }

    private static String signed(double v) {
        return Double.isNaN(v) ? "-" : String.format(Locale.ROOT, "%+.1f", v);
    }

    private static String secs(double v) {
        return Double.isNaN(v) ? "-" : String.format(Locale.ROOT, "%.0f", v);
    }

    private static String clock(long ms) {
        return String.format(Locale.ROOT, "%d:%02d", ms / 60_000, ms / 1000 % 60);
    }

    private static String trim(double x) {
        return java.math.BigDecimal.valueOf(x).stripTrailingZeros().toPlainString();
    }
}
