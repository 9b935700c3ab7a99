package coop.bench;

import com.fasterxml.jackson.databind.ObjectMapper;
import coop.bench.scheduler.ScheduleBench;
import coop.cli.CliException;
import java.io.PrintWriter;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code coop bench}: measurements that print figures, for BENCHMARKS.md. */
@Command(name = "bench", mixinStandardHelpOptions = true,
        description = "Benchmarks that print figures (see BENCHMARKS.md).",
        subcommands = {BenchCommand.Schedule.class, BenchReplayCommand.class, BenchCommand.LedgerCost.class,
                BenchFailoverCommand.class, BenchCrashCommand.class, BenchSubmitCommand.class,
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

        @Option(names = "--json", description = "Print one JSON object.")
        boolean json;

        @Override
        public Integer call() throws Exception {
            if (nodes < 1 || pending < 0 || cycles < 1) {
                throw new CliException("--nodes and --cycles must be at least 1, --pending at least 0");
            }
            PrintWriter out = spec.commandLine().getOut();
            System.err.printf(Locale.ROOT, "coop bench schedule: %d nodes (%d GPUs), %d pending jobs, %d cycles%n",
                    nodes, nodes * 8, pending, cycles);
            ScheduleBench.Result r = ScheduleBench.run(nodes, pending, cycles, seed, churn, i -> {
                if (i % Math.max(1, cycles / 10) == 0) {
                    System.err.printf("  %d/%d cycles%n", i, cycles);
                }
            });
            if (json) {
                Map<String, Object> o = new LinkedHashMap<>();
                o.put("incremental_p50_ms", round(r.incrementalP50Ms()));
                o.put("incremental_p99_ms", round(r.incrementalP99Ms()));
                o.put("incremental_cpu_p50_ms", round(r.cpuP50Ms()));
                o.put("incremental_cpu_p99_ms", round(r.cpuP99Ms()));
                o.put("full_ms", round(r.fullMs()));
                if (churn) {
                    o.put("churn_ms", round(r.churnMs()));
                }
                o.put("heap_mb", round(r.heapMb()));
                o.put("nodes", r.nodes());
                o.put("pending", r.pending());
                o.put("cycles", r.cycles());
                out.println(new ObjectMapper().writeValueAsString(o));
            } else {
                out.printf(Locale.ROOT, "after one event: p50 %.1f ms, p99 %.1f ms (%d cycles); CPU time p50 %.1f ms, "
                        + "p99 %.1f ms%n", r.incrementalP50Ms(), r.incrementalP99Ms(), r.cycles(), r.cpuP50Ms(),
                        r.cpuP99Ms());
                out.printf(Locale.ROOT, "full cycle from scratch: %.1f ms%n", r.fullMs());
                if (churn) {
                    out.printf(Locale.ROOT, "cycle with much borrowing: %.1f ms%n", r.churnMs());
                }
                out.printf(Locale.ROOT, "heap in use: %.0f MB%n", r.heapMb());
            }
            out.flush();
            return 0;
        }
    }

    static double round(double v) {
        return Math.round(v * 10) / 10.0;
    }

    /** {@code coop bench ledger}: verification and recovery time as the ledger grows. */
    @Command(name = "ledger", mixinStandardHelpOptions = true,
            description = {"Write a synthetic ledger (signed shares votes by every member, and one entry per finished "
                    + "attempt) into a RocksDB store in a temporary folder, then time coop ledger verify's full check "
                    + "(every signature) and a restarting scheduler's replay of it."})
    static final class LedgerCost implements Callable<Integer> {
        @Spec
        CommandSpec spec;

        @Option(names = "--attempts", defaultValue = "200000",
                description = "Attempt entries (default: ${DEFAULT-VALUE}).")
        long attempts;

        @Option(names = "--proposals", defaultValue = "100", description = "Shares proposals (default: ${DEFAULT-VALUE}).")
        int proposals;

        @Option(names = "--members", defaultValue = "50", description = "Members, all voting (default: ${DEFAULT-VALUE}).")
        int members;

        @Option(names = "--json", description = "Print one JSON object.")
        boolean json;

        @Override
        public Integer call() throws Exception {
            if (attempts < 0 || proposals < 0 || members < 1) {
                throw new CliException("--attempts and --proposals must be at least 0, --members at least 1");
            }
            java.nio.file.Path dir = java.nio.file.Files.createTempDirectory("coop-bench-ledger");
            try {
                var r = coop.bench.scheduler.LedgerBench.run(dir, members, proposals, attempts,
                        line -> System.err.println("  " + line));
                PrintWriter out = spec.commandLine().getOut();
                if (json) {
                    Map<String, Object> o = new LinkedHashMap<>();
                    o.put("entries", r.entries());
                    o.put("bytes_per_entry", round(r.bytesPerEntry()));
                    o.put("verify_s", Math.round(r.verifyS() * 100) / 100.0);
                    o.put("verify_entries_per_s", Math.round(r.verifyPerS()));
                    o.put("replay_s", Math.round(r.recoverS() * 100) / 100.0);
                    o.put("replay_entries_per_s", Math.round(r.recoverPerS()));
                    o.put("scheduler_start_s", Math.round(r.startS() * 100) / 100.0);
                    out.println(new ObjectMapper().writeValueAsString(o));
                } else {
                    out.printf(Locale.ROOT, "ledger: %d entries (%d members, %d proposals, %d attempts), %.0f bytes "
                                    + "per entry, written in %.1f s%n", r.entries(), r.members(), r.proposals(),
                            r.attempts(), r.bytesPerEntry(), r.writeS());
                    out.printf(Locale.ROOT, "  verify (every link, signature, tally): %.2f s, %.0f entries/s%n",
                            r.verifyS(), r.verifyPerS());
                    out.printf(Locale.ROOT, "  replay as at start-up (no signatures): %.2f s, %.0f entries/s%n",
                            r.recoverS(), r.recoverPerS());
                    out.printf(Locale.ROOT, "  scheduler state recovered from the store: %.2f s%n", r.startS());
                }
                out.flush();
                return 0;
            } finally {
                BenchReplayCommand.delete(dir);
            }
        }
    }
}
