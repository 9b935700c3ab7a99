package coop.bench.demo;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import javax.xml.parsers.DocumentBuilderFactory;
import javax.xml.xpath.XPathConstants;
import javax.xml.xpath.XPathFactory;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.w3c.dom.Document;
import org.w3c.dom.Element;
import org.w3c.dom.NodeList;

/**
 * The demo's HTML report, parsed back as XML: one bar chart per policy period whose bars carry
 * and are drawn to the reported shares, a timeline whose points and stacks are the samples, the
 * headline figures, one colour per account everywhere, and names escaped.
 */
class ReportHtmlTest {
    /** An account name that would break the page if any of it reached the markup unescaped. */
    static final String HOSTILE = "<lab&\"b'>";
    static final long START = 1_700_000_000_000L;

    String html;
    Document doc;

    @BeforeEach
    void render() throws Exception {
        html = ReportHtml.render(report());
        var factory = DocumentBuilderFactory.newInstance();
        factory.setFeature("http://apache.org/xml/features/nonvalidating/load-external-dtd", false);
        doc = factory.newDocumentBuilder().parse(new ByteArrayInputStream(html.getBytes(StandardCharsets.UTF_8)));
    }

    static DemoReport report() {
        DemoReport.Period first = new DemoReport.Period(2, START, START + 30_000, shares(50, 30, 20),
                shares(48.5, 31.0, 20.5), true, 0.91, 120);
        DemoReport.Period second = new DemoReport.Period(3, START + 30_000, START + 62_000, shares(20, 30, 50),
                shares(22.0, 29.0, 49.0), true, 0.88, 130);
        List<Sample> timeline = List.of(
                sample(START - 2_000, 1, 16, 0, 0, 0, 0),
                sample(START + 10_000, 2, 16, 16, 8, 5, 3),
                sample(START + 40_000, 3, 16, 12, 2, 4, 6),
                sample(START + 61_000, 3, 12, 12, 3, 3, 6));
        return new DemoReport(List.of(first, second), 0.895, 250, 16, timeline,
                new DemoReport.LedgerCheck(812, 2, 9, 640, "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"));
    }

    static Map<String, Double> shares(double a, double b, double c) {
        Map<String, Double> m = new LinkedHashMap<>();
        m.put("lab-a", a);
        m.put(HOSTILE, b);
        m.put("uni-c", c);
        return m;
    }

    static Sample sample(long at, long policy, int online, int busy, int a, int b, int c) {
        Map<String, Integer> m = new LinkedHashMap<>();
        m.put("lab-a", a);
        m.put(HOSTILE, b);
        m.put("uni-c", c);
        return new Sample(at, policy, online, busy, m);
    }

    List<Element> all(String xpath) throws Exception {
        NodeList nodes = (NodeList) XPathFactory.newInstance().newXPath().evaluate(xpath, doc, XPathConstants.NODESET);
        List<Element> out = new ArrayList<>();
        for (int i = 0; i < nodes.getLength(); i++) {
            out.add((Element) nodes.item(i));
        }
        return out;
    }

    static double num(Element e, String attribute) {
        return Double.parseDouble(e.getAttribute(attribute));
    }

    /** The polyline's points as (x, y) pairs. */
    static List<double[]> points(Element polyline) {
        List<double[]> out = new ArrayList<>();
        for (String p : polyline.getAttribute("points").trim().split("\\s+")) {
            String[] xy = p.split(",");
            out.add(new double[] {Double.parseDouble(xy[0]), Double.parseDouble(xy[1])});
        }
        return out;
    }

    @Test
    void isOneWellFormedSelfContainedDocument() throws Exception {
        assertThat(html).startsWith("<!DOCTYPE html>");
        assertThat(doc.getDocumentElement().getTagName()).isEqualTo("html");
        assertThat(all("//script")).isEmpty();
        assertThat(all("//link")).isEmpty();
        assertThat(all("//head/style")).hasSize(1);
        // Nothing to fetch: the only URLs are the XML namespaces.
        assertThat(html.replace("http://www.w3.org/1999/xhtml", "").replace("http://www.w3.org/2000/svg", ""))
                .doesNotContain("http:").doesNotContain("https:").doesNotContain("src=");
    }

    @Test
    void everyNameIsEscapedAndReadsBackUnchanged() throws Exception {
        assertThat(html).doesNotContain(HOSTILE).contains("&lt;lab&amp;&quot;b&#39;&gt;");
        List<Element> labels = all("//*[local-name()='svg'][contains(@class,'shares')]//*[contains(@class,'account')]");
        assertThat(labels).extracting(Element::getTextContent).containsExactly("lab-a", HOSTILE, "uni-c",
                "lab-a", HOSTILE, "uni-c");
        assertThat(all("//rect[@data-account]")).extracting(e -> e.getAttribute("data-account")).contains(HOSTILE);
    }

    @Test
    void eachPeriodHasABarChartOfVotedAndAchievedSharesDrawnToScale() throws Exception {
        List<Element> sections = all("//section[@class='period']");
        assertThat(sections).extracting(e -> e.getAttribute("data-policy")).containsExactly("2", "3");
        DemoReport r = report();
        for (int i = 0; i < sections.size(); i++) {
            DemoReport.Period p = r.periods().get(i);
            String chart = "//section[@data-policy='" + p.policyVersion() + "']//*[local-name()='svg']";
            List<Element> voted = all(chart + "//rect[@class='bar voted']");
            List<Element> achieved = all(chart + "//rect[@class='bar achieved']");
            assertThat(voted).extracting(e -> e.getAttribute("data-account")).containsExactly("lab-a", HOSTILE, "uni-c");
            assertThat(voted).extracting(e -> num(e, "data-value"))
                    .containsExactlyElementsOf(p.voted().values());
            assertThat(achieved).extracting(e -> num(e, "data-value"))
                    .containsExactlyElementsOf(p.achieved().values());
            // One scale per chart: every bar stands on the same baseline, its height proportional to its value.
            List<Element> bars = new ArrayList<>(voted);
            bars.addAll(achieved);
            double baseline = num(bars.get(0), "y") + num(bars.get(0), "height");
            double perPoint = num(bars.get(0), "height") / num(bars.get(0), "data-value");
            for (Element bar : bars) {
                assertThat(num(bar, "y") + num(bar, "height")).isCloseTo(baseline, within(0.02));
                assertThat(num(bar, "height")).isCloseTo(num(bar, "data-value") * perPoint, within(0.05));
            }
            assertThat(all(chart + "//*[local-name()='text'][@class='value']")).extracting(Element::getTextContent)
                    .contains(String.format(java.util.Locale.ROOT, "%.1f%%", p.achieved().get("lab-a")));
        }
        // The achieved 48.5 % bar is drawn shorter than the voted 50 % next to it.
        Element voted = all("//section[@data-policy='2']//rect[@class='bar voted'][@data-account='lab-a']").get(0);
        Element achieved = all("//section[@data-policy='2']//rect[@class='bar achieved'][@data-account='lab-a']").get(0);
        assertThat(num(achieved, "height")).isLessThan(num(voted, "height"));
    }

    @Test
    void theTimelineHasAPointPerSampleWithBusyBelowOnlineAndStacksAddingUpToBusy() throws Exception {
        Element busy = all("//polyline[@class='busy']").get(0);
        Element online = all("//polyline[@class='online']").get(0);
        List<double[]> b = points(busy);
        List<double[]> o = points(online);
        assertThat(b).hasSize(4);
        assertThat(o).hasSize(4);
        for (int i = 1; i < b.size(); i++) {
            assertThat(b.get(i)[0]).isGreaterThan(b.get(i - 1)[0]);
        }
        double zero = b.get(0)[1];
        // Sample 1: 16 of 16 busy (on the online line); sample 2: 12 of 16, lower; sample 3: 12 of 12.
        assertThat(b.get(1)[1]).isCloseTo(o.get(1)[1], within(0.01)).isLessThan(zero);
        assertThat(b.get(2)[1]).isGreaterThan(o.get(2)[1]);
        assertThat(b.get(3)[1]).isCloseTo(o.get(3)[1], within(0.01));
        // Linear in GPUs: 12 busy sits three quarters of the way from 0 to 16.
        assertThat(zero - b.get(2)[1]).isCloseTo(0.75 * (zero - b.get(1)[1]), within(0.02));
        assertThat(all("//circle[@class='point']")).extracting(e -> e.getAttribute("data-busy"))
                .containsExactly("0", "16", "12", "12");

        // Stacked in legend order; the last account's upper edge is the busy line.
        List<Element> stacks = all("//polygon[@class='stack']");
        assertThat(stacks).extracting(e -> e.getAttribute("data-account"))
                .containsExactly(HOSTILE, "lab-a", "uni-c");
        List<double[]> top = points(stacks.get(2)).subList(0, 4);
        for (int i = 0; i < 4; i++) {
            assertThat(top.get(i)[0]).isCloseTo(b.get(i)[0], within(0.01));
            assertThat(top.get(i)[1]).isCloseTo(b.get(i)[1], within(0.01));
        }
        assertThat(all("//rect[@class='band']")).extracting(e -> e.getAttribute("data-policy"))
                .containsExactly("2", "3");
    }

    @Test
    void anAccountHasOneColourOnEveryChartAndInTheLegend() throws Exception {
        for (String account : List.of("lab-a", HOSTILE, "uni-c")) {
            var fills = new java.util.HashSet<String>();
            all("//rect[contains(@class,'bar')]").stream().filter(e -> e.getAttribute("data-account").equals(account))
                    .forEach(e -> fills.add(e.getAttribute("fill")));
            all("//polygon[@class='stack']").stream().filter(e -> e.getAttribute("data-account").equals(account))
                    .forEach(e -> fills.add(e.getAttribute("fill")));
            assertThat(fills).as(account).hasSize(1);
            Element key = all("//div[@class='legend']/span[@class='key']").stream()
                    .filter(e -> e.getTextContent().equals(account)).findFirst().orElseThrow();
            assertThat(((Element) key.getElementsByTagName("rect").item(0)).getAttribute("fill"))
                    .isEqualTo(fills.iterator().next());
        }
        var distinct = new java.util.HashSet<String>();
        all("//polygon[@class='stack']").forEach(e -> distinct.add(e.getAttribute("fill")));
        assertThat(distinct).hasSize(3);
    }

    @Test
    void theHeadlineGivesTheLedgerJobsUtilizationAndWhetherTheSharesWereKept() throws Exception {
        List<String> figures = all("//div[@class='figure']").stream()
                .map(e -> e.getTextContent().replaceAll("\\s+", " ")).toList();
        assertThat(figures).hasSize(4);
        assertThat(figures.get(0)).contains("verified").contains("812 entries").contains("2 proposals")
                .contains("9f86d081884c");
        assertThat(figures.get(1)).contains("250");
        assertThat(figures.get(2)).contains("89.5%").contains("16 GPUs");
        assertThat(figures.get(3)).contains("yes").contains("largest gap 2.0 pp");
        assertThat(all("//*[local-name()='text'][@class='axis-title']")).extracting(Element::getTextContent)
                .contains("GPUs", "time since sampling began (s)", "share of GPU time (%)");
    }

    @Test
    void aGapBeyondFivePointsIsReportedAsNotKept() throws Exception {
        DemoReport r = report();
        DemoReport.Period off = new DemoReport.Period(2, START, START + 30_000, shares(50, 30, 20),
                shares(40, 35, 25), true, 0.9, 100);
        String page = ReportHtml.render(new DemoReport(List.of(off), 0.9, 100, 16, r.timeline(), r.ledger()));
        assertThat(page).contains("Voted shares kept</div><div class=\"value bad\">no</div>")
                .contains("largest gap 10.0 pp");
    }

    @Test
    void markupRefusesToEndWithAnElementOpenAndEscapesAllFiveSpecials() {
        Markup m = new Markup().open("div").open("span").close();
        assertThatThrownBy(m::toString).hasMessageContaining("div");
        assertThat(Markup.escape("a<b>&\"c'")).isEqualTo("a&lt;b&gt;&amp;&quot;c&#39;");
        assertThat(Markup.num(12.0)).isEqualTo("12");
        assertThat(Markup.num(-0.001)).isEqualTo("0");
        assertThat(Markup.num(3.14159)).isEqualTo("3.14");
    }

    @Test
    void axesEndOnARoundValueAtOrAboveTheData() {
        Axis gpus = Axis.upTo(16, 4, 300, 30);
        assertThat(gpus.max()).isEqualTo(16);
        assertThat(gpus.ticks()).containsExactly(0.0, 4.0, 8.0, 12.0, 16.0);
        assertThat(gpus.at(0)).isEqualTo(300);
        assertThat(gpus.at(16)).isEqualTo(30);
        assertThat(gpus.at(8)).isEqualTo(165);
        assertThat(Axis.upTo(50, 5, 0, 1).max()).isEqualTo(50);
        assertThat(Axis.upTo(52.3, 5, 0, 1).max()).isEqualTo(60);
        assertThat(Axis.upTo(77, 10, 0, 1).ticks()).hasSize(9).endsWith(80.0);
        assertThat(Axis.upTo(0, 4, 0, 1).max()).isPositive();
    }
}
