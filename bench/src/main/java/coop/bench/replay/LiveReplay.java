package coop.bench.replay;

import coop.agent.Agent;
import coop.agent.AgentConfig;
import coop.agent.GpuSpec;
import coop.agent.NvidiaSmi;
import coop.cli.Client;
import coop.cli.Identity;
import coop.cli.InitCommand;
import coop.scheduler.SchedulerServer;
import coop.scheduler.domain.Params;
import coop.scheduler.sim.Shares;
import coop.scheduler.sim.SimulatedCluster;
import coop.scheduler.sim.Trace;
import coop.scheduler.sim.TraceJob;
import coop.v1.AccountShare;
import coop.v1.CancelRequest;
import coop.v1.Choice;
import coop.v1.Job;
import coop.v1.JobState;
import coop.v1.JobsGrpc;
import coop.v1.ListJobsRequest;
import coop.v1.ListNodesRequest;
import coop.v1.NodeInfo;
import coop.v1.Proposal;
import coop.v1.ProposalState;
import coop.v1.ProposeRequest;
import coop.v1.SharesChange;
import coop.v1.SubmitRequest;
import coop.v1.SubmitResponse;
import coop.v1.UsageRequest;
import coop.v1.VoteRequest;
import com.google.common.util.concurrent.ListenableFuture;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.MetadataUtils;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Duration;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

/**
 * Replays a trace through a real cluster on this machine, in real time: a scheduler with
 * RocksDB in a folder and gRPC on 127.0.0.1, one in-process agent per node of the simulated
 * cluster (same names and site as the simulator's, simulated GPUs), one member in every
 * account who votes the shares through governance, and every trace job submitted at its
 * trace time after the start, running {@link SleepCommand} for its run time. Jobs of one
 * instant are sent together so that, as in the simulator, one allocation cycle sees them all.
 *
 * <p>The replay stops at the trace's last submit (or, draining, once every job has ended),
 * cancels what is left and returns every job as the scheduler recorded it, with its attempts.
 */
public final class LiveReplay {
    /** The member who submits every job and votes the shares; founders given without accounts belong to all. */
    static final String MEMBER = "bench";
    /** Simulated GPUs of each agent: the model is not what the trace asks for (it asks for none). */
    static final String GPU_MODEL = "A100-80GB";
    private static final Duration HEARTBEAT = Duration.ofSeconds(2);
    private static final Duration PROGRESS_EVERY = Duration.ofSeconds(10);
    private static final Duration SAMPLE = Duration.ofMillis(200);
    /** The first submit comes this long after the clock starts, so the submitter is ready for it. */
    private static final Duration LEAD = Duration.ofMillis(500);
    static final String JOB_NAME_PREFIX = "trace-";
    private static final int MAX_PRIORITY = 1000;
    private static final int MIN_PRIORITY = -1000;
    private static final int WARM_UP_ROUNDS = 10;

    /**
     * What to replay and how: the trace (already cut and sped up), the cluster and shares the
     * simulator uses, the preemption grace (whole seconds, as agents take it), the data folder
     * (must be empty), whether to run on until every job has ended, the sleep margin of
     * {@link SleepCommand}, and the founding policy's minimum run before preemption and reserve
     * wait (whole seconds, sped up as the trace is).
     */
    public record Settings(Trace trace, SimulatedCluster cluster, Shares shares, Duration grace, Path data,
                           boolean drain, long marginMs, Duration minRun, Duration reserveWait) {
    }

    /**
     * What the live cluster recorded: the wall-clock instant the trace's time 0 stood for, when
     * the replay stopped, each trace job's coop job id, and every job with its attempts.
     */
    public record Run(long startMs, long stopMs, Map<Long, Long> jobIds, List<Job> jobs) {
    }

    private final Settings settings;
    private final PrintStream progress;
    private final long t0 = System.nanoTime();

    public LiveReplay(Settings settings, PrintStream progress) {
        this.settings = settings;
        this.progress = progress;
    }

    public Run run() throws IOException, InterruptedException {
        Path data = settings.data();
        Path checkpoints = data.resolve("checkpoints");
        Path stop = data.resolve("stop");
        TreeSet<String> accounts = new TreeSet<>(settings.shares().basisPoints().keySet());
        accounts.addAll(settings.trace().accounts());
        Params founding = Params.DEFAULTS.with(Map.of("min_run_before_preempt_s", settings.minRun().toSeconds(),
                "reserve_wait_s", settings.reserveWait().toSeconds()));
        Map<String, Identity> ids = InitCommand.found(data, List.of(MEMBER), List.copyOf(accounts),
                data.resolve("identities"), "127.0.0.1:0", founding, new SecureRandom());
        Files.createDirectories(checkpoints);
        Identity me = ids.get(MEMBER);
        SimulatedCluster cluster = settings.cluster();
        try (SchedulerServer server = SchedulerServer.start(new SchedulerServer.Config(data, "127.0.0.1", 0, HEARTBEAT,
                settings.grace()), InstantSource.system())) {
            String target = "127.0.0.1:" + server.port();
            say("scheduler on %s (RocksDB in %s), preemption grace %d s", target, data.resolve("db"),
                    settings.grace().toSeconds());
            List<Agent> agents = new ArrayList<>();
            Client client = new Client(target, me);
            ManagedChannel submitChannel = channel(target, me);
            ScheduledExecutorService submitter = Executors.newSingleThreadScheduledExecutor(r -> {
                Thread t = new Thread(r, "coop-replay-submit");
                t.setDaemon(true);
                return t;
            });
            try {
                for (int i = 0; i < cluster.nodes(); i++) {
                    String name = cluster.nodeName(i);
                    var gpus = GpuSpec.parse("sim:" + cluster.gpusPerNode() + "x" + GPU_MODEL)
                            .resolve(NvidiaSmi.onSystemPath());
                    var enrolled = client.nodes().enroll(coop.v1.EnrollRequest.newBuilder().setName(name)
                            .setSite(cluster.site()).setAccount(accounts.first()).build());
                    Agent agent = Agent.create(new AgentConfig(target, name, cluster.site(), gpus,
                            data.resolve("agents").resolve(name), Agent.version(), null, enrolled.getToken(),
                            coop.cli.NodeIdentity.tls(enrolled)));
                    agents.add(agent);
                    agent.start();
                }
                awaitNodes(client, cluster);
                say("%d agents online at site %s: %s", cluster.nodes(), cluster.site(), cluster);
                warmUp(client, JobsGrpc.newFutureStub(submitChannel));
                vote(client);
                return replay(client, JobsGrpc.newFutureStub(submitChannel), submitter, checkpoints, stop);
            } finally {
                submitter.shutdownNow();
                // Jobs exit at once on SIGTERM from here on, whoever sends it.
                Files.writeString(stop, "the replay is over\n");
                boolean interrupted = Thread.interrupted();
                try {
                    cancelAll(client, Duration.ofSeconds(interrupted ? 5 : 30));
                } catch (RuntimeException | InterruptedException e) {
                    // Best effort: the agents below stop whatever still runs.
                }
                submitChannel.shutdownNow();
                client.close();
                agents.forEach(Agent::close);
                if (interrupted) {
                    Thread.currentThread().interrupt();
                }
            }
        }
    }

    private Run replay(Client client, JobsGrpc.JobsFutureStub jobs, ScheduledExecutorService submitter,
                       Path checkpoints, Path stop) throws InterruptedException {
        Trace trace = settings.trace();
        TreeMap<Long, List<TraceJob>> instants = new TreeMap<>();
        trace.jobs().forEach(j -> instants.computeIfAbsent(j.submitMs(), t -> new ArrayList<>()).add(j));
        long lastSubmitMs = trace.jobs().get(trace.jobs().size() - 1).submitMs();
        long graceMs = settings.grace().toMillis();
        Map<Long, Integer> order = priorities(trace);

        Map<Long, Long> jobIds = new ConcurrentHashMap<>();
        AtomicInteger submitted = new AtomicInteger();
        AtomicReference<Throwable> failure = new AtomicReference<>();
        CountDownLatch allSent = new CountDownLatch(instants.size());
        long startNanos = System.nanoTime() + LEAD.toNanos();
        long startMs = System.currentTimeMillis() + LEAD.toMillis();
        for (var instant : instants.entrySet()) {
            long at = startNanos + TimeUnit.MILLISECONDS.toNanos(instant.getKey());
            // Each instant is scheduled against the absolute start, so late instants do not drift.
            submitter.schedule(() -> {
                try {
                    List<TraceJob> batch = instant.getValue();
                    List<ListenableFuture<SubmitResponse>> replies = new ArrayList<>();
                    for (TraceJob j : batch) {
                        replies.add(jobs.withDeadlineAfter(30, TimeUnit.SECONDS)
                                .submit(request(j, order.get(j.id()), checkpoints, stop, graceMs)));
                    }
                    for (int i = 0; i < replies.size(); i++) {
                        jobIds.put(batch.get(i).id(), replies.get(i).get().getJobId());
                        submitted.incrementAndGet();
                    }
                } catch (ExecutionException e) {
                    failure.compareAndSet(null, e.getCause());
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                } catch (RuntimeException e) {
                    failure.compareAndSet(null, e);
                } finally {
                    allSent.countDown();
                }
            }, at - System.nanoTime(), TimeUnit.NANOSECONDS);
        }
        say("replaying %d jobs of %s from now until %s (last submit)%s", trace.jobs().size(), trace.source(),
                clock(lastSubmitMs), settings.drain() ? ", then until every job has ended" : "");

        long windowEnd = startNanos + TimeUnit.MILLISECONDS.toNanos(lastSubmitMs);
        long nextReport = startNanos + PROGRESS_EVERY.toNanos();
        while (true) {
            Throwable f = failure.get();
            if (f != null) {
                throw new IllegalStateException("submitting a job failed: " + f.getMessage(), f);
            }
            long now = System.nanoTime();
            boolean windowOver = now >= windowEnd && allSent.getCount() == 0;
            if (windowOver && !settings.drain()) {
                break;
            }
            if (windowOver || now >= nextReport) {
                Map<JobState, Integer> states = states(client);
                boolean busy = states.getOrDefault(JobState.PENDING, 0) + states.getOrDefault(JobState.RUNNING, 0) > 0;
                if (windowOver && !busy && submitted.get() == trace.jobs().size()) {
                    break;
                }
                if (now >= nextReport) {
                    nextReport += PROGRESS_EVERY.toNanos();
                    report(client, states, submitted.get(), (now - startNanos) / 1_000_000, lastSubmitMs);
                }
            }
            long sleepNanos = Math.min(SAMPLE.toNanos(), Math.max(1_000_000, Math.min(windowEnd, nextReport) - now));
            TimeUnit.NANOSECONDS.sleep(sleepNanos);
        }
        long stopMs = System.currentTimeMillis();
        say("stopping at %s: %d of %d jobs submitted; cancelling what is left", clock(stopMs - startMs),
                submitted.get(), trace.jobs().size());
        submitter.shutdownNow();
        try {
            Files.writeString(stop, "the replay is over\n");
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
        cancelAll(client, Duration.ofSeconds(30));
        List<Job> recorded = client.allJobs(ListJobsRequest.getDefaultInstance());
        return new Run(startMs, stopMs, Map.copyOf(jobIds), recorded);
    }

    /**
     * Each job's priority: the trace's order within its account, from {@code 1000} down. The
     * simulator orders an account's jobs by submit time, then by trace order; live, the jobs
     * of one instant go out together and get ids in whatever order they arrive, so the trace's
     * order travels as the priority, which orders jobs only within their account. Past 2,000
     * jobs of one account the rest share the lowest priority and keep submit-time order.
     */
    static Map<Long, Integer> priorities(Trace trace) {
        Map<String, Integer> seen = new HashMap<>();
        Map<Long, Integer> out = new HashMap<>();
        for (TraceJob j : trace.jobs()) {
            int k = seen.merge(j.account(), 1, Integer::sum) - 1;
            out.put(j.id(), Math.max(MIN_PRIORITY, MAX_PRIORITY - k));
        }
        return out;
    }

    private SubmitRequest request(TraceJob j, int priority, Path checkpoints, Path stop, long graceMs) {
        int[] shape = settings.cluster().shapeOf(j.gpus());
        return SubmitRequest.newBuilder()
                .setAccount(j.account())
                .setGpusPerNode(shape[0])
                .setNodes(shape[1])
                .setGpuModel(j.gpuModel())
                // As the simulator declares it (the run time, rounded up to whole seconds), and one second
                // more for what the live run adds to a job (launch, a resumed attempt's checkpoint): a job
                // its walltime stops ends TIMEOUT, which a replayed job that did its work must not.
                .setWalltimeSeconds(Math.max(1, (j.durationMs() + 999) / 1000) + 1)
                .setName(JOB_NAME_PREFIX + j.id())
                .setPriority(priority)
                .setCommand(SleepCommand.of(checkpoints.resolve(Long.toString(j.id())), stop, j.durationMs(), graceMs,
                        settings.marginMs()))
                .build();
    }

    /**
     * Runs a few rounds of one-node jobs that exit at once, so that the first trace submits do
     * not wait for the scheduler's and agents' code to load and compile. This happens before
     * the vote, whose enactment starts every account's usage from zero.
     */
    private void warmUp(Client client, JobsGrpc.JobsFutureStub jobs) throws InterruptedException {
        String account = settings.trace().jobs().get(0).account();
        SimulatedCluster cluster = settings.cluster();
        try {
            for (int round = 0; round < WARM_UP_ROUNDS; round++) {
                List<ListenableFuture<SubmitResponse>> replies = new ArrayList<>();
                for (int i = 0; i < cluster.nodes(); i++) {
                    replies.add(jobs.withDeadlineAfter(30, TimeUnit.SECONDS).submit(SubmitRequest.newBuilder()
                            .setAccount(account).setGpusPerNode(cluster.gpusPerNode()).setWalltimeSeconds(60)
                            .setName("warm-up").setCommand("true").build()));
                }
                for (ListenableFuture<SubmitResponse> r : replies) {
                    r.get();
                }
            }
        } catch (ExecutionException e) {
            throw new IllegalStateException("the scheduler does not take jobs: " + e.getCause().getMessage(), e);
        }
        long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        while (!client.jobs().listJobs(ListJobsRequest.newBuilder().addStates(JobState.PENDING)
                .addStates(JobState.RUNNING).build()).getJobsList().isEmpty()) {
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("the warm-up jobs did not end within 60 s");
            }
            Thread.sleep(SAMPLE.toMillis());
        }
    }

    private static ManagedChannel channel(String target, Identity who) {
        Metadata headers = new Metadata();
        headers.put(Client.MEMBER_HEADER, who.member());
        headers.put(Client.TOKEN_HEADER, who.token());
        return coop.agent.ClientTls.channel(target, who.tls()).userAgent("coop-bench-replay")
                .intercept(MetadataUtils.newAttachHeadersInterceptor(headers)).build();
    }

    private void awaitNodes(Client client, SimulatedCluster cluster) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        while (true) {
            List<NodeInfo> online = client.nodes().listNodes(ListNodesRequest.getDefaultInstance()).getNodesList()
                    .stream().filter(n -> n.getState().equals("online")).toList();
            if (online.size() == cluster.nodes()) {
                return;
            }
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("only " + online.size() + " of " + cluster.nodes()
                        + " agents connected in 60 s");
            }
            Thread.sleep(SAMPLE.toMillis());
        }
    }

    /** The member proposes the shares and votes yes; as the only member, that passes and enacts them. */
    private void vote(Client client) {
        SharesChange.Builder change = SharesChange.newBuilder();
        new TreeMap<>(settings.shares().basisPoints()).forEach((a, bp) ->
                change.addShares(AccountShare.newBuilder().setAccount(a).setBasisPoints(bp)));
        Proposal p = client.propose(ProposeRequest.newBuilder().setTitle("replay shares")
                .setShares(change));
        p = client.vote(VoteRequest.newBuilder().setProposalId(p.getId()).setChoice(Choice.YES));
        if (p.getState() != ProposalState.PASSED) {
            throw new IllegalStateException("the shares proposal did not pass: " + p.getOutcome());
        }
        say("shares voted and enacted as policy v%d", p.getEnactedPolicyVersion());
    }

    private static Map<JobState, Integer> states(Client client) {
        Map<JobState, Integer> counts = new EnumMap<>(JobState.class);
        for (Job j : client.allJobs(ListJobsRequest.getDefaultInstance())) {
            if (j.getName().startsWith(JOB_NAME_PREFIX)) {
                counts.merge(j.getState(), 1, Integer::sum);
            }
        }
        return counts;
    }

    private void report(Client client, Map<JobState, Integer> states, int submitted, long elapsedMs, long endMs) {
        var usage = client.governance().usage(UsageRequest.getDefaultInstance());
        int done = states.getOrDefault(JobState.SUCCEEDED, 0) + states.getOrDefault(JobState.FAILED, 0)
                + states.getOrDefault(JobState.TIMEOUT, 0) + states.getOrDefault(JobState.CANCELLED, 0);
        say("%s of %s: submitted %d/%d, pending %d, running %d, done %d; %d/%d GPUs busy", clock(elapsedMs),
                clock(endMs), submitted, settings.trace().jobs().size(), states.getOrDefault(JobState.PENDING, 0),
                states.getOrDefault(JobState.RUNNING, 0), done, usage.getGpusBusy(), usage.getGpusOnline());
    }

    /** Cancels every pending or running job and waits (up to {@code patience}) until no GPU is busy. */
    private static void cancelAll(Client client, Duration patience) throws InterruptedException {
        List<Job> open = client.allJobs(ListJobsRequest.newBuilder()
                .addStates(JobState.PENDING).addStates(JobState.RUNNING).build());
        for (Job j : open) {
            try {
                client.jobs().cancel(CancelRequest.newBuilder().setJobId(j.getId()).build());
            } catch (StatusRuntimeException e) {
                // It ended between the listing and the cancel.
            }
        }
        long deadline = System.nanoTime() + patience.toNanos();
        while (client.governance().usage(UsageRequest.getDefaultInstance()).getGpusBusy() > 0
                && System.nanoTime() < deadline) {
            Thread.sleep(SAMPLE.toMillis());
        }
    }

    private static String clock(long ms) {
        return String.format(Locale.ROOT, "%d:%02d", ms / 60_000, ms / 1000 % 60);
    }

    private void say(String format, Object... args) {
        double s = (System.nanoTime() - t0) / 1e9;
        progress.printf(Locale.ROOT, "[%6.1fs] %s%n", s, String.format(Locale.ROOT, format, args));
        progress.flush();
    }
}
