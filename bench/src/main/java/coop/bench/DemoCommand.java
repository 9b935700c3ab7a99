package coop.bench;

import com.fasterxml.jackson.databind.ObjectMapper;
import coop.bench.demo.Demo;
import coop.bench.demo.DemoReport;
import coop.bench.demo.ReportHtml;
import coop.cli.Durations;
import coop.cli.SchedulerCommand;
import coop.cli.Table;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code coop demo}: runs the whole system on this machine and reports voted vs achieved shares. */
@Command(name = "demo", mixinStandardHelpOptions = true,
        description = {"Run the whole system for real on this machine: a scheduler (RocksDB in --data), four agents "
                + "at three sites on simulated GPUs, five members who vote shares 50/30/20 and then 20/30/50, and "
                + "a saturating workload of real short jobs.",
                "Prints, per policy period, each account's voted and achieved share of GPU time, and writes the "
                        + "same report with charts to report.html in --data."})
public final class DemoCommand implements Callable<Integer> {

    @Spec
    CommandSpec spec;

    @Option(names = "--data", defaultValue = "coop-demo",
            description = "Folder for the demo's data, replaced on each run (default: ./${DEFAULT-VALUE}).")
    Path data;

    @Option(names = "--period", defaultValue = "35s",
            description = "How long each policy period runs (default: ${DEFAULT-VALUE}). "
                    + Durations.FORMS_HELP)
    String period;

    @Option(names = "--seed", defaultValue = "7", description = "Seed of the workload (default: ${DEFAULT-VALUE}).")
    long seed;

    @Option(names = "--http", paramLabel = "HOST:PORT", defaultValue = "127.0.0.1:8080",
            description = "Where the dashboard listens while the demo runs; a free port when this one is taken "
                    + "(default: ${DEFAULT-VALUE}).")
    String http;

    @Option(names = "--json", description = "Print the report as one JSON object on the last line of stdout "
            + "(progress goes to stderr).")
    boolean json;

    @Override
    public Integer call() throws Exception {
        Duration length = Durations.option("--period", period);
        // Progress and the scheduler's own log lines stay out of the report's way.
        System.setProperty("org.slf4j.simpleLogger.defaultLogLevel", "warn");
        PrintWriter out = spec.commandLine().getOut();
        PrintStream progress = json ? System.err : System.out;
        DemoReport report = new Demo(new Demo.Settings(data, length, seed, SchedulerCommand.httpAddress(http)), progress).run();
        // Next to the demo's other files, so the next run replaces it with them.
        Path html = data.resolve("report.html").toAbsolutePath().normalize();
        Files.writeString(html, ReportHtml.render(report));
        if (json) {
            progress.println("report written to " + html);
            out.println(new ObjectMapper().writeValueAsString(toJson(report, html)));
        } else {
            print(out, report);
            out.println("report: " + html);
        }
        out.flush();
        return 0;
    }

    static Map<String, Object> toJson(DemoReport r, Path html) {
        Map<String, Object> o = new LinkedHashMap<>();
        o.put("periods", r.periods().stream().map(p -> {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("policy_version", p.policyVersion());
            m.put("start_ms", p.startMs());
            m.put("end_ms", p.endMs());
            m.put("voted", p.voted());
            m.put("achieved", round(p.achieved()));
            m.put("all_pending", p.allPending());
            m.put("verdict", p.verdict().label());
            m.put("utilization", Math.round(p.utilization() * 1000) / 1000.0);
            m.put("jobs_done", p.jobsDone());
            return m;
        }).toList());
        o.put("utilization", Math.round(r.utilization() * 1000) / 1000.0);
        o.put("jobs_done", r.jobsDone());
        o.put("within_5pp", r.sharesKept());
        o.put("report_html", html.toString());
        return o;
    }

    private static Map<String, Double> round(Map<String, Double> m) {
        Map<String, Double> out = new LinkedHashMap<>();
        m.forEach((k, v) -> out.put(k, Math.round(v * 10) / 10.0));
        return out;
    }

    private static void print(PrintWriter out, DemoReport r) {
        out.println();
        Table t = new Table("PERIOD", "POLICY", "SECONDS", "ACCOUNT", "VOTED", "ACHIEVED", "GAP", "UTIL",
                "JOBS DONE", "ALL PENDING");
        int n = 1;
        for (DemoReport.Period p : r.periods()) {
            for (var e : p.voted().entrySet()) {
                double achieved = p.achieved().getOrDefault(e.getKey(), 0.0);
                t.row(n, "v" + p.policyVersion(), String.format(Locale.ROOT, "%.0f", (p.endMs() - p.startMs()) / 1000.0),
                        e.getKey(), String.format(Locale.ROOT, "%.1f%%", e.getValue()),
                        String.format(Locale.ROOT, "%.1f%%", achieved),
                        String.format(Locale.ROOT, "%+.1f pp", achieved - e.getValue()),
                        String.format(Locale.ROOT, "%.1f%%", p.utilization() * 100), p.jobsDone(),
                        p.allPending() ? "yes" : "no");
            }
            n++;
        }
        t.print(out);
        out.printf(Locale.ROOT, "%nutilization %.1f%% · jobs done %d · every account within 5 pp of its voted share "
                + "in every period with work pending: %s%n", r.utilization() * 100, r.jobsDone(),
                r.sharesKept() ? "yes" : "NO");
        out.println("verdict rule (as coop usage judges): " + coop.scheduler.domain.ShareVerdict.RULE);
    }
}
