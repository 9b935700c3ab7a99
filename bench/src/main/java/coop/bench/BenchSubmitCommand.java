package coop.bench;

import static coop.bench.BenchReport.round;

import com.google.common.util.concurrent.MoreExecutors;
import coop.cli.CliException;
import coop.cli.Client;
import coop.cli.Identity;
import coop.cli.InitCommand;
import coop.scheduler.SchedulerServer;
import coop.scheduler.domain.Params;
import coop.scheduler.store.Store;
import coop.v1.SubmitRequest;
import coop.v1.SubmitResponse;
import io.grpc.stub.StreamObserver;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code coop bench submit}: durable submits per second over real gRPC. A throwaway scheduler
 * (in this process, real RocksDB with synced writes, a real socket on 127.0.0.1) and N clients,
 * each a member with its own mutual-TLS connection, submitting one job after another as sbatch
 * does: the next only once the reply to the last has come, and a reply comes only once the
 * job is on disk. Nothing runs the jobs (no nodes), so the queue grows to every job submitted.
 * With {@code --with-slurm}, the Slurm peer script measures sbatch beside it with as many
 * concurrent clients.
 */
@Command(name = "submit", mixinStandardHelpOptions = true,
        description = {"Durable submits per second over real gRPC to a throwaway local scheduler: N clients, each "
                + "waiting for its reply (the job synced to disk) before the next submit, as sbatch does.",
                "Prints submits/s, p50/p99 latency, and the store's synced batches (group commit); with --with-slurm "
                        + "also Slurm's sbatch rate with as many clients, measured in the same run."})
final class BenchSubmitCommand implements Callable<Integer> {

    @Spec
    CommandSpec spec;

    @Option(names = "--clients", defaultValue = "16", description = "Concurrent clients, one connection and one "
            + "member each (default: ${DEFAULT-VALUE}).")
    int clients;

    @Option(names = "--jobs", defaultValue = "50000", description = "Jobs in all (default: ${DEFAULT-VALUE}).")
    int jobs;

    @Mixin
    SlurmPeer slurm;

    @Option(names = "--slurm-jobs", defaultValue = "2000", description = "Jobs per Slurm measurement (N; Slurm's "
            + "MaxJobCount is 10000) (default: ${DEFAULT-VALUE}).")
    int slurmJobs;

    @Mixin
    BenchOptions options;

    /**
     * What the clients measured (the timed submits, after the warm-up ones),
     * what the store wrote meanwhile, and the jobs in the store once the scheduler stopped.
     */
    record Result(int jobs, double seconds, long[] latenciesNs, long syncs, long records, long cpuNs, long stored) {
        double perSecond() {
            return latenciesNs.length / seconds;
        }

        double percentileMs(double p) {
            if (latenciesNs.length == 0) {
                return 0;
            }
            int i = (int) Math.ceil(p * latenciesNs.length) - 1;
            return latenciesNs[Math.max(0, Math.min(latenciesNs.length - 1, i))] / 1e6;
        }
    }

    @Override
    public Integer call() throws Exception {
        if (clients < 1 || jobs < 2 * clients) {
            throw new CliException("--clients must be at least 1 and --jobs at least twice --clients");
        }
        if (slurm.enabled && slurmJobs < 1) {
            throw new CliException("--slurm-jobs must be at least 1");
        }
        System.err.printf(Locale.ROOT, "coop bench submit: %d clients, %d jobs (the first %d untimed), synced RocksDB, "
                + "gRPC on 127.0.0.1%n", clients, jobs, warmupJobs());
        Result r = measure();
        SlurmPeer.Figure sbatch = slurm.measure("submit_individual_jobs_per_s", spec.commandLine().getErr(),
                "PHASES=submit", "SUBMIT_PAR=" + clients, "N=" + slurmJobs);
        double batch = r.syncs() == 0 ? 0 : (double) r.records() / r.syncs();
        double cpuMsPerSubmit = r.cpuNs() / 1e6 / r.latenciesNs().length;
        BenchReport report = new BenchReport()
                .put("submits_per_s", Math.round(r.perSecond()))
                .put("p50_ms", round(r.percentileMs(0.50), 2))
                .put("p99_ms", round(r.percentileMs(0.99), 2));
        if (slurm.enabled) {
            report.put("slurm_submits_per_s", sbatch.value());
        }
        report.put("clients", clients)
                .put("jobs", r.jobs())
                .put("timed_jobs", r.latenciesNs().length)
                .put("jobs_stored", r.stored())
                .put("seconds", round(r.seconds(), 2))
                .put("syncs_per_s", Math.round(r.syncs() / r.seconds()))
                .put("records_per_batch", round(batch, 2))
                .put("cpu_ms_per_submit", round(cpuMsPerSubmit, 3));
        report.line("%d durable submits timed in %.2f s from %d clients (after %d untimed): %.0f submits/s, latency "
                        + "p50 %.2f ms, p99 %.2f ms", r.latenciesNs().length, r.seconds(), clients,
                r.jobs() - r.latenciesNs().length, r.perSecond(), r.percentileMs(0.50), r.percentileMs(0.99));
        report.line("CPU (clients and scheduler, one process): %.3f ms per submit, %.0f %% of one core on average",
                cpuMsPerSubmit, 100 * r.cpuNs() / 1e9 / r.seconds());
        report.line("store: %d synced batches (%.0f per second), %.1f records per batch; %d jobs in the store "
                + "afterwards", r.syncs(), r.syncs() / r.seconds(), batch, r.stored());
        if (sbatch.value() != null) {
            report.line("Slurm sbatch, %d clients, same run: %.1f submits/s; coop/Slurm = %.0fx", clients,
                    sbatch.value(), r.perSecond() / sbatch.value());
        }
        report.print(spec.commandLine().getOut(), options.json);
        return sbatch.failed("coop bench submit", spec.commandLine().getErr()) ? 1 : 0;
    }

    private Result measure() throws Exception {
        Path dir = Files.createTempDirectory("coop-bench-submit");
        try {
            Path data = dir.resolve("data");
            List<String> members = new ArrayList<>();
            for (int i = 1; i <= clients; i++) {
                members.add("c" + i);
            }
            // Nothing runs the jobs, so each member's queue ends at its share of --jobs.
            long perMember = (jobs + clients - 1) / clients;
            Params params = Params.DEFAULTS.with(Map.of("max_pending_per_member",
                    Math.max(Params.DEFAULTS.maxPendingPerMember(), perMember)));
            Map<String, Identity> ids = InitCommand.found(data, members, List.of("bench"), dir.resolve("identities"),
                    null, params, new SecureRandom());
            Result r;
            try (SchedulerServer server = SchedulerServer.start(SchedulerServer.Config.of(data, "127.0.0.1", 0),
                    InstantSource.system())) {
                r = submitAll(server, ids, members);
            }
            try (Store store = Store.openReadOnly(data)) {
                long[] stored = {0};
                store.scanRaw(Store.Kind.JOBS, (k, v) -> stored[0]++);
                return new Result(r.jobs(), r.seconds(), r.latenciesNs(), r.syncs(), r.records(), r.cpuNs(), stored[0]);
            }
        } finally {
            ThrowawayFolder.delete(dir);
        }
    }

    private Result submitAll(SchedulerServer server, Map<String, Identity> ids, List<String> members)
            throws Exception {
        String target = "127.0.0.1:" + server.port();
        List<Client> connections = new ArrayList<>();
        try {
            for (String m : members) {
                connections.add(new Client(target, ids.get(m), false));
            }
            int warm = warmupJobs();
            // Untimed first: connections open and the JIT compiles the path (on 2 cores its threads
            // compete with the run for seconds).
            phase(connections, warm, 0);
            Store.Counters before = server.storeCounters();
            long cpu0 = processCpuNs();
            long t0 = System.nanoTime();
            long[] all = phase(connections, jobs - warm, warm);
            double seconds = (System.nanoTime() - t0) / 1e9;
            long cpu = processCpuNs() - cpu0;
            Store.Counters after = server.storeCounters();
            Arrays.sort(all);
            return new Result(jobs, seconds, all, after.syncs() - before.syncs(), after.records() - before.records(),
                    cpu, 0);
        } finally {
            connections.forEach(Client::close);
        }
    }

    /** The jobs submitted before the timed ones: a tenth, at most 5000, and at least one per client. */
    int warmupJobs() {
        return Math.max(clients, Math.min(jobs / 10, 5000));
    }

    /**
     * Submits {@code count} jobs spread over the clients, all at once; returns each submit's latency.
     * Each client keeps exactly one submit in flight and sends its next one from the callback of
     * the last reply (on the connection's own I/O thread): the same closed loop as a thread
     * blocked on each call, without a thread per client and the hand-offs to and from it, which
     * on these 2 cores were CPU taken from the scheduler being measured.
     */
    private long[] phase(List<Client> connections, int count, int firstName) throws InterruptedException {
        long[][] latencies = new long[connections.size()][];
        CountDownLatch done = new CountDownLatch(connections.size());
        AtomicReference<Throwable> failed = new AtomicReference<>();
        List<ClosedLoop> loops = new ArrayList<>();
        int name = firstName;
        for (int i = 0; i < connections.size(); i++) {
            int n = count / connections.size() + (i < count % connections.size() ? 1 : 0);
            latencies[i] = new long[n];
            loops.add(new ClosedLoop(connections.get(i), name, latencies[i], done, failed));
            name += n;
        }
        loops.forEach(ClosedLoop::next);
        if (!done.await(Math.max(60, count / 100), TimeUnit.SECONDS)) {
            throw new CliException("the submits did not finish in time");
        }
        if (failed.get() != null) {
            throw new CliException("a submit failed: " + failed.get().getMessage());
        }
        return Arrays.stream(latencies).flatMapToLong(Arrays::stream).toArray();
    }

    /**
     * One client's run of submits: the next is sent only once the reply to the last has come, and
     * each latency runs from the call's start to its reply's end (the job is on disk by then).
     */
    private static final class ClosedLoop implements StreamObserver<SubmitResponse> {
        private final Client client;
        private final int firstName;
        private final long[] latencies;
        private final CountDownLatch done;
        private final AtomicReference<Throwable> failed;
        private int k;
        private long t0;
        private boolean replied;

        ClosedLoop(Client client, int firstName, long[] latencies, CountDownLatch done,
                   AtomicReference<Throwable> failed) {
            this.client = client;
            this.firstName = firstName;
            this.latencies = latencies;
            this.done = done;
            this.failed = failed;
        }

        void next() {
            if (k == latencies.length || failed.get() != null) {
                done.countDown();
                return;
            }
            replied = false;
            t0 = System.nanoTime();
            client.jobsAsync().withExecutor(MoreExecutors.directExecutor()).submit(request(firstName + k), this);
        }

        @Override
        public void onNext(SubmitResponse r) {
            replied = true;
        }

        @Override
        public void onError(Throwable e) {
            failed.compareAndSet(null, e);
            done.countDown();
        }

        @Override
        public void onCompleted() {
            if (!replied) {
                onError(new IllegalStateException("a submit ended without a job id"));
                return;
            }
            latencies[k++] = System.nanoTime() - t0;
            next();
        }
    }

    /** CPU time of this whole process (clients and scheduler alike), or 0 where the JVM does not tell. */
    private static long processCpuNs() {
        return java.lang.management.ManagementFactory.getOperatingSystemMXBean()
                instanceof com.sun.management.OperatingSystemMXBean os ? Math.max(0, os.getProcessCpuTime()) : 0;
    }

    private static SubmitRequest request(int k) {
        return SubmitRequest.newBuilder().setAccount("bench").setGpusPerNode(1).setCommand("true")
                .setWalltimeSeconds(60).setName("bench-" + k).build();
    }
}
