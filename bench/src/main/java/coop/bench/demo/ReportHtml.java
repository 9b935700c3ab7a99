package coop.bench.demo;

import coop.scheduler.domain.ShareVerdict;
import coop.scheduler.view.AccountColours;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeSet;

/**
 * The demo's report as one self-contained HTML page (inline CSS and SVG, nothing fetched, so it
 * renders when opened from disk): the headline figures; per policy period, a grouped bar chart
 * of each account's voted against achieved share; and a chart of GPUs in use over time,
 * stacked by account under the GPUs online, with the policy periods marked. Each account keeps
 * one colour on every chart. The page is written as XHTML, so it also parses as XML.
 */
public final class ReportHtml {

    private static final String SVG = "http://www.w3.org/2000/svg";
    private static final DateTimeFormatter WHEN = DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm:ss 'UTC'", Locale.ROOT)
            .withZone(ZoneOffset.UTC);
    /** How close to its voted share the demo promises each account, in percentage points: the live rule's. */
    private static final double PROMISE_PP = ShareVerdict.TOLERANCE_PP;

    private static final String STYLE = """
            :root { --ink: #1f2933; --muted: #616e7c; --line: #d9dee5; --panel: #f7f8fa; }
            * { box-sizing: border-box; }
            body { margin: 0; padding: 32px 40px 48px; font: 15px/1.45 system-ui, -apple-system, "Segoe UI", Roboto,
              "Helvetica Neue", Arial, sans-serif; color: var(--ink); background: #fff; }
            main { max-width: 1120px; margin: 0 auto; }
            h1 { font-size: 26px; margin: 0 0 4px; }
            h2 { font-size: 19px; margin: 36px 0 6px; }
            h3 { font-size: 16px; margin: 0 0 2px; }
            p.lead, p.note { color: var(--muted); margin: 0 0 12px; }
            .figures { display: grid; grid-template-columns: repeat(4, 1fr); gap: 14px; margin: 22px 0 8px; }
            .figure { background: var(--panel); border: 1px solid var(--line); border-radius: 8px; padding: 14px 16px; }
            .figure .label { color: var(--muted); font-size: 13px; text-transform: uppercase; letter-spacing: .04em; }
            .figure .value { font-size: 28px; font-weight: 650; margin: 2px 0; }
            .figure .value.ok { color: #2f7d32; }
            .figure .value.bad { color: #b3261e; }
            .figure .detail { color: var(--muted); font-size: 13px; }
            .legend { display: flex; flex-wrap: wrap; gap: 8px 22px; align-items: center; margin: 10px 0 4px;
              font-size: 14px; }
            .legend span.key { display: inline-flex; align-items: center; gap: 7px; }
            .legend svg { flex: none; }
            .periods { display: grid; grid-template-columns: repeat(auto-fit, minmax(500px, 1fr)); gap: 18px; }
            .period { border: 1px solid var(--line); border-radius: 8px; padding: 16px 16px 10px; }
            .period p.note { font-size: 13px; }
            .chart { display: block; width: 100%; height: auto; }
            table { border-collapse: collapse; width: 100%; font-size: 13px; margin-top: 6px; }
            th, td { text-align: right; padding: 4px 8px; border-top: 1px solid var(--line); }
            th:first-child, td:first-child { text-align: left; }
            th { color: var(--muted); font-weight: 600; }
            td .swatch { display: inline-block; width: 10px; height: 10px; border-radius: 2px; margin-right: 6px; }
            svg text { font-family: inherit; fill: var(--ink); }
            svg .tick { font-size: 12px; fill: var(--muted); }
            svg .axis-title { font-size: 12px; fill: var(--muted); }
            svg .value { font-size: 11px; }
            svg .band-label { font-size: 12px; font-weight: 600; fill: var(--muted); }
            svg .grid { stroke: #e7eaee; stroke-width: 1; }
            svg .baseline { stroke: #9aa5b1; stroke-width: 1; }
            footer { margin-top: 36px; color: var(--muted); font-size: 12px; }
            """;

    private final DemoReport report;
    private final Map<String, String> colours = new LinkedHashMap<>();
    /** Time zero of the page: the first sample or the first period's start, whichever is earlier. */
    private final long origin;

    private ReportHtml(DemoReport report) {
        this.report = report;
        long first = Long.MAX_VALUE;
        for (Sample s : report.timeline()) {
            first = Math.min(first, s.atMs());
        }
        for (DemoReport.Period p : report.periods()) {
            first = Math.min(first, p.startMs());
        }
        this.origin = first == Long.MAX_VALUE ? 0 : first;
        TreeSet<String> accounts = new TreeSet<>();
        report.periods().forEach(p -> {
            accounts.addAll(p.voted().keySet());
            accounts.addAll(p.achieved().keySet());
        });
        report.timeline().forEach(s -> accounts.addAll(s.gpusByAccount().keySet()));
        // The dashboard's colours: the same account looks the same in both.
        colours.putAll(AccountColours.of(accounts));
    }

    /** The page for {@code report}. */
    public static String render(DemoReport report) {
        return new ReportHtml(report).page();
    }

    private String page() {
        Markup m = new Markup();
        m.raw("<!DOCTYPE html>\n");
        m.open("html", "xmlns", "http://www.w3.org/1999/xhtml", "lang", "en");
        m.open("head").empty("meta", "charset", "utf-8")
                .empty("meta", "name", "viewport", "content", "width=device-width, initial-scale=1")
                .leaf("title", "coop demo report")
                .open("style").raw(STYLE).close()
                .close();
        m.open("body").open("main");
        m.leaf("h1", "coop demo: voted vs achieved shares");
        m.leaf("p", intro(), "class", "lead");
        figures(m);
        legend(m);
        m.leaf("h2", "Shares per policy period");
        m.leaf("p", "Verdict, by the rule the scheduler's usage report and dashboard judge by: "
                + ShareVerdict.RULE + ".", "class", "note");
        m.leaf("p", "Each period runs from a policy's enactment to the next one (or the end of the run). Achieved "
                + "is the account's share of the GPU-seconds its jobs used in that period, computed from the "
                + "attempts the scheduler recorded.", "class", "note");
        m.open("div", "class", "periods");
        int n = 1;
        for (DemoReport.Period p : report.periods()) {
            period(m, n++, p);
        }
        m.close();
        m.leaf("h2", "GPUs in use over time");
        m.leaf("p", "The scheduler's usage, sampled about once a second: GPUs held by each account's running jobs, "
                + "stacked; the top edge is all GPUs busy, the dashed line the GPUs online. Shaded bands are the "
                + "policy periods.", "class", "note");
        timeline(m);
        m.leaf("footer", "Written by coop demo. Self-contained: no scripts, no network.");
        m.close().close().close();
        return m.toString();
    }

    private String intro() {
        StringBuilder s = new StringBuilder();
        s.append(report.periods().size()).append(report.periods().size() == 1 ? " policy period" : " policy periods")
                .append(" on ").append(report.capacityGpus()).append(" GPUs");
        if (!report.periods().isEmpty()) {
            s.append(", first policy enacted ")
                    .append(WHEN.format(Instant.ofEpochMilli(report.periods().get(0).startMs())));
        }
        return s.append('.').toString();
    }

    // ------------------------------------------------------------------ headline

    private void figures(Markup m) {
        m.open("div", "class", "figures");
        DemoReport.LedgerCheck l = report.ledger();
        figure(m, "Ledger", l == null ? "not checked" : "verified", l == null ? "bad" : "ok", l == null ? ""
                : String.format(Locale.ROOT, "%d entries, %d proposals re-tallied, %d ballots' signatures, "
                + "%d attempts; head %s…", l.entries(), l.proposals(), l.ballots(), l.attempts(), shortHash(l.head())));
        figure(m, "Jobs run", Integer.toString(report.jobsDone()), "",
                "jobs that succeeded during the policy periods");
        figure(m, "Utilization", percent(report.utilization() * 100), "",
                "GPU-time used of GPU-time available on " + report.capacityGpus() + " GPUs");
        boolean fair = report.sharesKept();
        double worst = report.periods().stream().mapToDouble(DemoReport.Period::worstGap).max().orElse(0);
        figure(m, "Voted shares kept", fair ? "yes" : "no", fair ? "ok" : "bad",
                String.format(Locale.ROOT, "every account within %.0f pp in every period with work pending; "
                        + "largest gap %.1f pp", PROMISE_PP, worst));
        m.close();
    }

    private static void figure(Markup m, String label, String value, String tone, String detail) {
        m.open("div", "class", "figure")
                .leaf("div", label, "class", "label")
                .leaf("div", value, "class", tone.isEmpty() ? "value" : "value " + tone)
                .leaf("div", detail, "class", "detail")
                .close();
    }

    private void legend(Markup m) {
        m.open("div", "class", "legend");
        colours.forEach((account, colour) -> {
            m.open("span", "class", "key");
            swatch(m, colour, 1, colour);
            m.text(account).close();
        });
        m.open("span", "class", "key");
        swatch(m, "#7b8794", 0.28, "#7b8794");
        m.text("voted share").close();
        m.open("span", "class", "key");
        swatch(m, "#7b8794", 1, "#7b8794");
        m.text("achieved share").close();
        m.open("span", "class", "key");
        m.open("svg", "xmlns", SVG, "width", "26", "height", "12", "aria-hidden", "true")
                .empty("line", "x1", "1", "y1", "6", "x2", "25", "y2", "6", "stroke", "#3e4c59", "stroke-width", "2",
                        "stroke-dasharray", "5 3")
                .close();
        m.text("GPUs online").close();
        m.close();
    }

    private static void swatch(Markup m, String fill, double opacity, String stroke) {
        m.open("svg", "xmlns", SVG, "width", "14", "height", "14", "aria-hidden", "true")
                .empty("rect", "x", "1", "y", "1", "width", "12", "height", "12", "rx", "2", "fill", fill,
                        "fill-opacity", Markup.num(opacity), "stroke", stroke, "stroke-width", "1.5")
                .close();
    }

    // ------------------------------------------------------------------ shares per period

    private void period(Markup m, int n, DemoReport.Period p) {
        m.open("section", "class", "period", "data-policy", Long.toString(p.policyVersion()));
        m.leaf("h3", "Period " + n + ": policy v" + p.policyVersion());
        m.leaf("p", String.format(Locale.ROOT, "%.0f–%.0f s (%.0f s long) · utilization %s · %d jobs done · %s",
                seconds(p.startMs()), seconds(p.endMs()), (p.endMs() - p.startMs()) / 1000.0,
                percent(p.utilization() * 100), p.jobsDone(),
                p.allPending() ? "every account had work waiting throughout" : "some account ran out of work"),
                "class", "note");
        sharesChart(m, p);
        m.open("table").open("thead").open("tr");
        for (String h : List.of("Account", "Voted", "Achieved", "Gap", "Verdict")) {
            m.leaf("th", h);
        }
        m.close().close().open("tbody");
        for (var e : p.voted().entrySet()) {
            double achieved = p.achieved().getOrDefault(e.getKey(), 0.0);
            m.open("tr").open("td")
                    .leaf("span", "", "class", "swatch", "style", "background:" + colour(e.getKey()))
                    .text(e.getKey()).close()
                    .leaf("td", percent(e.getValue()))
                    .leaf("td", percent(achieved))
                    .leaf("td", String.format(Locale.ROOT, "%+.1f pp", achieved - e.getValue()))
                    .leaf("td", p.verdicts().get(e.getKey()).outcome().label(), "class", "verdict")
                    .close();
        }
        m.close().close();
        m.close();
    }

    /** Seconds from the page's time zero, the timeline's x. */
    private double seconds(long ms) {
        return (ms - origin) / 1000.0;
    }

    private void sharesChart(Markup m, DemoReport.Period p) {
        double width = 520;
        double height = 280;
        double left = 62;
        double right = 12;
        double top = 18;
        double bottom = 44;
        List<String> accounts = new ArrayList<>(p.voted().keySet());
        p.achieved().keySet().stream().filter(a -> !accounts.contains(a)).forEach(accounts::add);
        double most = 0;
        for (String a : accounts) {
            most = Math.max(most, Math.max(p.voted().getOrDefault(a, 0.0), p.achieved().getOrDefault(a, 0.0)));
        }
        Axis y = Axis.upTo(Math.max(most, 10), 5, height - bottom, top);
        m.open("svg", "xmlns", SVG, "class", "chart shares", "viewBox", "0 0 " + Markup.num(width) + " "
                + Markup.num(height), "role", "img", "aria-label", "Voted and achieved share per account, policy v"
                + p.policyVersion());
        yGrid(m, y, left, width - right, v -> Markup.num(v) + "%");
        m.leaf("text", "share of GPU time (%)", "class", "axis-title", "transform",
                "translate(14 " + Markup.num((top + height - bottom) / 2) + ") rotate(-90)", "text-anchor", "middle");
        double band = (width - left - right) / Math.max(1, accounts.size());
        double bar = Math.min(52, band * 0.32);
        for (int i = 0; i < accounts.size(); i++) {
            String a = accounts.get(i);
            double centre = left + band * (i + 0.5);
            bar(m, a, "voted", p.voted().getOrDefault(a, 0.0), centre - bar - 2, bar, y, 0.28);
            bar(m, a, "achieved", p.achieved().getOrDefault(a, 0.0), centre + 2, bar, y, 1);
            m.leaf("text", a, "class", "tick account", "x", Markup.num(centre), "y", Markup.num(height - bottom + 18),
                    "text-anchor", "middle");
            m.leaf("text", "voted · achieved", "class", "axis-title", "x", Markup.num(centre),
                    "y", Markup.num(height - bottom + 34), "text-anchor", "middle");
        }
        m.empty("line", "class", "baseline", "x1", Markup.num(left), "x2", Markup.num(width - right),
                "y1", Markup.num(y.at(0)), "y2", Markup.num(y.at(0)));
        m.close();
    }

    private void bar(Markup m, String account, String kind, double value, double x, double w, Axis y, double opacity) {
        double top = y.at(value);
        String colour = colour(account);
        m.open("rect", "class", "bar " + kind, "data-account", account, "data-value", Markup.num(value),
                "x", Markup.num(x), "y", Markup.num(top), "width", Markup.num(w), "height", Markup.num(y.at(0) - top),
                "fill", colour, "fill-opacity", Markup.num(opacity), "stroke", colour, "stroke-width", "1.5");
        m.leaf("title", account + " " + kind + " " + percent(value));
        m.close();
        m.leaf("text", percent(value), "class", "value", "x", Markup.num(x + w / 2), "y", Markup.num(top - 5),
                "text-anchor", "middle");
    }

    // ------------------------------------------------------------------ GPUs over time

    private void timeline(Markup m) {
        List<Sample> samples = report.timeline();
        double width = 1080;
        double height = 330;
        double left = 56;
        double right = 20;
        double top = 30;
        double bottom = 46;
        if (samples.isEmpty()) {
            m.leaf("p", "No usage samples were recorded.", "class", "note");
            return;
        }
        long last = samples.get(samples.size() - 1).atMs();
        for (DemoReport.Period p : report.periods()) {
            last = Math.max(last, p.endMs());
        }
        Axis x = Axis.upTo(seconds(last), 10, left, width - right);
        int most = report.capacityGpus();
        for (Sample s : samples) {
            most = Math.max(most, Math.max(s.gpusOnline(), s.gpusBusy()));
        }
        Axis y = Axis.upTo(most, 4, height - bottom, top);
        m.open("svg", "xmlns", SVG, "class", "chart timeline", "viewBox", "0 0 " + Markup.num(width) + " "
                + Markup.num(height), "role", "img", "aria-label", "GPUs busy and online over time");
        // Policy periods as alternating bands behind the data.
        int n = 0;
        for (DemoReport.Period p : report.periods()) {
            double from = x.at(seconds(p.startMs()));
            double to = x.at(seconds(p.endMs()));
            m.empty("rect", "class", "band", "data-policy", Long.toString(p.policyVersion()), "x", Markup.num(from),
                    "y", Markup.num(top), "width", Markup.num(to - from), "height", Markup.num(y.at(0) - top),
                    "fill", n++ % 2 == 0 ? "#eef2f7" : "#f7f0e6");
            m.leaf("text", "policy v" + p.policyVersion(), "class", "band-label", "x", Markup.num(from + 6),
                    "y", Markup.num(top - 8));
        }
        yGrid(m, y, left, width - right, Markup::num);
        for (double t : x.ticks()) {
            m.leaf("text", Markup.num(t), "class", "tick", "x", Markup.num(x.at(t)), "y",
                    Markup.num(height - bottom + 18), "text-anchor", "middle");
        }
        m.leaf("text", "time since sampling began (s)", "class", "axis-title", "x",
                Markup.num((left + width - right) / 2), "y", Markup.num(height - 6), "text-anchor", "middle");
        m.leaf("text", "GPUs", "class", "axis-title", "transform",
                "translate(16 " + Markup.num((top + height - bottom) / 2) + ") rotate(-90)", "text-anchor", "middle");

        // Each account's GPUs, stacked in legend order.
        double[] below = new double[samples.size()];
        for (Map.Entry<String, String> account : colours.entrySet()) {
            StringBuilder upper = new StringBuilder();
            StringBuilder lower = new StringBuilder();
            double[] above = new double[samples.size()];
            for (int i = 0; i < samples.size(); i++) {
                Sample s = samples.get(i);
                above[i] = below[i] + s.gpusByAccount().getOrDefault(account.getKey(), 0);
                double px = x.at(seconds(s.atMs()));
                upper.append(Markup.num(px)).append(',').append(Markup.num(y.at(above[i]))).append(' ');
            }
            for (int i = samples.size() - 1; i >= 0; i--) {
                double px = x.at(seconds(samples.get(i).atMs()));
                lower.append(Markup.num(px)).append(',').append(Markup.num(y.at(below[i]))).append(' ');
            }
            m.open("polygon", "class", "stack", "data-account", account.getKey(), "points",
                    (upper.toString() + lower).trim(), "fill", account.getValue(), "fill-opacity", "0.55",
                    "stroke", account.getValue(), "stroke-width", "0.5");
            m.leaf("title", account.getKey() + ": GPUs held by its running jobs");
            m.close();
            below = above;
        }
        m.empty("polyline", "class", "online", "points", points(samples, x, y, Sample::gpusOnline), "fill",
                "none", "stroke", "#3e4c59", "stroke-width", "2", "stroke-dasharray", "6 4");
        m.empty("polyline", "class", "busy", "points", points(samples, x, y, Sample::gpusBusy), "fill",
                "none", "stroke", "#1f2933", "stroke-width", "2");
        for (Sample s : samples) {
            double t = seconds(s.atMs());
            m.open("circle", "class", "point", "data-busy", Integer.toString(s.gpusBusy()), "data-online",
                    Integer.toString(s.gpusOnline()), "cx", Markup.num(x.at(t)), "cy", Markup.num(y.at(s.gpusBusy())),
                    "r", "2.2", "fill", "#1f2933");
            m.leaf("title", tooltip(t, s));
            m.close();
        }
        m.empty("line", "class", "baseline", "x1", Markup.num(left), "x2", Markup.num(width - right),
                "y1", Markup.num(y.at(0)), "y2", Markup.num(y.at(0)));
        m.close();
    }

    private static String tooltip(double t, Sample s) {
        StringBuilder b = new StringBuilder(String.format(Locale.ROOT, "%.0f s: %d of %d GPUs busy, policy v%d",
                t, s.gpusBusy(), s.gpusOnline(), s.policyVersion()));
        s.gpusByAccount().forEach((a, g) -> b.append("; ").append(a).append(' ').append(g));
        return b.toString();
    }

    private String points(List<Sample> samples, Axis x, Axis y, java.util.function.ToIntFunction<Sample> value) {
        StringBuilder b = new StringBuilder();
        for (Sample s : samples) {
            b.append(b.length() == 0 ? "" : " ").append(Markup.num(x.at(seconds(s.atMs())))).append(',')
                    .append(Markup.num(y.at(value.applyAsInt(s))));
        }
        return b.toString();
    }

    // ------------------------------------------------------------------ shared

    private static void yGrid(Markup m, Axis y, double left, double right,
                              java.util.function.DoubleFunction<String> label) {
        for (double v : y.ticks()) {
            m.empty("line", "class", "grid", "x1", Markup.num(left), "x2", Markup.num(right), "y1",
                    Markup.num(y.at(v)), "y2", Markup.num(y.at(v)));
            m.leaf("text", label.apply(v), "class", "tick", "x", Markup.num(left - 8), "y", Markup.num(y.at(v) + 4),
                    "text-anchor", "end");
        }
    }

    private String colour(String account) {
        return colours.getOrDefault(account, "#7b8794");
    }

    private static String percent(double v) {
        return String.format(Locale.ROOT, "%.1f%%", v);
    }

    private static String shortHash(String head) {
        return head.length() > 12 ? head.substring(0, 12) : head;
    }
}
