package coop.bench.demo;

import coop.agent.Agent;
import coop.agent.AgentConfig;
import coop.agent.GpuSpec;
import coop.agent.NvidiaSmi;
import coop.cli.Client;
import coop.cli.Identity;
import coop.cli.InitCommand;
import coop.cli.NodeIdentity;
import coop.scheduler.SchedulerServer;
import coop.scheduler.domain.Constitution;
import coop.scheduler.domain.Params;
import coop.scheduler.domain.ProposalKind;
import coop.v1.AccountShare;
import coop.v1.AccountUsage;
import coop.v1.CancelRequest;
import coop.v1.Choice;
import coop.v1.Job;
import coop.v1.JobState;
import coop.v1.ListJobsRequest;
import coop.v1.ListNodesRequest;
import coop.v1.NodeInfo;
import coop.v1.Policy;
import coop.v1.Proposal;
import coop.v1.ProposalState;
import coop.v1.ProposeRequest;
import coop.v1.SharesChange;
import coop.v1.SubmitRequest;
import coop.v1.UsageRequest;
import coop.v1.UsageResponse;
import coop.v1.VoteRequest;
import io.grpc.StatusRuntimeException;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Duration;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.TreeMap;
import java.util.stream.Stream;

/**
 * The whole system on one machine, for real: a scheduler with RocksDB in a local folder, four
 * agents at three sites on simulated GPUs, five members in three accounts who vote shares
 * 50/30/20 and later 20/30/50, and a saturating workload of short jobs (some two-node gangs)
 * that run as real processes. At the end it reports, per policy period, voted against achieved
 * shares computed from the recorded attempts.
 */
public final class Demo {
    /** A node, and the operator member who enrolls it for the operator's account. */
    record NodePlan(String name, String site, String gpus, String operator, String account) {
    }

    static final List<NodePlan> NODES = List.of(
            new NodePlan("north-1", "north", "sim:4xA100-80GB", "alice", "lab-a"),
            new NodePlan("north-2", "north", "sim:4xA100-80GB", "carol", "lab-b"),
            new NodePlan("east-1", "east", "sim:4xH100-80GB", "dave", "uni-c"),
            new NodePlan("west-1", "west", "sim:4xL40S-48GB", "bob", "lab-a"));
    static final List<String> ACCOUNTS = List.of("lab-a", "lab-b", "uni-c");
    static final List<String> FOUNDERS = List.of("alice:lab-a", "bob:lab-a", "carol:lab-b", "dave:uni-c", "erin:uni-c");
    static final Map<String, Integer> FIRST_VOTE = shares(50, 30, 20);
    /**
     * Each member's split in the share-budget vote; erin delegates her shares vote to carol, so
     * carol's split counts twice.
     */
    static final Map<String, Map<String, Integer>> SPLITS = Map.of(
            "alice", shares(30, 30, 40),
            "bob", shares(20, 30, 50),
            "carol", shares(10, 30, 60),
            "dave", shares(20, 40, 40));
    /** Jobs each account keeps waiting, so that every account always has work pending. */
    static final int BACKLOG = 12;
    private static final Duration SAMPLE = Duration.ofMillis(200);
    /** How often the usage timeline of the HTML report is sampled. */
    private static final Duration TIMELINE_EVERY = Duration.ofSeconds(1);

    /** What to run: where, how long each policy period lasts, and the workload's seed. */
    /** Where the demo keeps its data, how long each policy period runs, the workload's seed, and where the dashboard listens (null: nowhere). */
    public record Settings(Path data, Duration period, long seed, java.net.InetSocketAddress http) {
        public Settings(Path data, Duration period, long seed) {
            this(data, period, seed, null);
        }
    }

    private final Settings settings;
    private final PrintStream progress;
    private final InstantSource clock = InstantSource.system();
    private final long t0 = System.nanoTime();

    public Demo(Settings settings, PrintStream progress) {
        this.settings = settings;
        this.progress = progress;
    }

    private static Map<String, Integer> shares(int a, int b, int c) {
        Map<String, Integer> m = new LinkedHashMap<>();
        m.put("lab-a", a * 100);
        m.put("lab-b", b * 100);
        m.put("uni-c", c * 100);
        return m;
    }

    /** The scheduler, with its dashboard where asked; on a free port instead when the one asked for is taken. */
    private SchedulerServer startScheduler(Path data) {
        SchedulerServer.Config config = new SchedulerServer.Config(data, "127.0.0.1", 0, Duration.ofSeconds(1),
                Duration.ofSeconds(5)).withHttp(settings.http());
        try {
            return SchedulerServer.start(config, clock);
        } catch (IllegalStateException e) {
            java.net.InetSocketAddress asked = settings.http();
            if (asked == null || asked.getPort() == 0 || !String.valueOf(e.getMessage()).contains("dashboard")) {
                throw e;
            }
            say("port %d is taken, so the dashboard takes a free one", asked.getPort());
            return SchedulerServer.start(config.withHttp(new java.net.InetSocketAddress(asked.getAddress(), 0)),
                    clock);
        }
    }

    /**
     * The founding parameters, but for the preemption bounds: the demo's jobs run 1 to 3 s, so a
     * minimum run and reserve wait of minutes would let no preemption happen at all. Scaled to its
     * jobs, borrowers give GPUs back to the accounts a vote has just raised.
     */
    private static final Params FOUNDING = Params.DEFAULTS.with(Map.of("min_run_before_preempt_s", 2,
            "reserve_wait_s", 2));

    /**
     * The founding constitution with notice periods scaled to the demo as its preemption bounds
     * are: 3 s for every kind, where a real cooperative founds with 48 h to 14 d.
     */
    private static final Constitution CONSTITUTION = Constitution.FOUNDING.with(Map.of("min_notice",
            java.util.Arrays.stream(ProposalKind.values()).collect(java.util.stream.Collectors.toMap(
                    ProposalKind::label, k -> (Object) 3L))), null);

    public DemoReport run() throws Exception {
        Path data = settings.data();
        prepare(data);
        Map<String, Identity> identities = InitCommand.found(data, FOUNDERS, ACCOUNTS, data.resolve("identities"),
                "127.0.0.1:0", List.of(), FOUNDING, CONSTITUTION, new SecureRandom());
        say("founded a cooperative in %s: members %s; accounts %s; preemption after %d s of run and votes open at "
                + "least %d s (its jobs last seconds, not hours)", data, String.join(", ", identities.keySet()),
                String.join(", ", ACCOUNTS), FOUNDING.minRunBeforePreemptS(),
                CONSTITUTION.minNotice(ProposalKind.SHARES));
        List<Agent> agents = new java.util.concurrent.CopyOnWriteArrayList<>();
        Map<String, Client> members = new TreeMap<>();
        // On Ctrl-C the agents still stop their jobs' process groups, so no job outlives the demo.
        Thread interrupted = new Thread(() -> agents.forEach(Agent::close), "coop-demo-shutdown");
        Runtime.getRuntime().addShutdownHook(interrupted);
        try (SchedulerServer server = startScheduler(data)) {
            String target = "127.0.0.1:" + server.port();
            // Founded before the scheduler had its port, the identity files name port 0: they name this
            // one, so that coop --identity coop-demo/identities/alice.json calls the running demo.
            identities.replaceAll((name, id) -> id.withScheduler(target));
            for (var e : identities.entrySet()) {
                e.getValue().write(data.resolve("identities").resolve(e.getKey() + ".json"));
            }
            say("scheduler listening on %s (mutual TLS, CA in %s; RocksDB in %s)", target, data.resolve("tls"),
                    data.resolve("db"));
            if (server.dashboardUrl() != null) {
                say("dashboard at %s (live while the demo runs)", server.dashboardUrl());
            }
            identities.forEach((name, id) -> members.put(name, new Client(target, id)));
            for (NodePlan n : NODES) {
                // Each node is enrolled by an operator of its account, as `coop node enroll` does.
                var enrolled = members.get(n.operator()).nodes().enroll(coop.v1.EnrollRequest.newBuilder()
                        .setName(n.name()).setSite(n.site()).setAccount(n.account()).build());
                var gpus = GpuSpec.parse(n.gpus()).resolve(NvidiaSmi.onSystemPath());
                Agent agent = Agent.create(new AgentConfig(target, n.name(), n.site(), gpus,
                        data.resolve("agents").resolve(n.name()), Agent.version(), null, enrolled.getToken(),
                        NodeIdentity.tls(enrolled)));
                agent.start();
                agents.add(agent);
            }
            Client anyone = members.get("alice");
            int capacity = awaitNodes(anyone, NODES.size());
            say("%d agents connected at 3 sites: %d GPUs (%s)", NODES.size(), capacity, describeNodes(anyone));

            Workload workload = new Workload(members, settings.seed());
            workload.topUp(anyone);
            List<DemoReport.Window> windows = new ArrayList<>();
            List<Sample> timeline;
            try (Sampler sampler = Sampler.start(() -> anyone.governance().usage(UsageRequest.getDefaultInstance()),
                    TIMELINE_EVERY)) {
                Policy first = vote(members, "alice", FIRST_VOTE, Map.of("erin", Choice.ABSTAIN), 1);
                boolean allPending = runPeriod(anyone, workload, first);
                Policy second = budget(members, "bob", "erin", "carol", 2);
                windows.add(window(first, second.getEnactedAtMs(), allPending));
                allPending = runPeriod(anyone, workload, second);
                long end = clock.millis();
                windows.add(window(second, end, allPending));
                sampler.close();
                timeline = sampler.samples();
            }
            say("stopping: cancelling the jobs still queued or running");
            cancelAll(members, anyone);
            List<Job> jobs = anyone.allJobs(ListJobsRequest.getDefaultInstance());
            DemoReport.LedgerCheck ledger = verifyLedger(anyone);
            replayAllocator(data);
            return DemoReport.compute(jobs, windows, capacity, timeline, ledger);
        } finally {
            members.values().forEach(Client::close);
            agents.forEach(Agent::close);
            try {
                Runtime.getRuntime().removeShutdownHook(interrupted);
            } catch (IllegalStateException alreadyShuttingDown) {
                // The hook is running or has run; nothing left to undo.
            }
        }
    }

    /** Removes a previous demo's folder; refuses to touch a folder the demo did not make. */
    static void prepare(Path data) throws IOException {
        Path marker = data.resolve(".coop-demo");
        if (Files.exists(data)) {
            try (Stream<Path> entries = Files.list(data)) {
                if (entries.findAny().isPresent() && !Files.exists(marker)) {
                    throw new coop.cli.CliException("--data: " + data + " is not empty and was not made by the demo; "
                            + "choose another folder");
                }
            }
            try (Stream<Path> walk = Files.walk(data)) {
                for (Path p : walk.sorted(Comparator.reverseOrder()).toList()) {
                    Files.delete(p);
                }
            }
        }
        Files.createDirectories(data);
        Files.writeString(marker, "made by `coop demo`; deleted by the next run\n");
    }

    private int awaitNodes(Client client, int expected) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        while (true) {
            List<NodeInfo> online = client.nodes().listNodes(ListNodesRequest.getDefaultInstance()).getNodesList()
                    .stream().filter(n -> n.getState().equals("online")).toList();
            if (online.size() == expected) {
                return online.stream().mapToInt(NodeInfo::getGpusCount).sum();
            }
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("only " + online.size() + " of " + expected + " agents connected in 30 s");
            }
            Thread.sleep(SAMPLE.toMillis());
        }
    }

    private static String describeNodes(Client client) {
        List<String> parts = new ArrayList<>();
        for (NodeInfo n : client.nodes().listNodes(ListNodesRequest.getDefaultInstance()).getNodesList()) {
            parts.add(n.getName() + "@" + n.getSite() + " " + n.getGpusCount() + "x" + n.getGpus(0).getModel());
        }
        return String.join(", ", parts);
    }

    /** One member proposes; every member votes (yes unless listed); the proposal must pass. */
    private Policy vote(Map<String, Client> members, String proposer, Map<String, Integer> shares,
                        Map<String, Choice> dissent, int round) {
        SharesChange.Builder change = SharesChange.newBuilder();
        shares.forEach((a, bp) -> change.addShares(AccountShare.newBuilder().setAccount(a).setBasisPoints(bp)));
        Proposal p = members.get(proposer).propose(ProposeRequest.newBuilder()
                .setTitle("shares " + describe(shares)).setClosesInSeconds(120).setShares(change));
        say("vote %d: %s proposes %s (proposal %d)", round, proposer, describe(shares), p.getId());
        for (var e : members.entrySet()) {
            Choice c = dissent.getOrDefault(e.getKey(), Choice.YES);
            p = e.getValue().vote(VoteRequest.newBuilder().setProposalId(p.getId()).setChoice(c));
        }
        if (p.getState() != ProposalState.PASSED) {
            throw new IllegalStateException("proposal " + p.getId() + " did not pass: " + p.getOutcome());
        }
        Policy policy = members.get(proposer).governance()
                .getPolicy(coop.v1.GetPolicyRequest.newBuilder().setVersion(p.getEnactedPolicyVersion()).build());
        say("vote %d: %s → enacted as policy v%d", round, p.getOutcome(), policy.getVersion());
        return policy;
    }

    /**
     * A share-budget vote: one member opens it, one delegates its shares vote to another, the
     * others submit splits; it closes at its deadline and enacts the moving-phantom aggregate.
     */
    private Policy budget(Map<String, Client> members, String proposer, String delegator, String delegate, int round)
            throws InterruptedException {
        members.get(delegator).delegate(coop.v1.DelegateRequest.newBuilder().setTopic("shares").setTo(delegate));
        say("vote %d: %s delegates its shares vote to %s", round, delegator, delegate);
        Proposal p = members.get(proposer).propose(ProposeRequest.newBuilder().setTitle("share budget")
                .setClosesInSeconds(3).setShareBudget(coop.v1.ShareBudget.getDefaultInstance()));
        say("vote %d: %s opens a share budget (proposal %d); members vote with splits", round, proposer, p.getId());
        for (var e : SPLITS.entrySet()) {
            VoteRequest.Builder ballot = VoteRequest.newBuilder().setProposalId(p.getId());
            e.getValue().forEach((a, bp) -> ballot.addSplit(AccountShare.newBuilder().setAccount(a).setBasisPoints(bp)));
            members.get(e.getKey()).vote(ballot);
            say("vote %d: %s splits %s", round, e.getKey(), describe(e.getValue()));
        }
        var get = coop.v1.GetProposalRequest.newBuilder().setProposalId(p.getId()).build();
        while ((p = members.get(proposer).governance().getProposal(get)).getState() == ProposalState.OPEN) {
            Thread.sleep(SAMPLE.toMillis());
        }
        if (p.getState() != ProposalState.PASSED) {
            throw new IllegalStateException("proposal " + p.getId() + " did not pass: " + p.getOutcome());
        }
        Policy policy = members.get(proposer).governance()
                .getPolicy(coop.v1.GetPolicyRequest.newBuilder().setVersion(p.getEnactedPolicyVersion()).build());
        Map<String, Integer> result = new TreeMap<>();
        p.getResultList().forEach(x -> result.put(x.getAccount(), x.getBasisPoints()));
        say("vote %d: %s; moving-phantom aggregate %s → enacted as policy v%d", round, p.getOutcome(),
                describe(result), policy.getVersion());
        return policy;
    }

    /** Re-checks the whole ledger (links, signatures, tallies, enactments) as any member could. */
    private DemoReport.LedgerCheck verifyLedger(Client client) {
        List<byte[]> entries = new ArrayList<>();
        client.ledger().entries(coop.v1.LedgerEntriesRequest.getDefaultInstance())
                .forEachRemaining(e -> entries.add(e.getCanonical().toByteArray()));
        var r = coop.scheduler.audit.LedgerVerifier.verify(entries);
        if (!r.ok()) {
            throw new IllegalStateException("ledger verification failed: " + r.problem());
        }
        say("ledger verified: %d entries (%d proposals re-tallied, %d ballots' signatures checked, %d attempts), "
                + "head %s", r.entries(), r.proposals(), r.ballots(), r.attempts(), r.head().substring(0, 16));
        return new DemoReport.LedgerCheck(r.entries(), r.proposals(), r.ballots(), r.attempts(), r.head());
    }

    /**
     * Re-runs the allocator over the cycles the scheduler recorded, as {@code coop audit replay
     * --data} does, beside the running scheduler: each must re-derive to the decisions recorded.
     */
    private void replayAllocator(Path data) {
        long started = System.nanoTime();
        coop.scheduler.audit.AllocatorReplay.Report r;
        try (coop.scheduler.store.Store store = coop.scheduler.store.Store.openReadOnly(data)) {
            r = coop.scheduler.audit.AllocatorReplay.replay(store, 0);
        }
        if (!r.ok()) {
            throw new IllegalStateException("allocator replay diverged at entry " + r.firstDivergence().seq() + ": "
                    + r.firstDivergence().problem());
        }
        say("allocator re-run over the %d cycles it recorded: no divergence (%d bytes of snapshots, %d ms)",
                r.cycles().size(), r.storedBytes(), (System.nanoTime() - started) / 1_000_000);
    }

    /** Keeps every account's backlog full for one period; returns whether all always had work waiting. */
    private boolean runPeriod(Client client, Workload workload, Policy policy) throws InterruptedException {
        long end = policy.getEnactedAtMs() + settings.period().toMillis();
        boolean allPending = true;
        long nextReport = clock.millis() + 5000;
        while (clock.millis() < end) {
            UsageResponse usage = workload.topUp(client);
            for (AccountUsage a : usage.getAccountsList()) {
                allPending &= a.getPendingJobs() > 0;
            }
            if (clock.millis() >= nextReport) {
                nextReport += 5000;
                report(usage, workload);
            }
            Thread.sleep(SAMPLE.toMillis());
        }
        return allPending;
    }

    private void report(UsageResponse u, Workload workload) {
        StringBuilder sb = new StringBuilder();
        for (AccountUsage a : u.getAccountsList()) {
            sb.append(String.format(Locale.ROOT, " %s %.1f%%/%d%%", a.getAccount(), a.getAchievedPercent(),
                    a.getEntitledBasisPoints() / 100));
        }
        say("policy v%d: %d/%d GPUs busy, %d jobs submitted; achieved/voted:%s", u.getPolicyVersion(),
                u.getGpusBusy(), u.getGpusOnline(), workload.submitted(), sb);
    }

    private static DemoReport.Window window(Policy p, long end, boolean allPending) {
        Map<String, Double> voted = new TreeMap<>();
        p.getSharesList().forEach(s -> voted.put(s.getAccount(), s.getBasisPoints() / 100.0));
        return new DemoReport.Window(p.getVersion(), voted, p.getEnactedAtMs(), end, allPending);
    }

    private void cancelAll(Map<String, Client> members, Client anyone) throws InterruptedException {
        for (Job j : anyone.allJobs(ListJobsRequest.newBuilder()
                .addStates(JobState.PENDING).addStates(JobState.RUNNING).build())) {
            try {
                members.get(j.getMember()).jobs().cancel(CancelRequest.newBuilder().setJobId(j.getId()).build());
            } catch (StatusRuntimeException e) {
                // It ended between the listing and the cancel.
            }
        }
        long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
        while (anyone.governance().usage(UsageRequest.getDefaultInstance()).getGpusBusy() > 0
                && System.nanoTime() < deadline) {
            Thread.sleep(SAMPLE.toMillis());
        }
    }

    static String describe(Map<String, Integer> shares) {
        StringBuilder sb = new StringBuilder();
        shares.forEach((a, bp) -> sb.append(sb.length() == 0 ? "" : " ").append(a).append('=').append(bp / 100)
                .append('%'));
        return sb.toString();
    }

    private void say(String format, Object... args) {
        double s = (System.nanoTime() - t0) / 1e9;
        progress.printf(Locale.ROOT, "[%5.1fs] %s%n", s, String.format(Locale.ROOT, format, args));
        progress.flush();
    }

    /**
     * The researchers: each account keeps {@link #BACKLOG} jobs waiting. A mix of one- and
     * two-GPU jobs on any model and two-node A100 gangs, each running a real shell command for
     * one to three seconds.
     */
    static final class Workload {
        private final Map<String, List<Client>> byAccount = new LinkedHashMap<>();
        private final SplittableRandom random;
        private int submitted;

        Workload(Map<String, Client> members, long seed) {
            this.random = new SplittableRandom(seed);
            for (String f : FOUNDERS) {
                String[] parts = f.split(":");
                byAccount.computeIfAbsent(parts[1], a -> new ArrayList<>()).add(members.get(parts[0]));
            }
        }

        int submitted() {
            return submitted;
        }

        UsageResponse topUp(Client client) {
            UsageResponse usage = client.governance().usage(UsageRequest.getDefaultInstance());
            for (AccountUsage a : usage.getAccountsList()) {
                List<Client> researchers = byAccount.get(a.getAccount());
                for (int i = a.getPendingJobs(); i < BACKLOG; i++) {
                    Client who = researchers.get(random.nextInt(researchers.size()));
                    who.jobs().submit(next(a.getAccount()));
                    submitted++;
                }
            }
            return usage;
        }

        private SubmitRequest next(String account) {
            double seconds = 1.0 + random.nextInt(21) / 10.0;
            int kind = random.nextInt(20);
            SubmitRequest.Builder b = SubmitRequest.newBuilder().setAccount(account).setWalltimeSeconds(60)
                    .setCommand("echo \"job $COOP_JOB_ID rank $NODE_RANK of $NNODES on GPUs $CUDA_VISIBLE_DEVICES\"; "
                            + "sleep " + seconds + "; echo done");
            if (kind < 3) {
                return b.setName("gang").setNodes(2).setGpusPerNode(2).setGpuModel("A100").build();
            }
            return b.setName(kind < 8 ? "pair" : "single").setNodes(1).setGpusPerNode(kind < 8 ? 2 : 1).build();
        }
    }
}
