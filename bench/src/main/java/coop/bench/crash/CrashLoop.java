package coop.bench.crash;

import coop.cli.CliException;
import coop.cli.Client;
import coop.cli.Identity;
import coop.cli.InitCommand;
import coop.cli.SchedulerProcess;
import coop.scheduler.audit.LedgerVerifier;
import coop.scheduler.ledger.Ledger;
import coop.scheduler.store.Store;
import coop.v1.AccountShare;
import coop.v1.Ballot;
import coop.v1.Choice;
import coop.v1.ListJobsRequest;
import coop.v1.ListProposalsRequest;
import coop.v1.Proposal;
import coop.v1.ProposalState;
import coop.v1.ProposeRequest;
import coop.v1.SharesChange;
import coop.v1.SubmitRequest;
import coop.v1.VoteRequest;
import io.grpc.StatusRuntimeException;
import java.io.IOException;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import java.util.random.RandomGenerator;

/**
 * Kills a scheduler with kill -9 again and again while clients flood it, and holds every
 * restart to what was acknowledged before it. The scheduler is a child process on a
 * throwaway cooperative; each client thread is one member, submitting jobs (they stay
 * pending: no agents) under names unique to each submit, now and then opening a proposal, and
 * casting and replacing ballots on a few proposals that stay open (their deadline is days away, and one founder never
 * votes, so they cannot close early). At a moment drawn from the seeded generator the
 * process is killed; the ledger is verified offline on the folder, as {@code coop ledger
 * verify --data} does; a new scheduler is started on it, and what it holds is checked by
 * {@link Acknowledgements}.
 */
public final class CrashLoop {
    /** Every founder but this one votes; with one eligible member silent, no proposal closes early. */
    static final String SILENT_FOUNDER = "observer";
    private static final List<String> ACCOUNTS = List.of("lab-a", "lab-b");
    private static final List<String> CHOICES = List.of("yes", "no", "abstain");
    private static final Duration START_PATIENCE = Duration.ofSeconds(120);

    /** How the loop runs. */
    public record Options(int cycles, int clients, int proposals, Duration killWithin, long seed) {
    }

    /** One kill and restart. */
    public record Cycle(int number, long killAfterMs, long acknowledgedJobs, long acknowledgedBallots,
                        long restartMs, int jobs, long ledgerEntries, List<Violation> violations) {
    }

    /** The whole run. */
    public record Result(List<Cycle> cycles, long acknowledgedJobs, long acknowledgedBallots,
                         long acknowledgedProposals, long inDoubt,
                         long inDoubtApplied, long refused, boolean ledgerVerified, List<Violation> violations,
                         long seed) {
        public long count(Violation.Kind kind) {
            return violations.stream().filter(v -> v.kind() == kind).count();
        }
    }

    private final Options options;
    private final Path dir;
    private final Consumer<String> progress;
    private final Acknowledgements acks = new Acknowledgements();
    private Process scheduler;
    private int starts;

    /**
     * @param dir      an empty folder for the cooperative and the scheduler's logs
     * @param progress receives one line per cycle
     */
    public CrashLoop(Options options, Path dir, Consumer<String> progress) {
        this.options = options;
        this.dir = dir;
        this.progress = progress;
    }

    /** Runs every cycle, stopping after the first that finds a violation. */
    public Result run() throws IOException, InterruptedException {
        RandomGenerator random = new java.util.SplittableRandom(options.seed());
        Path data = dir.resolve("data");
        List<String> founders = new ArrayList<>();
        for (int i = 1; i <= options.clients(); i++) {
            founders.add("m" + i);
        }
        founders.add(SILENT_FOUNDER);
        Map<String, Identity> identities = InitCommand.found(data, founders, ACCOUNTS, dir.resolve("identities"), null,
                new SecureRandom());
        Thread reaper = new Thread(this::killScheduler, "coop-bench-crash-reaper");
        Runtime.getRuntime().addShutdownHook(reaper);
        List<Cycle> cycles = new ArrayList<>();
        List<Violation> violations = new ArrayList<>();
        boolean ledgerVerified = true;
        try {
            String target = startScheduler(data);
            try (Client client = new Client(target, identities.get("m1"))) {
                for (int i = 0; i < options.proposals(); i++) {
                    String title = "crash loop " + (i + 1);
                    acks.proposing(title);
                    acks.proposalAcknowledged(title, client.propose(proposal(title, 1000 * (4 + i))).getId());
                }
            }
            for (int c = 1; c <= options.cycles(); c++) {
                long jobsBefore = acks.acknowledgedJobs();
                long ballotsBefore = acks.acknowledgedBallots();
                long killAfter = flood(target, identities, random);
                killScheduler();
                LedgerVerifier.Report ledger;
                try (Store store = Store.openReadOnly(data)) {
                    ledger = LedgerVerifier.verify(Ledger.rawEntries(store));
                }
                ledgerVerified &= ledger.ok();
                long restarting = System.nanoTime();
                target = startScheduler(data);
                long restartMs = (System.nanoTime() - restarting) / 1_000_000;
                Recovered recovered;
                try (Client client = new Client(target, identities.get(SILENT_FOUNDER))) {
                    recovered = observe(client, ledger);
                }
                List<Violation> found = acks.check(recovered);
                violations.addAll(found);
                Cycle cycle = new Cycle(c, killAfter, acks.acknowledgedJobs() - jobsBefore,
                        acks.acknowledgedBallots() - ballotsBefore, restartMs, recovered.jobs().size(),
                        ledger.entries(), found);
                cycles.add(cycle);
                progress.accept(String.format(java.util.Locale.ROOT, "cycle %d/%d: kill -9 after %d ms (%d submits, "
                                + "%d ballots acknowledged), restarted in %.1f s: %d jobs, ledger %d entries %s; %s",
                        c, options.cycles(), killAfter, cycle.acknowledgedJobs(), cycle.acknowledgedBallots(),
                        restartMs / 1000.0, cycle.jobs(), ledger.entries(), ledger.ok() ? "verified" : "FAILED",
                        found.isEmpty() ? "ok" : found.size() + " violations"));
                if (!found.isEmpty()) {
                    break;
                }
            }
        } finally {
            stopScheduler();
            try {
                Runtime.getRuntime().removeShutdownHook(reaper);
            } catch (IllegalStateException e) {
                // Already shutting down: the hook runs anyway.
            }
        }
        return new Result(cycles, acks.acknowledgedJobs(), acks.acknowledgedBallots(), acks.acknowledgedProposals(),
                acks.inDoubt(),
                acks.inDoubtApplied(), acks.refused(), ledgerVerified, violations, options.seed());
    }

    /**
     * One client thread per member floods the scheduler until the kill; returns how long after
     * the first acknowledgement of this run it came.
     */
    private long flood(String target, Map<String, Identity> identities, RandomGenerator random)
            throws InterruptedException {
        AtomicLong acknowledged = new AtomicLong();
        List<Thread> threads = new ArrayList<>();
        List<Client> clients = new ArrayList<>();
        long killAfter = random.nextLong(options.killWithin().toMillis() + 1);
        try {
            for (int i = 1; i <= options.clients(); i++) {
                String member = "m" + i;
                Client client = new Client(target, identities.get(member));
                clients.add(client);
                RandomGenerator own = new java.util.SplittableRandom(random.nextLong());
                Thread t = new Thread(() -> member(member, client, own, acknowledged), "crash-client-" + member);
                t.setDaemon(true);
                threads.add(t);
            }
            threads.forEach(Thread::start);
            long deadline = System.nanoTime() + START_PATIENCE.toNanos();
            while (acknowledged.get() == 0 && threads.stream().anyMatch(Thread::isAlive)) {
                if (System.nanoTime() > deadline) {
                    throw new CliException("no call was acknowledged in " + START_PATIENCE.toSeconds() + " s");
                }
                Thread.sleep(1);
            }
            if (threads.stream().noneMatch(Thread::isAlive)) {
                throw new CliException("every client stopped before the kill; see " + dir.resolve("scheduler-"
                        + starts + ".log"));
            }
            // The moment is drawn from the seed; scheduling on a busy machine still makes it land
            // between different calls from run to run.
            Thread.sleep(killAfter);
            killScheduler();
            for (Thread t : threads) {
                t.join(Duration.ofSeconds(60).toMillis());
                if (t.isAlive()) {
                    throw new CliException(t.getName() + " still waits for a reply 60 s after the kill");
                }
            }
        } finally {
            clients.forEach(Client::close);
        }
        return killAfter;
    }

    /** A shares proposal open for a week: lab-a gets {@code basisPoints}, lab-b the rest. */
    private static ProposeRequest.Builder proposal(String title, int basisPoints) {
        return ProposeRequest.newBuilder().setTitle(title).setClosesInSeconds(Duration.ofDays(7).toSeconds())
                .setShares(SharesChange.newBuilder()
                        .addShares(AccountShare.newBuilder().setAccount("lab-a").setBasisPoints(basisPoints))
                        .addShares(AccountShare.newBuilder().setAccount("lab-b").setBasisPoints(10_000 - basisPoints)));
    }

    /** One member's calls, one at a time, until one of them gets no answer (the scheduler is gone). */
    private void member(String member, Client client, RandomGenerator random, AtomicLong acknowledged) {
        List<Long> proposals = acks.proposals();
        for (long n = 0; ; n++) {
            if (random.nextInt(40) == 0) {
                String title = member + "-" + starts + "-" + n;
                acks.proposing(title);
                try {
                    long id = client.propose(proposal(title, 100 * (1 + random.nextInt(99)))).getId();
                    acks.proposalAcknowledged(title, id);
                    acknowledged.incrementAndGet();
                } catch (StatusRuntimeException e) {
                    if (inDoubt(e)) {
                        return;
                    }
                    acks.proposalRefused(title);
                }
            } else if (!proposals.isEmpty() && random.nextInt(3) == 0) {
                long proposal = proposals.get(random.nextInt(proposals.size()));
                String choice = CHOICES.get(random.nextInt(CHOICES.size()));
                int number = acks.balloting(member, proposal, choice);
                try {
                    client.vote(VoteRequest.newBuilder().setProposalId(proposal)
                            .setChoice(Choice.valueOf(choice.toUpperCase(java.util.Locale.ROOT))));
                    acks.ballotAcknowledged(member, proposal, number);
                    acknowledged.incrementAndGet();
                } catch (StatusRuntimeException e) {
                    if (inDoubt(e)) {
                        return;
                    }
                    acks.ballotRefused(member, proposal, number);
                }
            } else {
                String name = member + "-" + starts + "-" + n;
                String account = ACCOUNTS.get(random.nextInt(ACCOUNTS.size()));
                String command = "echo " + name;
                acks.submitting(name, member, account, command);
                try {
                    long id = client.jobs().submit(SubmitRequest.newBuilder().setAccount(account).setGpusPerNode(1)
                            .setName(name).setCommand(command).build()).getJobId();
                    acks.submitAcknowledged(name, id);
                    acknowledged.incrementAndGet();
                } catch (StatusRuntimeException e) {
                    if (inDoubt(e)) {
                        return;
                    }
                    acks.submitRefused(name);
                }
            }
        }
    }

    /**
     * Whether a failed call may still have been applied. Only the scheduler's refusals
     * (a bad or stale request) are sure to have changed nothing; losing the connection, a
     * deadline, or a scheduler stopping leave the call in doubt.
     */
    static boolean inDoubt(StatusRuntimeException e) {
        return switch (e.getStatus().getCode()) {
            case INVALID_ARGUMENT, FAILED_PRECONDITION, PERMISSION_DENIED, NOT_FOUND, ALREADY_EXISTS,
                    UNAUTHENTICATED, OUT_OF_RANGE -> false;
            default -> true;
        };
    }

    private static Recovered observe(Client client, LedgerVerifier.Report ledger) {
        List<Recovered.Job> jobs = new ArrayList<>();
        for (coop.v1.Job j : client.allJobs(ListJobsRequest.getDefaultInstance())) {
            jobs.add(new Recovered.Job(j.getId(), j.getName(), j.getMember(), j.getAccount(), j.getCommand()));
        }
        List<Recovered.Proposal> proposals = new ArrayList<>();
        for (Proposal p : client.governance().listProposals(ListProposalsRequest.getDefaultInstance())
                .getProposalsList()) {
            Map<String, String> ballots = new LinkedHashMap<>();
            for (Ballot b : p.getBallotsList()) {
                ballots.put(b.getMember(), b.getChoice().name().toLowerCase(java.util.Locale.ROOT));
            }
            proposals.add(new Recovered.Proposal(p.getId(), p.getTitle(), p.getState() == ProposalState.OPEN, ballots,
                    p.getTally().getYes(), p.getTally().getNo(), p.getTally().getAbstain()));
        }
        return new Recovered(jobs, proposals, ledger.ok(), ledger.problem(), ledger.ballots());
    }

    /** Starts {@code coop scheduler} on the folder as a child process; returns its HOST:PORT once it serves. */
    private String startScheduler(Path data) throws IOException, InterruptedException {
        starts++;
        SchedulerProcess p = SchedulerProcess.launch("the scheduler (start " + starts + ")", data,
                dir.resolve("port-" + starts), dir.resolve("scheduler-" + starts + ".log"), List.of("-Xmx256m"),
                List.of("--heartbeat", "1s"));
        synchronized (this) {
            scheduler = p.process();
        }
        return p.awaitServing(START_PATIENCE);
    }

    /** kill -9 of the scheduler this loop started, if it runs. */
    private synchronized void killScheduler() {
        if (scheduler != null) {
            scheduler.destroyForcibly();
            try {
                scheduler.waitFor();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            scheduler = null;
        }
    }

    /** Stops the last scheduler as an operator would (SIGTERM), forcibly if it takes long. */
    private synchronized void stopScheduler() throws InterruptedException {
        if (scheduler != null) {
            scheduler.destroy();
            if (!scheduler.waitFor(10, TimeUnit.SECONDS)) {
                scheduler.destroyForcibly().waitFor();
            }
            scheduler = null;
        }
    }
}
