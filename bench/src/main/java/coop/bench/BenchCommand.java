package coop.bench;

import static coop.bench.BenchReport.round;

import coop.bench.scheduler.ScheduleBench;
import coop.cli.CliException;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code coop bench}: measurements that print figures, for BENCHMARKS.md. */
@Command(name = "bench", mixinStandardHelpOptions = true,
        description = "Benchmarks that print figures (see BENCHMARKS.md).",
        subcommands = {BenchCommand.Schedule.class, BenchReplayCommand.class, BenchCommand.LedgerCost.class,
                BenchFailoverCommand.class, BenchHaCommand.class, BenchCrashCommand.class, BenchSubmitCommand.class,
                BenchE2eCommand.class, BenchAgentsCommand.class})
public final class BenchCommand implements Runnable {
    @Spec
    CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(spec.commandLine().getOut());
    }

    /** {@code coop bench schedule}: allocation cycle latency at cluster scale. */
    @Command(name = "schedule", mixinStandardHelpOptions = true,
            description = {"Latency of one allocation cycle on a synthetic cluster of 8-GPU nodes: after one event "
                    + "in a steady, full cluster (p50, p99), and one full cycle from scratch.",
                    "Also the heap in use once the snapshots are built."})
    static final class Schedule implements Callable<Integer> {
        @Spec
        CommandSpec spec;

        @Option(names = "--nodes", defaultValue = "10000", description = "Nodes (default: ${DEFAULT-VALUE}).")
        int nodes;

        @Option(names = "--pending", defaultValue = "100000", description = "Pending jobs (default: ${DEFAULT-VALUE}).")
        int pending;

        @Option(names = "--cycles", defaultValue = "200", description = "Timed cycles after one event (default: "
                + "${DEFAULT-VALUE}).")
        int cycles;

        @Option(names = "--seed", defaultValue = "1", description = "Seed of the synthetic cluster (default: "
                + "${DEFAULT-VALUE}).")
        long seed;

        @Option(names = "--churn", description = "Also time one cycle on a cluster where every node runs attempts "
                + "of random accounts (much borrowing, many reclaims); slow at large sizes.")
        boolean churn;

        @Mixin
        BenchOptions options;

        @Override
        public Integer call() throws Exception {
            if (nodes < 1 || pending < 0 || cycles < 1) {
                throw new CliException("--nodes and --cycles must be at least 1, --pending at least 0");
            }
            System.err.printf(Locale.ROOT, "coop bench schedule: %d nodes (%d GPUs), %d pending jobs, %d cycles%n",
                    nodes, nodes * 8, pending, cycles);
            ScheduleBench.Result r = ScheduleBench.run(nodes, pending, cycles, seed, churn, i -> {
                if (i % Math.max(1, cycles / 10) == 0) {
                    System.err.printf("  %d/%d cycles%n", i, cycles);
                }
            });
            BenchReport report = new BenchReport()
                    .put("incremental_p50_ms", round(r.incrementalP50Ms(), 1))
                    .put("incremental_p99_ms", round(r.incrementalP99Ms(), 1))
                    .put("incremental_cpu_p50_ms", round(r.cpuP50Ms(), 1))
                    .put("incremental_cpu_p99_ms", round(r.cpuP99Ms(), 1))
                    .put("full_ms", round(r.fullMs(), 1));
            if (churn) {
                report.put("churn_ms", round(r.churnMs(), 1));
            }
            report.put("heap_mb", round(r.heapMb(), 1))
                    .put("nodes", r.nodes())
                    .put("pending", r.pending())
                    .put("cycles", r.cycles());
            report.line("after one event: p50 %.1f ms, p99 %.1f ms (%d cycles); CPU time p50 %.1f ms, p99 %.1f ms",
                    r.incrementalP50Ms(), r.incrementalP99Ms(), r.cycles(), r.cpuP50Ms(), r.cpuP99Ms());
            report.line("full cycle from scratch: %.1f ms", r.fullMs());
            if (churn) {
                report.line("cycle with much borrowing: %.1f ms", r.churnMs());
            }
            report.line("heap in use: %.0f MB", r.heapMb());
            report.print(spec.commandLine().getOut(), options.json);
            return 0;
        }
    }

    /** {@code coop bench ledger}: verification and recovery time as the ledger grows. */
    @Command(name = "ledger", mixinStandardHelpOptions = true,
            description = {"Write a synthetic ledger (signed shares votes by every member, and a submit and an attempt "
                    + "entry per job), checkpointed as the scheduler does, into a RocksDB store in a temporary folder, "
                    + "then time coop ledger verify's full check (every signature, one streaming pass), a replay of "
                    + "the whole ledger, and a restarting scheduler's start from its checkpoint."})
    static final class LedgerCost implements Callable<Integer> {
        @Spec
        CommandSpec spec;

        @Option(names = {"--jobs", "--attempts"}, defaultValue = "100000",
                description = "Jobs, each a submit and an attempt entry (default: ${DEFAULT-VALUE}, about 200,000 "
                        + "entries).")
        long attempts;

        @Option(names = "--proposals", defaultValue = "100", description = "Shares proposals (default: ${DEFAULT-VALUE}).")
        int proposals;

        @Option(names = "--members", defaultValue = "50", description = "Members, all voting (default: ${DEFAULT-VALUE}).")
        int members;

        @Option(names = "--checkpoint-every", paramLabel = "ENTRIES",
                defaultValue = "" + coop.scheduler.ledger.Checkpoint.EVERY,
                description = "Entries between checkpoints (default: ${DEFAULT-VALUE}, the scheduler's).")
        long checkpointEvery;

        @Mixin
        BenchOptions options;

        @Override
        public Integer call() throws Exception {
            if (attempts < 0 || proposals < 0 || members < 1 || checkpointEvery < 1) {
                throw new CliException("--jobs and --proposals must be at least 0, --members and --checkpoint-every at "
                        + "least 1");
            }
            java.nio.file.Path dir = java.nio.file.Files.createTempDirectory("coop-bench-ledger");
            try {
                var r = coop.bench.scheduler.LedgerBench.run(dir, members, proposals, attempts, checkpointEvery,
                        line -> System.err.println("  " + line));
                new BenchReport()
                        .put("entries", r.entries())
                        .put("bytes_per_entry", round(r.bytesPerEntry(), 1))
                        .put("verify_s", round(r.verifyS(), 2))
                        .put("verify_entries_per_s", Math.round(r.verifyPerS()))
                        .put("replay_s", round(r.recoverS(), 2))
                        .put("replay_entries_per_s", Math.round(r.recoverPerS()))
                        .put("scheduler_start_s", round(r.startS(), 2))
                        .put("checkpoint_seq", r.checkpointSeq())
                        .put("checkpoint_bytes", r.checkpointBytes())
                        .put("checkpoints", r.checkpoints())
                        .put("checkpoint_ms", round(r.checkpointMs(), 2))
                        .line("ledger: %d entries (%d members, %d proposals, %d jobs), %.0f bytes per entry, "
                                + "written in %.1f s", r.entries(), r.members(), r.proposals(), r.attempts(),
                                r.bytesPerEntry(), r.writeS())
                        .line("  verify (every link, signature, tally; one streaming pass): %.2f s, %.0f entries/s",
                                r.verifyS(), r.verifyPerS())
                        .line("  replay of the whole ledger (no signatures): %.2f s, %.0f entries/s", r.recoverS(),
                                r.recoverPerS())
                        .line("  scheduler start from the checkpoint at entry %d (%d entries after it, checkpoint %d "
                                + "bytes): %.2f s", r.checkpointSeq(), r.entries() - r.checkpointSeq(),
                                r.checkpointBytes(), r.startS())
                        .line("  %d checkpoints written, %.1f ms each on the writer (what the event loop spends every "
                                + "%d entries)", r.checkpoints(), r.checkpointMs(), checkpointEvery)
                        .print(spec.commandLine().getOut(), options.json);
                return 0;
            } finally {
                ThrowawayFolder.delete(dir);
            }
        }
    }
}
