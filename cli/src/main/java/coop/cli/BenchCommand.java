package coop.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import coop.scheduler.bench.ScheduleBench;
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
        subcommands = {BenchCommand.Schedule.class, BenchReplayCommand.class})
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

        private static double round(double v) {
            return Math.round(v * 10) / 10.0;
        }
    }
}
