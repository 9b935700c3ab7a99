package coop.bench;

import coop.bench.crash.CrashLoop;
import coop.bench.crash.Violation;
import coop.cli.CliException;
import coop.cli.Client;
import coop.cli.Durations;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code coop bench crash}: the scheduler killed with kill -9 over and over while clients
 * flood it with submits and ballots, each restart checked against every acknowledgement
 * (see {@link CrashLoop}). Exits 1 naming each violation found.
 */
@Command(name = "crash", mixinStandardHelpOptions = true,
        description = {"Kill -9 the scheduler at random moments while clients flood it with submits and ballots, "
                + "restart it on the same data folder, and check after every restart that no acknowledged write "
                + "was lost or applied twice, nothing is half applied, and the ledger verifies.",
                "Runs on a throwaway cooperative; exits 1 naming any violation."})
final class BenchCrashCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Option(names = "--cycles", defaultValue = "20", description = "Kills and restarts (default: ${DEFAULT-VALUE}).")
    int cycles;

    @Option(names = "--clients", defaultValue = "4", description = "Client threads, one member each "
            + "(default: ${DEFAULT-VALUE}).")
    int clients;

    @Option(names = "--proposals", defaultValue = "3", description = "Open proposals the members vote on "
            + "(default: ${DEFAULT-VALUE}).")
    int proposals;

    @Option(names = "--kill-within", defaultValue = "2s", description = "Longest time from the first "
            + "acknowledged call of a cycle to the kill; the moment is drawn from the seed (default: "
            + "${DEFAULT-VALUE}). "
            + Durations.FORMS_HELP)
    String killWithin;

    @Option(names = "--seed", description = "Seed of the kill moments and the clients' calls (default: a new one, "
            + "printed).")
    Long seed;

    @Mixin
    ThrowawayFolder throwaway;

    @Mixin
    BenchOptions options;

    @Override
    public Integer call() throws Exception {
        if (cycles < 1 || clients < 1 || proposals < 0) {
            throw new CliException("--cycles and --clients must be at least 1, --proposals at least 0");
        }
        Duration within = Durations.option("--kill-within", killWithin);
        long s = seed != null ? seed : new SecureRandom().nextLong();
        System.err.printf(Locale.ROOT, "coop bench crash: %d cycles, %d clients, %d proposals, seed %d%n", cycles,
                clients, proposals, s);
        Path dir = Files.createTempDirectory("coop-bench-crash");
        CrashLoop.Result r;
        try {
            r = new CrashLoop(new CrashLoop.Options(cycles, clients, proposals, within, s), dir,
                    line -> System.err.println("  " + line)).run();
        } catch (RuntimeException | java.io.IOException e) {
            System.err.println("data and scheduler logs kept in " + dir);
            throw e;
        }
        boolean ok = r.violations().isEmpty() && r.cycles().size() == cycles;
        long[] restarts = r.cycles().stream().mapToLong(CrashLoop.Cycle::restartMs).sorted().toArray();
        double restartP50 = restarts.length == 0 ? 0 : restarts[restarts.length / 2] / 1000.0;
        double restartMax = restarts.length == 0 ? 0 : restarts[restarts.length - 1] / 1000.0;
        new BenchReport()
                .put("cycles", r.cycles().size())
                .put("acked_jobs", r.acknowledgedJobs())
                .put("acked_ballots", r.acknowledgedBallots())
                .put("acked_proposals", r.acknowledgedProposals())
                .put("in_doubt", r.inDoubt())
                .put("in_doubt_applied", r.inDoubtApplied())
                .put("refused", r.refused())
                .put("lost", r.count(Violation.Kind.LOST))
                .put("duplicated", r.count(Violation.Kind.DUPLICATED))
                .put("half_applied", r.count(Violation.Kind.HALF_APPLIED))
                .put("phantom", r.count(Violation.Kind.PHANTOM))
                .put("ledger_verified", r.ledgerVerified())
                .put("restart_p50_s", restartP50)
                .put("restart_max_s", restartMax)
                .put("violations", r.violations().stream().map(Violation::toString).toList())
                .put("seed", r.seed())
                .line("%d kill -9 cycles: %d submits, %d ballots and %d proposals acknowledged; %d calls in doubt at "
                        + "a kill (%d found applied), %d refused", r.cycles().size(), r.acknowledgedJobs(),
                        r.acknowledgedBallots(), r.acknowledgedProposals(), r.inDoubt(), r.inDoubtApplied(),
                        r.refused())
                .line("lost %d, duplicated %d, half applied %d, phantom %d; ledger %s; restart p50 %.1f s, max %.1f s; "
                        + "seed %d", r.count(Violation.Kind.LOST), r.count(Violation.Kind.DUPLICATED),
                        r.count(Violation.Kind.HALF_APPLIED), r.count(Violation.Kind.PHANTOM),
                        r.ledgerVerified() ? "verified after every kill" : "FAILED", restartP50, restartMax, r.seed())
                .print(spec.commandLine().getOut(), options.json);
        for (Violation v : r.violations()) {
            System.err.println("violation: " + v);
        }
        if (!ok) {
            System.err.println("data and scheduler logs kept in " + dir + "; repeat with --seed " + r.seed());
            return 1;
        }
        throwaway.cleanUp(dir, false, "data and scheduler logs");
        return 0;
    }
}
