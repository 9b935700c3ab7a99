package coop.bench;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The bench commands' one printer: the JSON scripts read, the text people read, and the rounding. */
class BenchReportTest {
    @Test
    void writesTheFiguresAsJacksonWritesThemFromAMapInTheOrderGiven() throws Exception {
        Map<String, Object> old = new LinkedHashMap<>();
        old.put("long", Long.MAX_VALUE);
        old.put("int", 7);
        old.put("double", 0.1);
        old.put("whole", 3.0);
        old.put("tiny", 1e-7);
        old.put("huge", 1e20);
        old.put("nan", Double.NaN);
        old.put("missing", null);
        old.put("flag", true);
        old.put("text", "é \"quoted\"");
        old.put("list", List.of("a", "b"));
        Map<String, Integer> reasons = new LinkedHashMap<>();
        reasons.put("z", 2);
        reasons.put("a", 1);
        old.put("map", reasons);
        BenchReport report = new BenchReport();
        old.forEach(report::put);
        StringWriter out = new StringWriter();
        report.print(new PrintWriter(out), true);
        assertThat(out.toString()).isEqualTo(new ObjectMapper().writeValueAsString(old) + System.lineSeparator());
    }

    @Test
    void printsTheTextLinesAndTablesWithAlignedColumnsWithoutTheJson() throws Exception {
        BenchReport report = new BenchReport().put("x", 1)
                .line("%.1f ms, %d %%", 2.25, 3)
                .line("%nafter a blank line")
                .table(List.of(new String[] {"ACCOUNT", "SHARE", ""}, new String[] {"a", "12.5", ""},
                        new String[] {"longer", "1.0", ""}));
        StringWriter out = new StringWriter();
        report.print(new PrintWriter(out), false);
        assertThat(out.toString().lines().toList()).containsExactly("2.3 ms, 3 %", "", "after a blank line",
                "ACCOUNT  SHARE", "a         12.5", "longer     1.0");
    }

    @Test
    void roundsHalfUpToTheDecimalsAsTheBenchesDidAndLeavesNothingMeasuredMissing() {
        assertThat(BenchReport.round(2.25, 1)).isEqualTo(Math.round(2.25 * 10) / 10.0);
        assertThat(BenchReport.round(1.005, 2)).isEqualTo(Math.round(1.005 * 100) / 100.0);
        assertThat(BenchReport.round(0.0125, 3)).isEqualTo(Math.round(0.0125 * 1000) / 1000.0);
        assertThat(BenchReport.round(-1.25, 1)).isEqualTo(-1.2);
        assertThat(BenchReport.round(Double.NaN, 2)).isNull();
    }
}
