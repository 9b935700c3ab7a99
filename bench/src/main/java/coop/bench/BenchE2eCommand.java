package coop.bench;

import static coop.bench.BenchReport.round;

import coop.agent.Agent;
import coop.agent.AgentConfig;
import coop.agent.Confinement;
import coop.agent.GpuSpec;
import coop.agent.Isolation;
import coop.agent.LocalUser;
import coop.agent.NvidiaSmi;
import coop.agent.RunAs;
import coop.cli.CliException;
import coop.cli.Client;
import coop.cli.Durations;
import coop.cli.Identity;
import coop.cli.InitCommand;
import coop.cli.JobText;
import coop.cli.NodeIdentity;
import coop.scheduler.SchedulerServer;
import coop.scheduler.domain.ArraySpec;
import coop.scheduler.domain.Params;
import coop.scheduler.store.Store;
import coop.v1.EnrollRequest;
import coop.v1.GetArrayRequest;
import coop.v1.Job;
import coop.v1.JobArray;
import coop.v1.JobState;
import coop.v1.ListJobsRequest;
import coop.v1.ListNodesRequest;
import coop.v1.StateCount;
import coop.v1.SubmitRequest;
import coop.v1.SubmitResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Duration;
import java.time.InstantSource;
import java.util.BitSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code coop bench e2e}: completed jobs per second, end to end. A throwaway scheduler (in this
 * process: real RocksDB with synced writes, mutual TLS on 127.0.0.1) and one agent with simulated
 * GPUs, also in this process, that starts every task as a real process; one job array of ~0 s
 * one-GPU tasks ({@code true}), timed from the submit to the last task's end as the scheduler
 * recorded it. Untimed arrays of the same tasks run first, one after the other, for
 * {@code --warmup}, so that connections are open and the JIT has compiled the path, as in a
 * scheduler and agent that have been running for a while: in a cold JVM the rate climbs for the
 * first 15 s or so (on two cores, 310 completed jobs/s in the first 3 s of a 10,000-task array,
 * 535 from the 16th s on) while C1 and C2 compile the scheduler's, the agent's, gRPC's and
 * RocksDB's paths. Each task's record is checked afterwards: every index ran once and succeeded.
 * With {@code --with-slurm}, the Slurm peer script's array phase runs the same array beside it.
 */
@Command(name = "e2e", mixinStandardHelpOptions = true,
        description = {"Completed jobs per second, end to end: a throwaway local scheduler and one agent with "
                + "simulated GPUs run one job array of one-GPU tasks that run `true` as real processes, timed from "
                + "the submit to the last task's end. Progress goes to stderr.",
                "With --with-slurm also Slurm's rate for the same array (the peer script's array phase), measured in "
                        + "the same run, and the ratio."})
final class BenchE2eCommand implements Callable<Integer> {
    private static final Duration POLL = Duration.ofMillis(50);

    @Spec
    CommandSpec spec;

    @Option(names = "--jobs", defaultValue = "2000", description = "Tasks in the array (default: ${DEFAULT-VALUE}).")
    int jobs;

    @Option(names = "--gpus", defaultValue = "8", description = "Simulated GPUs of the agent (default: "
            + "${DEFAULT-VALUE}).")
    int gpus;

    @Option(names = "--command", defaultValue = "true", description = "What each task runs (default: "
            + "${DEFAULT-VALUE}).")
    String command;

    @Option(names = "--warmup", defaultValue = "20s", converter = Durations.Converter.class,
            description = "Run untimed arrays of the same tasks for this long first (at least one), so that the JIT "
                    + "has compiled the path as in a scheduler that has been running for a while (default: "
                    + "${DEFAULT-VALUE}). "
                    + Durations.FORMS_HELP)
    Duration warmup;

    @Option(names = "--timeout", defaultValue = "10m", converter = Durations.Converter.class,
            description = "Give up if the array has not finished by then (default: ${DEFAULT-VALUE}). "
                    + Durations.FORMS_HELP)
    Duration timeout;

    @Option(names = "--isolation", defaultValue = "none", paramLabel = "none|runc",
            description = "How the agent runs tasks: none (process groups) or runc (a container each, as a root "
                    + "agent does by default; needs root and runc) (default: ${DEFAULT-VALUE}).")
    String isolation;

    @Option(names = "--run-as", paramLabel = "ACCOUNT=USER,...",
            description = "The agent's --run-as map (default: tasks run as the bench's own user).")
    String runAs;

    @Mixin
    SlurmPeer slurm;

    @Mixin
    BenchOptions options;

    /**
     * What one run measured: the tasks and how they ended, seconds from the submit to the last
     * end, the store's synced batches and records meanwhile, and this process's CPU time.
     */
    record Result(int jobs, int gpus, int succeeded, int indicesRunOnce, int attempts, double seconds,
                  double submitMs, long syncs, long records, long cpuNs, double runP50Ms, double gapP50Ms,
                  Warmup warm) {
        double perSecond() {
            return jobs / seconds;
        }

        boolean consistent() {
            return succeeded == jobs && indicesRunOnce == jobs && attempts == jobs;
        }
    }

    /** The untimed warm-up: how many arrays and tasks, how long, and the last array's own rate. */
    record Warmup(int arrays, int tasks, double seconds, double lastArrayPerSecond) {
    }

    /** The agent's confinement: {@code --isolation} and {@code --run-as}, checked as {@code coop agent} checks them. */
    private Confinement confinement() {
        try {
            Isolation mode = Isolation.of(isolation);
            RunAs users = RunAs.parse(runAs, true, LocalUser.current(), LocalUser::lookup);
            if (mode == Isolation.NONE) {
                return new Confinement(Isolation.NONE, null, users, 0, 0, java.util.List.of(), Path.of("/dev"));
            }
            Path runc = java.util.stream.Stream.of("/usr/sbin/runc", "/usr/bin/runc", "/usr/local/sbin/runc")
                    .map(Path::of).filter(java.nio.file.Files::isExecutable).findFirst()
                    .orElseThrow(() -> new CliException("--isolation runc: no runc binary (apt install runc)"));
            if (!LocalUser.current().isRoot()) {
                throw new CliException("--isolation runc needs root");
            }
            return Confinement.of(Isolation.RUNC, runc, users, 1L << 30);
        } catch (IllegalArgumentException e) {
            throw new CliException(e.getMessage(), e);
        }
    }

    /** Where progress goes: the command line's stderr. */
    private java.io.PrintWriter progress;

    @Override
    public Integer call() throws Exception {
        progress = spec.commandLine().getErr();
        if (jobs < 1 || jobs > ArraySpec.MAX_TASKS) {
            throw new CliException("--jobs must be between 1 and " + ArraySpec.MAX_TASKS);
        }
        if (gpus < 1 || gpus > 64) {
            throw new CliException("--gpus must be between 1 and 64");
        }
        if (warmup.compareTo(timeout) > 0) {
            throw new CliException("--warmup must not be longer than --timeout (" + Durations.format(timeout) + ")");
        }
        System.setProperty("org.slf4j.simpleLogger.defaultLogLevel", "warn");
        progress.printf(Locale.ROOT, "coop bench e2e: one array of %d one-GPU tasks (%s) on one agent with %d "
                + "simulated GPUs, synced RocksDB, mutual TLS on 127.0.0.1, isolation %s%n", jobs, command, gpus,
                isolation);
        Result r = measure();
        SlurmPeer.Figure array = slurm.measure("complete_jobs_per_s", progress, "PHASES=array", "N=" + jobs,
                "GPUS=" + gpus, "REPS=1");
        double recordsPerBatch = r.syncs() == 0 ? 0 : (double) r.records() / r.syncs();
        BenchReport report = new BenchReport().put("jobs_per_s", round(r.perSecond(), 1));
        if (slurm.enabled) {
            report.put("slurm_jobs_per_s", array.value())
                    .put("ratio", array.value() == null ? null : round(r.perSecond() / array.value(), 1));
        }
        report.put("isolation", isolation)
                .put("jobs", r.jobs())
                .put("gpus", r.gpus())
                .put("succeeded", r.succeeded())
                .put("indices_run_once", r.indicesRunOnce())
                .put("attempts", r.attempts())
                .put("seconds", round(r.seconds(), 3))
                .put("submit_ms", round(r.submitMs(), 1))
                .put("synced_batches", r.syncs())
                .put("records_per_batch", round(recordsPerBatch, 1))
                .put("cpu_ms_per_job", round(r.cpuNs() / 1e6 / r.jobs(), 3))
                .put("start_to_end_p50_ms", round(r.runP50Ms(), 1))
                .put("end_to_next_start_p50_ms", round(r.gapP50Ms(), 1))
                .put("warmup_arrays", r.warm().arrays())
                .put("warmup_tasks", r.warm().tasks())
                .put("warmup_seconds", round(r.warm().seconds(), 3))
                .put("warmup_last_array_jobs_per_s", round(r.warm().lastArrayPerSecond(), 1));
        report.line("%d tasks on %d GPUs done in %.2f s from the submit (%.1f ms) to the last end: %.1f completed "
                + "jobs/s", r.jobs(), r.gpus(), r.seconds(), r.submitMs(), r.perSecond());
        report.line("tasks: %d succeeded, %d indices ran exactly once, %d attempts in all", r.succeeded(),
                r.indicesRunOnce(), r.attempts());
        report.line("store: %d synced batches, %.1f records per batch; CPU (scheduler, agent, clients; not the "
                + "tasks): %.3f ms per job", r.syncs(), recordsPerBatch, r.cpuNs() / 1e6 / r.jobs());
        report.line("per task, p50: %.1f ms from the scheduler's start order to the end the agent reported; %.1f ms "
                + "from an end to the next start on the same GPU", r.runP50Ms(), r.gapP50Ms());
        report.line("warm-up, untimed: %d arrays, %d tasks in %.1f s; the last one %.1f completed jobs/s",
                r.warm().arrays(), r.warm().tasks(), r.warm().seconds(), r.warm().lastArrayPerSecond());
        if (array.value() != null) {
            report.line("Slurm, the same %d-task array on %d GPUs, same run: %.1f jobs/s; coop/Slurm = %.1fx", jobs,
                    gpus, array.value(), r.perSecond() / array.value());
        }
        report.print(spec.commandLine().getOut(), options.json);
        if (!r.consistent()) {
            spec.commandLine().getErr().println("coop bench e2e: the run is not consistent: " + r.succeeded() + " of "
                    + r.jobs() + " tasks succeeded, " + r.indicesRunOnce() + " indices ran exactly once, "
                    + r.attempts() + " attempts");
            spec.commandLine().getErr().flush();
            return 1;
        }
        return array.failed("coop bench e2e", spec.commandLine().getErr()) ? 1 : 0;
    }

    private Result measure() throws Exception {
        Path dir = Files.createTempDirectory("coop-bench-e2e");
        try {
            Path data = dir.resolve("data");
            Params params = Params.DEFAULTS.with(Map.of("max_pending_per_member",
                    Math.max(Params.DEFAULTS.maxPendingPerMember(), jobs + warmupJobs())));
            Identity me = InitCommand.found(data, List.of("bench"), List.of("bench"), dir.resolve("identities"),
                    "127.0.0.1:0", params, new SecureRandom()).get("bench");
            try (SchedulerServer server = SchedulerServer.start(new SchedulerServer.Config(data, "127.0.0.1", 0,
                    Duration.ofSeconds(5), null), InstantSource.system())) {
                String target = "127.0.0.1:" + server.port();
                try (Client client = new Client(target, me)) {
                    var enrolled = client.nodes().enroll(EnrollRequest.newBuilder().setName("e2e-1").setSite("local")
                            .setAccount("bench").build());
                    Agent agent = Agent.create(new AgentConfig(target, "e2e-1", "local",
                            GpuSpec.parse("sim:" + gpus + "xA100").resolve(NvidiaSmi.onSystemPath()),
                            dir.resolve("agent"), Agent.version(), null, enrolled.getToken(),
                            NodeIdentity.tls(enrolled), confinement(), Duration.ZERO, coop.agent.NodeHooks.NONE));
                    try {
                        agent.start();
                        awaitOnline(client);
                        return run(server, client);
                    } finally {
                        agent.close();
                    }
                }
            }
        } finally {
            ThrowawayFolder.delete(dir);
        }
    }

    private void awaitOnline(Client client) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        while (client.nodes().listNodes(ListNodesRequest.getDefaultInstance()).getNodesList().stream()
                .noneMatch(n -> n.getState().equals("online"))) {
            if (System.nanoTime() > deadline) {
                throw new CliException("the agent did not connect within 60 s");
            }
            Thread.sleep(POLL.toMillis());
        }
    }

    /** Tasks of each untimed warm-up array: a tenth of the timed ones, at least 4 rounds of every GPU, at most 500. */
    int warmupJobs() {
        return Math.min(ArraySpec.MAX_TASKS, Math.max(4 * gpus, Math.min(jobs / 10, 500)));
    }

    /** Untimed arrays, one after the other, until {@link #warmup} has passed (at least one). */
    private Warmup warmUp(Client client) throws InterruptedException {
        progress.printf(Locale.ROOT, "  warm-up: untimed arrays of %d tasks for %s%n", warmupJobs(),
                Durations.format(warmup));
        long t0 = System.nanoTime();
        long deadline = t0 + timeout.toNanos();
        int arrays = 0;
        double lastRate = 0;
        do {
            long startMs = System.currentTimeMillis();
            SubmitResponse warm = client.jobs().submit(task("e2e-warm-up", warmupJobs()));
            JobArray done;
            while ((done = client.jobs().getArray(GetArrayRequest.newBuilder().setArrayId(warm.getArrayId()).build()))
                    .getFinishedAtMs() == 0) {
                if (System.nanoTime() > deadline) {
                    throw new CliException("the warm-up did not finish within " + Durations.format(timeout));
                }
                Thread.sleep(POLL.toMillis());
            }
            arrays++;
            lastRate = warmupJobs() / Math.max(1e-3, (done.getFinishedAtMs() - startMs) / 1e3);
        } while (System.nanoTime() - t0 < warmup.toNanos());
        double seconds = (System.nanoTime() - t0) / 1e9;
        progress.printf(Locale.ROOT, "  warm-up: %d arrays, %d tasks in %.1f s; the last one %.1f completed jobs/s%n",
                arrays, arrays * warmupJobs(), seconds, lastRate);
        return new Warmup(arrays, arrays * warmupJobs(), seconds, lastRate);
    }

    private Result run(SchedulerServer server, Client client) throws InterruptedException {
        Warmup warm = warmUp(client);
        Store.Counters before = server.storeCounters();
        long cpu0 = processCpuNs();
        long startMs = System.currentTimeMillis();
        long t0 = System.nanoTime();
        SubmitResponse submitted = client.jobs().submit(task("e2e", jobs));
        double submitMs = (System.nanoTime() - t0) / 1e6;
        long deadline = t0 + timeout.toNanos();
        long nextReport = t0;
        JobArray array;
        while (true) {
            array = client.jobs().getArray(GetArrayRequest.newBuilder().setArrayId(submitted.getArrayId()).build());
            if (array.getFinishedAtMs() != 0) {
                break;
            }
            long now = System.nanoTime();
            if (now > deadline) {
                throw new CliException("the array did not finish within " + Durations.format(timeout) + ": "
                        + JobText.counts(array));
            }
            if (now >= nextReport) {
                progress.printf(Locale.ROOT, "  %5.1f s: %s%n", (now - t0) / 1e9, JobText.counts(array));
                progress.flush();
                nextReport = now + TimeUnit.SECONDS.toNanos(1);
            }
            Thread.sleep(POLL.toMillis());
        }
        long cpu = processCpuNs() - cpu0;
        Store.Counters after = server.storeCounters();
        // The scheduler's own record of the last end, on the clock the start was read from.
        double seconds = (array.getFinishedAtMs() - startMs) / 1e3;
        progress.printf(Locale.ROOT, "  %5.1f s: %s%n", seconds, JobText.counts(array));
        List<Job> tasks = client.allJobs(ListJobsRequest.newBuilder().setArrayId(submitted.getArrayId())
                .build());
        BitSet seen = new BitSet();
        BitSet twice = new BitSet();
        int attempts = 0;
        for (Job t : tasks) {
            if (seen.get(t.getArrayIndex())) {
                twice.set(t.getArrayIndex());
            }
            seen.set(t.getArrayIndex());
            attempts += t.getAttemptsCount();
        }
        int once = 0;
        for (Job t : tasks) {
            if (!twice.get(t.getArrayIndex()) && t.getAttemptsCount() == 1 && t.getArrayIndex() < jobs) {
                once++;
            }
        }
        // Where the time goes: start order to reported end (launch, the process, its exit), and a
        // GPU's idle time from one end to the next start there (report, commit, allocation).
        List<Long> runs = new java.util.ArrayList<>();
        Map<String, java.util.TreeMap<Long, Long>> byGpu = new java.util.HashMap<>();
        for (Job t : tasks) {
            for (var a : t.getAttemptsList()) {
                runs.add(a.getFinishedAtMs() - a.getStartedAtMs());
                for (var p : a.getPlacementsList()) {
                    byGpu.computeIfAbsent(p.getNode() + "/" + p.getGpuIndicesList(), g -> new java.util.TreeMap<>())
                            .put(a.getStartedAtMs() * 10_000 + runs.size(), a.getFinishedAtMs());
                }
            }
        }
        List<Long> gaps = new java.util.ArrayList<>();
        for (var g : byGpu.values()) {
            Long end = null;
            for (var e : g.entrySet()) {
                if (end != null) {
                    gaps.add(e.getKey() / 10_000 - end);
                }
                end = e.getValue();
            }
        }
        int succeeded = array.getCountsList().stream().filter(c -> c.getState() == JobState.SUCCEEDED)
                .mapToInt(StateCount::getCount).sum();
        return new Result(jobs, gpus, succeeded, once, attempts, seconds, submitMs,
                after.syncs() - before.syncs(), after.records() - before.records(), cpu, median(runs), median(gaps), warm);
    }

    private static double median(List<Long> values) {
        if (values.isEmpty()) {
            return 0;
        }
        List<Long> sorted = values.stream().sorted().toList();
        return sorted.get(sorted.size() / 2);
    }

    private SubmitRequest task(String name, int tasks) {
        return SubmitRequest.newBuilder().setAccount("bench").setGpusPerNode(1).setCommand(command)
                .setWalltimeSeconds(600).setName(name).setArray("0-" + (tasks - 1)).build();
    }

    private static long processCpuNs() {
        return java.lang.management.ManagementFactory.getOperatingSystemMXBean()
                instanceof com.sun.management.OperatingSystemMXBean os ? Math.max(0, os.getProcessCpuTime()) : 0;
    }
}
