package coop.cli;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import coop.scheduler.allocation.Allocator;
import coop.scheduler.allocation.SchedulingPolicy;
import coop.scheduler.sim.AccountReport;
import coop.scheduler.sim.Checkpointing;
import coop.scheduler.sim.Comparison;
import coop.scheduler.sim.FairShares;
import coop.scheduler.sim.LostWork;
import coop.scheduler.sim.FairTarget;
import coop.scheduler.sim.FifoPolicy;
import coop.scheduler.sim.GangWaits;
import coop.scheduler.sim.Measures;
import coop.scheduler.sim.PolicyReport;
import coop.scheduler.sim.Shares;
import coop.scheduler.sim.SimulatedCluster;
import coop.scheduler.sim.SimulationOptions;
import coop.scheduler.sim.SimulationResult;
import coop.scheduler.sim.Simulator;
import coop.scheduler.sim.StaticPartitionPolicy;
import coop.scheduler.sim.SyntheticTrace;
import coop.scheduler.sim.Trace;
import coop.scheduler.sim.TraceReader;
import coop.scheduler.sim.TraceWriter;
import coop.scheduler.sim.Window;
import java.io.IOException;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.io.Writer;
import java.math.BigDecimal;
import java.math.RoundingMode;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.Callable;
import java.util.function.Function;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code coop simulate}: replays a job trace through coop's allocator and two baselines (one
 * FIFO queue; static partitions by share) on a simulated cluster, and reports, per account,
 * voted share, fair target (the ideal weighted max-min share of the same trace), achieved
 * share, waits and completion times, and overall utilization, Jain's index and preemptions.
 * Shares and utilization are measured from the trace's first to its last submit.
 */
@Command(name = "simulate", mixinStandardHelpOptions = true,
        description = {"Replay a job trace (CSV: submit_s,account,gpus,duration_s,gpu_model; or a synthetic one) "
                + "through coop's allocator and two baselines, fifo and static partitions, on a simulated cluster.",
                "Per account: voted share, fair target (ideal weighted max-min share of the same trace), achieved "
                        + "share of busy GPU time, waits and completion times; overall: utilization, Jain's index "
                        + "of achieved/target, preemptions. Shares and utilization count from the first to the "
                        + "last submit."})
public final class SimulateCommand implements Callable<Integer> {

    private static final List<String> POLICIES = List.of("coop", "fifo", "static");

    @Spec
    CommandSpec spec;

    @Option(names = "--trace", paramLabel = "FILE", description = "The trace CSV.")
    Path trace;

    @Option(names = "--synthetic", paramLabel = "SEED",
            description = "Instead of --trace, replay a synthetic trace drawn with this seed, with the shared Philly "
                    + "trace's statistics and accounts (bursts of submits, heavy-tailed run times, 1-GPU jobs and "
                    + "8-32-GPU gangs, skewed demand).")
    Long synthetic;

    @Option(names = "--synthetic-jobs", defaultValue = "2166", paramLabel = "N",
            description = "Jobs of the synthetic trace (default: ${DEFAULT-VALUE}, about 500 h of submits).")
    int syntheticJobs;

    @Option(names = "--save-trace", paramLabel = "FILE",
            description = "Also write the trace replayed to FILE as CSV, for example to keep a synthetic trace.")
    Path saveTrace;

    @Option(names = "--gpus", paramLabel = "N", description = "GPUs in the cluster: N/8 nodes of 8 GPUs.")
    Integer gpus;

    @Option(names = "--nodes", paramLabel = "KxG", description = "K nodes of G GPUs each, for example 11x8.")
    String nodes;

    @Option(names = "--shares", split = ",", paramLabel = "ACCOUNT=PERCENT",
            description = "Voted shares in percent, summing to 100, for every account of the trace "
                    + "(default: equal shares).")
    List<String> shares;

    @Option(names = "--half-life", defaultValue = "7d", paramLabel = "DURATION",
            description = "Half-life of decayed usage (default: ${DEFAULT-VALUE}). "
                    + Durations.FORMS_HELP)
    String halfLife;

    @Option(names = "--grace", defaultValue = "60s", paramLabel = "DURATION",
            description = "How long a preempted job keeps its GPUs to checkpoint (default: ${DEFAULT-VALUE}). "
                    + Durations.FORMS_HELP)
    String grace;

    @Option(names = "--walltime-factor", defaultValue = "1.0", paramLabel = "X",
            description = "Jobs declare as walltime X times their remaining run time (default: ${DEFAULT-VALUE}).")
    double walltimeFactor;

    @Option(names = "--until-hours", paramLabel = "H",
            description = "Stop the replay H hours after the first submit (default: when every job has finished).")
    Double untilHours;

    @Option(names = "--policies", split = ",", paramLabel = "NAME", defaultValue = "coop,fifo,static",
            description = "Policies to compare, from coop, fifo, static (default: ${DEFAULT-VALUE}).")
    List<String> policies;

    @Option(names = "--checkpoint", defaultValue = "on-signal", paramLabel = "none|on-signal|every:DURATION",
            description = "How jobs save their work, and so what a preemption loses: none (all of the attempt's "
                    + "work), on-signal (nothing: it saves when signalled and stops at the grace's end), every:30m "
                    + "(what ran since the last whole period). Default: ${DEFAULT-VALUE}.")
    String checkpoint;

    @Option(names = "--min-run", defaultValue = "5m", paramLabel = "DURATION",
            description = "The policy's min_run_before_preempt_s: an attempt runs this long before it may be "
                    + "preempted, and a job asking for less walltime preempts no one (default: ${DEFAULT-VALUE}, "
                    + "the founding policy's; 0 for none). "
                    + Durations.FORMS_HELP)
    String minRun;

    @Option(names = "--reserve-wait", defaultValue = "5m", paramLabel = "DURATION",
            description = "The policy's reserve_wait_s: how long an operator's job waits for borrowers on its "
                    + "reserve to end by walltime before it preempts them (default: ${DEFAULT-VALUE}). "
                    + Durations.FORMS_HELP)
    String reserveWait;

    @Option(names = "--json", description = "Print one JSON object instead of tables.")
    boolean json;

    @Override
    public Integer call() {
        Trace jobs = trace();
        SimulatedCluster cluster = cluster();
        Shares voted = shares(jobs);
        SimulationOptions options = options(jobs);
        List<SchedulingPolicy> chosen = policies();

        Simulator simulator;
        try {
            simulator = new Simulator(jobs, cluster, voted, options);
        } catch (IllegalArgumentException e) {
            throw new CliException(e.getMessage());
        }
        FairShares target = FairTarget.compute(jobs.jobs(), cluster.capacity(), voted, simulator.window());
        Progress progress = new Progress(System.err, System.console() != null);
        Map<String, Double> replaySeconds = new LinkedHashMap<>();
        List<Comparison.Entry> entries = new ArrayList<>();
        for (SchedulingPolicy policy : chosen) {
            long t0 = System.nanoTime();
            progress.start(policy.name(), t0);
            SimulationResult result = simulator.run(policy, (done, total) -> progress.update(policy.name(), done, total));
            replaySeconds.put(policy.name(), (System.nanoTime() - t0) / 1e9);
            progress.clear();
            entries.add(new Comparison.Entry(result, Measures.of(result, target, voted)));
        }
        Comparison.Outcome outcome = new Comparison.Outcome(target, entries);

        PrintWriter out = spec.commandLine().getOut();
        if (json) {
            printJson(out, outcome, replaySeconds);
        } else {
            printTables(out, jobs, cluster, voted, options, outcome, replaySeconds);
        }
        out.flush();
        return 0;
    }

    // ------------------------------------------------------------------ inputs

    /** {@code --trace} or {@code --synthetic}, written to {@code --save-trace} if given. */
    private Trace trace() {
        if ((trace == null) == (synthetic == null)) {
            throw new CliException("give the trace with --trace FILE or --synthetic SEED (one of them)");
        }
        Trace t;
        if (trace != null) {
            t = readTrace(trace);
        } else {
            if (syntheticJobs <= 0) {
                throw new CliException("--synthetic-jobs: must be a positive number of jobs, got " + syntheticJobs);
            }
            t = SyntheticTrace.generate(synthetic, syntheticJobs);
        }
        if (saveTrace != null) {
            try (Writer out = Files.newBufferedWriter(saveTrace, StandardCharsets.UTF_8)) {
                TraceWriter.write(t, out);
            } catch (IOException | UncheckedIOException e) {
                throw new CliException("--save-trace: cannot write " + saveTrace + ": " + e.getMessage());
            }
        }
        return t;
    }

    /** Reads {@code --trace}; a missing, unreadable, malformed or empty file is a {@link CliException}. */
    public static Trace readTrace(Path trace) {
        if (!Files.isRegularFile(trace)) {
            throw new CliException("--trace: no such file: " + trace);
        }
        try {
            Trace t = TraceReader.read(trace);
            if (t.jobs().isEmpty()) {
                throw new CliException("--trace: " + trace + " has no jobs");
            }
            return t;
        } catch (UncheckedIOException e) {
            throw new CliException(e.getMessage());
        } catch (IllegalArgumentException e) {
            throw new CliException(e.getMessage());
        }
    }

    private SimulatedCluster cluster() {
        try {
            if (nodes != null) {
                SimulatedCluster c = SimulatedCluster.parse(nodes);
                if (gpus != null && gpus != c.capacity()) {
                    throw new CliException("--gpus " + gpus + " disagrees with --nodes " + nodes + " ("
                            + c.capacity() + " GPUs); give one of them");
                }
                return c;
            }
            if (gpus == null) {
                throw new CliException("give the cluster's size with --gpus N or --nodes KxG");
            }
            return SimulatedCluster.ofGpus(gpus);
        } catch (IllegalArgumentException e) {
            throw new CliException((nodes != null ? "--nodes: " : "--gpus: ") + e.getMessage());
        }
    }

    private Shares shares(Trace t) {
        if (shares == null || shares.isEmpty()) {
            return Shares.equal(t.accounts());
        }
        return parseShares(shares, t);
    }

    /**
     * {@code --shares ACCOUNT=PERCENT,...}: every account of the trace must have a share, and the
     * shares must sum to 100 %; otherwise a {@link CliException} names what is wrong.
     */
    public static Shares parseShares(List<String> shares, Trace t) {
        Map<String, Integer> basisPoints = new TreeMap<>();
        for (String text : shares) {
            ShareArgument share;
            try {
                share = ShareArgument.parse(text);
            } catch (IllegalArgumentException e) {
                throw new CliException("--shares: " + e.getMessage());
            }
            if (basisPoints.put(share.account(), share.basisPoints()) != null) {
                throw new CliException("--shares: account " + share.account() + " is given twice");
            }
        }
        int sum = basisPoints.values().stream().mapToInt(Integer::intValue).sum();
        if (sum != Shares.WHOLE) {
            throw new CliException("--shares: shares sum to " + ShareArgument.percent(sum) + " %, not 100 %");
        }
        TreeSet<String> missing = new TreeSet<>(t.accounts());
        missing.removeAll(basisPoints.keySet());
        if (!missing.isEmpty()) {
            throw new CliException("--shares: the trace's account" + (missing.size() > 1 ? "s " : " ")
                    + String.join(", ", missing) + (missing.size() > 1 ? " have" : " has")
                    + " no share; give every account of the trace a share");
        }
        return new Shares(basisPoints);
    }

    private SimulationOptions options(Trace t) {
        Duration halfLifeValue = Durations.option("--half-life", halfLife);
        Duration graceValue = Durations.optionOrZero("--grace", grace);
        if (!(walltimeFactor > 0) || Double.isInfinite(walltimeFactor)) {
            throw new CliException("--walltime-factor: must be a positive number, got " + walltimeFactor);
        }
        Checkpointing saving;
        try {
            saving = Checkpointing.parse(checkpoint, d -> Durations.option("--checkpoint", d));
        } catch (IllegalArgumentException e) {
            throw new CliException(e.getMessage(), e);
        }
        SimulationOptions options = SimulationOptions.defaults().withHalfLife(halfLifeValue).withGrace(graceValue)
                .withWalltimeFactor(walltimeFactor).withCheckpoint(saving)
                .withPreemptionBounds(Durations.optionOrZero("--min-run", minRun),
                        Durations.optionOrZero("--reserve-wait", reserveWait));
        if (untilHours != null) {
            if (!(untilHours > 0) || Double.isInfinite(untilHours)) {
                throw new CliException("--until-hours: must be a positive number of hours, got " + untilHours);
            }
            long firstSubmit = t.jobs().get(0).submitMs();
            options = options.withUntilMs(firstSubmit + Math.round(untilHours * 3_600_000));
        }
        return options;
    }

    private List<SchedulingPolicy> policies() {
        List<SchedulingPolicy> out = new ArrayList<>();
        TreeSet<String> seen = new TreeSet<>();
        for (String name : policies) {
            String n = name.strip().toLowerCase(Locale.ROOT);
            if (!seen.add(n)) {
                continue;
            }
            switch (n) {
                case "coop" -> out.add(new Allocator());
                case "fifo" -> out.add(new FifoPolicy());
                case "static" -> out.add(new StaticPartitionPolicy());
                default -> throw new CliException("--policies: unknown policy '" + name + "'; choose from "
                        + String.join(", ", POLICIES));
            }
        }
        if (out.isEmpty()) {
            throw new CliException("--policies: name at least one of " + String.join(", ", POLICIES));
        }
        return out;
    }

    // ------------------------------------------------------------------ output

    /** The entry's gangs against FIFO's, or null for FIFO itself or when FIFO did not run. */
    private static GangWaits againstFifo(Comparison.Outcome outcome, Comparison.Entry entry) {
        if (entry.report().policy().equals("fifo")) {
            return null;
        }
        return outcome.entries().stream().filter(e -> e.report().policy().equals("fifo")).findFirst()
                .map(f -> GangWaits.of(entry.result(), f.result())).orElse(null);
    }

    private static void printJson(PrintWriter out, Comparison.Outcome outcome, Map<String, Double> replaySeconds) {
        ObjectMapper mapper = new ObjectMapper();
        ObjectNode root = mapper.createObjectNode();
        ObjectNode byPolicy = root.putObject("policies");
        for (Comparison.Entry e : outcome.entries()) {
            PolicyReport r = e.report();
            ObjectNode p = byPolicy.putObject(r.policy());
            putPolicy(p, r, againstFifo(outcome, e));
            putLostWork(p, LostWork.of(e.result()));
            number(p, "replay_s", replaySeconds.getOrDefault(r.policy(), Double.NaN), 2);
        }
        try {
            out.println(mapper.writeValueAsString(root));
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    /**
     * One policy's report as {@code --json} prints it (per account, then overall), into
     * {@code p}; {@code gangs} is its gangs against FIFO's, or null to leave that out.
     */
    public static void putPolicy(ObjectNode p, PolicyReport r, GangWaits gangs) {
        ObjectNode accounts = p.putObject("accounts");
        for (AccountReport a : r.accounts()) {
            ObjectNode o = accounts.putObject(a.account());
            number(o, "entitled", a.entitledPercent(), 2);
            number(o, "target", a.targetPercent(), 2);
            number(o, "achieved", a.achievedPercent(), 2);
            number(o, "gap_pp", a.gapPp(), 2);
            number(o, "wait_mean_s", a.waitMeanSeconds(), 1);
            number(o, "wait_p99_s", a.waitP99Seconds(), 1);
            number(o, "jct_mean_s", a.completionMeanSeconds(), 1);
            o.put("preemptions", a.preemptions());
            o.put("jobs", a.jobs());
            o.put("finished", a.finished());
        }
        number(p, "utilization", r.utilization(), 4);
        number(p, "utilization_while_fit_pending", r.utilizationWhileFitPending(), 4);
        number(p, "ideal_utilization", r.idealUtilization(), 4);
        number(p, "jain", r.jain(), 4);
        number(p, "gang_wait_max_s", r.gangWaitMaxSeconds(), 1);
        if (gangs != null) {
            p.put("gangs_compared_with_fifo", gangs.compared());
            p.put("gangs_over_twice_fifo_wait", gangs.overTwice());
        }
        number(p, "worst_gap_pp", r.worstGapPp(), 2);
        p.put("preemptions", r.preemptions());
        number(p, "wait_mean_s", r.waitMeanSeconds(), 1);
        number(p, "jct_mean_s", r.completionMeanSeconds(), 1);
        p.put("jobs", r.jobs());
        p.put("finished", r.finished());
        number(p, "end_s", r.endSeconds(), 1);
    }

    /** What preemption cost a replay, as {@code --json} prints it beside the policy's report. */
    public static void putLostWork(ObjectNode p, LostWork w) {
        number(p, "lost_gpu_hours", w.lostGpuHours(), 2);
        number(p, "delivered_gpu_hours", w.deliveredGpuHours(), 2);
        number(p, "lost_share", w.lostShare(), 5);
        p.put("preemptions_per_job_max", w.maxPreemptionsPerJob());
        p.put("preemptions_per_job_p99", w.p99PreemptionsPerJob());
    }

    /** A rounded number, or null for NaN (nothing to average, no gang, ...). */
    public static void number(ObjectNode o, String key, double value, int decimals) {
        if (Double.isNaN(value) || Double.isInfinite(value)) {
            o.putNull(key);
        } else {
            o.put(key, new BigDecimal(value).setScale(decimals, RoundingMode.HALF_EVEN)
                    .doubleValue());
        }
    }

    private static void printTables(PrintWriter out, Trace jobs, SimulatedCluster cluster, Shares voted,
                                    SimulationOptions options, Comparison.Outcome outcome,
                                    Map<String, Double> replaySeconds) {
        List<Comparison.Entry> entries = outcome.entries();
        FairShares target = outcome.target();
        Window w = target.window();
        out.printf(Locale.ROOT, "trace %s: %d jobs, %d accounts; cluster %s%n", jobs.source(), jobs.jobs().size(),
                jobs.accounts().size(), cluster);
        out.printf(Locale.ROOT, "window %.1f h to %.1f h (first to last submit); half-life %s, grace %s, "
                        + "walltime %s x remaining run time%n", w.startMs() / 3.6e6, w.endMs() / 3.6e6,
                Durations.format(options.halfLife()), options.grace().isZero() ? "0s"
                        : Durations.format(options.grace()), trim(options.walltimeFactor()));
        out.printf(Locale.ROOT, "target: the ideal weighted max-min share of the same trace (divisible GPUs, free "
                + "preemption; utilization %.1f %%); shares in %%, gap in pp, times in hours%n%n",
                100 * target.utilization());

        // Account rows: voted, target, then per policy achieved, gap, wait mean/p99, JCT.
        List<String> names = entries.get(0).report().accounts().stream().map(AccountReport::account).toList();
        List<String> perPolicy = List.of("ACHIEVED", "GAP", "WAIT", "P99", "JCT");
        Columns table = new Columns();
        List<String> groups = new ArrayList<>(List.of("", "", ""));
        List<String> header = new ArrayList<>(List.of("ACCOUNT", "VOTED", "TARGET"));
        for (Comparison.Entry e : entries) {
            groups.add(e.report().policy());
            groups.addAll(List.of("", "", "", ""));
            header.addAll(perPolicy);
        }
        table.add(header);
        for (String name : names) {
            AccountReport first = entries.get(0).report().account(name);
            List<String> row = new ArrayList<>(List.of(name, pct(first.entitledPercent()), pct(first.targetPercent())));
            for (Comparison.Entry e : entries) {
                AccountReport a = e.report().account(name);
                row.add(pct(a.achievedPercent()));
                row.add(String.format(Locale.ROOT, "%+.1f", a.gapPp()));
                row.add(hours(a.waitMeanSeconds()));
                row.add(hours(a.waitP99Seconds()));
                row.add(hours(a.completionMeanSeconds()));
            }
            table.add(row);
        }
        table.print(out, groups, 3, perPolicy.size());
        out.println();

        Columns overall = new Columns();
        List<String> head = new ArrayList<>(List.of(""));
        entries.forEach(e -> head.add(e.report().policy()));
        overall.add(head);
        overall.add(line(entries, "utilization", r -> pct(100 * r.utilization()) + " %"));
        overall.add(line(entries, "utilization while a pending job fits",
                r -> Double.isNaN(r.utilizationWhileFitPending()) ? "-" : pct(100 * r.utilizationWhileFitPending())
                        + " %"));
        overall.add(line(entries, "Jain's index of achieved/target",
                r -> String.format(Locale.ROOT, "%.3f", r.jain())));
        overall.add(line(entries, "worst |achieved - target| (pp)", r -> pct(r.worstGapPp())));
        overall.add(line(entries, "preemptions", r -> Integer.toString(r.preemptions())));
        List<String> lost = new ArrayList<>(List.of("GPU-hours lost to preemption (share of delivered)"));
        List<String> perJob = new ArrayList<>(List.of("preemptions of one job (max, p99)"));
        for (Comparison.Entry e : entries) {
            LostWork cost = LostWork.of(e.result());
            lost.add(String.format(Locale.ROOT, "%.1f (%.3f %%)", cost.lostGpuHours(), 100 * cost.lostShare()));
            perJob.add(cost.maxPreemptionsPerJob() + ", " + cost.p99PreemptionsPerJob());
        }
        overall.add(lost);
        overall.add(perJob);
        overall.add(line(entries, "longest wait of a multi-node job (h)", r -> hours(r.gangWaitMaxSeconds())));
        if (entries.stream().anyMatch(e -> e.report().policy().equals("fifo"))) {
            List<String> row = new ArrayList<>(List.of("multi-node jobs waiting > 2x their FIFO wait"));
            for (Comparison.Entry e : entries) {
                GangWaits g = againstFifo(outcome, e);
                row.add(g == null ? "-" : g.overTwice() + "/" + g.compared());
            }
            overall.add(row);
        }
        overall.add(line(entries, "mean wait (h)", r -> hours(r.waitMeanSeconds())));
        overall.add(line(entries, "mean completion time (h)", r -> hours(r.completionMeanSeconds())));
        overall.add(line(entries, "jobs finished", r -> r.finished() + "/" + r.jobs()));
        overall.add(line(entries, "replay ends at (h)", r -> hours(r.endSeconds())));
        overall.add(line(entries, "replay took (s)", r -> String.format(Locale.ROOT, "%.2f",
                replaySeconds.getOrDefault(r.policy(), Double.NaN))));
        overall.print(out, null, 0, 0);

        if (entries.stream().anyMatch(e -> e.report().policy().equals("static"))) {
            Map<String, Integer> parts = StaticPartitionPolicy.partitions(voted.basisPoints(), cluster.capacity());
            long oversize = jobs.jobs().stream()
                    .filter(j -> j.gpus() > parts.getOrDefault(j.account(), 0)).count();
            if (oversize > 0) {
                out.printf(Locale.ROOT, "%nstatic: %d job%s larger than %s account's partition; such a job starts "
                                + "only when its account holds no GPUs, and then runs beyond the partition%n",
                        oversize, oversize == 1 ? " is" : "s are", oversize == 1 ? "its" : "their");
            }
        }
        for (Comparison.Entry e : entries) {
            SimulationResult r = e.result();
            long unfinished = r.jobs().stream().filter(j -> !j.finished()).count();
            if (unfinished > 0) {
                out.printf(Locale.ROOT, "%s: %d job%s unfinished when the replay stopped; waits and completion "
                        + "times count only jobs that started or finished%n", r.policy(), unfinished,
                        unfinished == 1 ? "" : "s");
            }
        }
    }

    private static List<String> line(List<Comparison.Entry> entries, String label,
                                     Function<PolicyReport, String> value) {
        List<String> row = new ArrayList<>(List.of(label));
        entries.forEach(e -> row.add(value.apply(e.report())));
        return row;
    }

    private static String pct(double value) {
        return Double.isNaN(value) ? "-" : String.format(Locale.ROOT, "%.1f", value);
    }

    private static String hours(double seconds) {
        return Double.isNaN(seconds) ? "-" : String.format(Locale.ROOT, "%.1f", seconds / 3600);
    }

    private static String trim(double x) {
        return BigDecimal.valueOf(x).stripTrailingZeros().toPlainString();
    }

    /**
     * Aligned columns, the first left-aligned and the rest right-aligned, with an optional
     * line of group names above (a group starts at its name's column and spans {@code span}
     * columns, groups separated by " | ").
     */
    private static final class Columns {
        private final List<List<String>> rows = new ArrayList<>();

        void add(List<String> row) {
            rows.add(row);
        }

        void print(PrintWriter out, List<String> groups, int lead, int span) {
            int n = rows.get(0).size();
            int[] widths = new int[n];
            for (List<String> row : rows) {
                for (int c = 0; c < n; c++) {
                    widths[c] = Math.max(widths[c], row.get(c).length());
                }
            }
            if (groups != null) {
                // Widen each group so its name fits over its columns.
                for (int g = lead; g < n; g += span) {
                    int inner = 0;
                    for (int c = g; c < g + span; c++) {
                        inner += widths[c] + (c > g ? 2 : 0);
                    }
                    int need = groups.get(g).length() - inner;
                    if (need > 0) {
                        widths[g] += need;
                    }
                }
                StringBuilder top = new StringBuilder();
                for (int c = 0; c < n; c++) {
                    String sep = separator(c, lead, span, groups != null);
                    String cell = groups.get(c);
                    if (c >= lead && (c - lead) % span == 0) {
                        int inner = 0;
                        for (int k = c; k < c + span; k++) {
                            inner += widths[k] + (k > c ? 2 : 0);
                        }
                        top.append(sep).append(center(cell, inner));
                        c += span - 1;
                    } else {
                        top.append(sep).append(" ".repeat(widths[c]));
                    }
                }
                out.println(top.toString().stripTrailing());
            }
            for (List<String> row : rows) {
                StringBuilder line = new StringBuilder();
                for (int c = 0; c < n; c++) {
                    line.append(separator(c, lead, span, groups != null));
                    String cell = row.get(c);
                    String pad = " ".repeat(widths[c] - cell.length());
                    line.append(c == 0 ? cell + pad : pad + cell);
                }
                out.println(line.toString().stripTrailing());
            }
        }

        private static String separator(int column, int lead, int span, boolean grouped) {
            if (column == 0) {
                return "";
            }
            if (grouped && column >= lead && (column - lead) % span == 0) {
                return "  | ";
            }
            return "  ";
        }

        private static String center(String text, int width) {
            int left = Math.max(0, (width - text.length()) / 2);
            return " ".repeat(left) + text + " ".repeat(Math.max(0, width - left - text.length()));
        }
    }

    /**
     * Progress on stderr: on a terminal one line rewritten at most ten times a second; otherwise
     * plain lines at 25, 50, 75 and 100 %. Either only once a replay has run for a second, so
     * short replays stay quiet.
     */
    private static final class Progress {
        private static final long QUIET_NANOS = 1_000_000_000L;
        private static final long REDRAW_NANOS = 100_000_000L;
        private final PrintStream err;
        private final boolean terminal;
        private long startedAt;
        private int lastQuarter;
        private long lastDraw;
        private boolean drawn;

        Progress(PrintStream err, boolean terminal) {
            this.err = err;
            this.terminal = terminal;
        }

        void start(String policy, long nanos) {
            startedAt = nanos;
            lastQuarter = 0;
            lastDraw = 0;
        }

        void update(String policy, long done, long total) {
            int percent = total == 0 ? 100 : (int) (100 * done / total);
            int quarter = percent / 25;
            if (terminal ? percent == 100 : quarter <= lastQuarter) {
                return;
            }
            long now = System.nanoTime();
            if (now - startedAt < QUIET_NANOS) {
                lastQuarter = quarter;
                return;
            }
            if (terminal) {
                if (now - lastDraw >= REDRAW_NANOS) {
                    err.print("\rsimulate: " + policy + " " + percent + " % of job submits and ends ");
                    err.flush();
                    lastDraw = now;
                    drawn = true;
                }
            } else {
                err.println("simulate: " + policy + " " + quarter * 25 + " % of job submits and ends");
                err.flush();
                lastQuarter = quarter;
            }
        }

        void clear() {
            if (drawn) {
                err.print("\r" + " ".repeat(60) + "\r");
                err.flush();
                drawn = false;
            }
        }
    }
}
