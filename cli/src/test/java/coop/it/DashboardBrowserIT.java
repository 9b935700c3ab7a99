package coop.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.openqa.selenium.By;
import org.openqa.selenium.OutputType;
import org.openqa.selenium.WebDriver;
import org.openqa.selenium.WebDriverException;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;

/**
 * The dashboard in a real browser: the real scheduler (with {@code --http}) and two real agents
 * at two sites as processes, jobs running and one that cannot fit, an open proposal; headless
 * Chromium driven by Selenium opens the page and the test reads what it shows. The charts must
 * have drawn lines with points, and the numbers on the page (GPUs busy and free, jobs pending,
 * each account's voted and achieved share, each node's busy GPUs, the queue's why-pending, the
 * proposal's tally, the ledger's check) must be those the JSON API serves. A screenshot goes to
 * {@code cli/target/dashboard.png}.
 */
class DashboardBrowserIT {
    private static final Path CHROMIUM = Path.of("/usr/bin/chromium");
    private static final Path CHROMEDRIVER = Path.of("/usr/bin/chromedriver");
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path dir;
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    @Test
    void theDashboardShowsWhatTheApiServes() throws Exception {
        boolean present = Files.isExecutable(CHROMIUM) && Files.isExecutable(CHROMEDRIVER);
        String missing = "needs " + CHROMIUM + " and " + CHROMEDRIVER + ": apt-get install chromium chromium-driver";
        if ("1".equals(System.getenv("COOP_REQUIRE_PREREQS"))) {
            assertThat(present).as(missing + " (COOP_REQUIRE_PREREQS=1)").isTrue();
        }
        Assumptions.assumeTrue(present, missing);
        try (CoopProcesses coop = new CoopProcesses(dir)) {
            Path data = dir.resolve("data");
            var init = coop.run("init", "--data", data.toString(), "--founders", "alice:lab-a,bob:lab-b",
                    "--accounts", "lab-a,lab-b", "--notice", "shares=1h");
            assertThat(init.exitCode()).as(init.stderr()).isZero();
            var scheduler = coop.scheduler(data, "--http", "127.0.0.1:0");
            String url = dashboardUrl();
            String target = scheduler.target();
            String alice = data.resolve("identities/alice.json").toString();
            String bob = data.resolve("identities/bob.json").toString();
            coop.agent(target, Path.of(alice), "lab-a", "n1", "north", "sim:2xA100-80GB", dir.resolve("n1"));
            coop.agent(target, Path.of(bob), "lab-b", "n2", "south", "sim:2xA100-80GB", dir.resolve("n2"));
            await().atMost(Duration.ofSeconds(30)).until(() -> {
                JsonNode nodes = api(url, "api/v1/nodes");
                return nodes.size() == 2 && nodes.findValuesAsText("state").stream().allMatch("online"::equals);
            });

            Path release = dir.resolve("release");
            String hold = "while [ ! -f " + release + " ]; do sleep 0.2; done";
            submit(coop, target, alice, "lab-a", "1", "hold-a", hold);
            submit(coop, target, bob, "lab-b", "1", "hold-b", hold);
            // A gang of both nodes whole, which the holds keep busy: this one waits, and says why.
            var gang = coop.run("submit", "--scheduler", target, "--identity", alice, "--account", "lab-a", "--gpus",
                    "2", "--nodes", "2", "--cross-site", "--name", "both-nodes", "--", "true");
            assertThat(gang.exitCode()).as(gang.stderr()).isZero();
            long waiting = ClusterIT.jobId(gang.stdout());
            await().atMost(Duration.ofSeconds(30)).until(() -> api(url, "api/v1/usage").get("gpus_busy").asInt() == 2);
            var propose = coop.run("propose", "shares", "lab-a=60", "lab-b=40", "--closes-in", "1h", "--scheduler",
                    target, "--identity", alice);
            assertThat(propose.exitCode()).as(propose.stderr()).isZero();
            var vote = coop.run("vote", "--scheduler", target, "--identity", bob, "1", "no");
            assertThat(vote.exitCode()).as(vote.stderr()).isZero();

            WebDriver browser = browser();
            try {
                browser.get(url);
                // The page redraws every 2 s: an element read during a redraw is gone, so read again.
                await().atMost(Duration.ofSeconds(30)).ignoreExceptionsInstanceOf(WebDriverException.class)
                        .untilAsserted(() -> {
                    assertThat(browser.findElement(By.id("status")).getAttribute("data-state")).isEqualTo("ok");
                    // Charts: for each account a voted and an achieved line through several samples.
                    List<WebElement> lines = browser.findElements(By.cssSelector("#share-chart path"));
                    assertThat(lines).hasSize(4);
                    for (WebElement line : lines) {
                        assertThat(points(line.getAttribute("d"))).as(line.getAttribute("d")).isGreaterThanOrEqualTo(3);
                    }
                    assertThat(points(browser.findElement(By.id("utilization-line")).getAttribute("d")))
                            .isGreaterThanOrEqualTo(3);
                });

                // What the page shows against what the API serves. The page polls, so compare until both agree.
                await().atMost(Duration.ofSeconds(30)).ignoreExceptionsInstanceOf(WebDriverException.class)
                        .untilAsserted(() -> {
                    JsonNode usage = api(url, "api/v1/usage");
                    int online = usage.get("gpus_online").asInt();
                    int busy = usage.get("gpus_busy").asInt();
                    assertThat(online).isEqualTo(4);
                    assertThat(busy).isEqualTo(2);
                    assertThat(text(browser, "gpus-busy")).isEqualTo(Integer.toString(busy));
                    assertThat(text(browser, "gpus-free")).isEqualTo(Integer.toString(online - busy));
                    assertThat(text(browser, "gpus-online")).isEqualTo(Integer.toString(online));
                    JsonNode pending = api(url, "api/v1/jobs?state=pending").get("jobs");
                    assertThat(pending).hasSize(1);
                    assertThat(text(browser, "pending-count")).isEqualTo("1");
                    for (JsonNode a : usage.get("accounts")) {
                        WebElement row = browser.findElement(By.cssSelector("#accounts tr[data-account='"
                                + a.get("account").asText() + "']"));
                        double voted = a.get("entitled_basis_points").asInt() / 100.0;
                        assertThat(row.findElement(By.cssSelector(".voted")).getText())
                                .isEqualTo(String.format(java.util.Locale.ROOT, "%.1f%%", voted));
                        double shown = Double.parseDouble(row.findElement(By.cssSelector(".achieved")).getText()
                                .replace("%", ""));
                        // Achieved shares drift while jobs run; the page is at most one poll behind.
                        assertThat(shown).isCloseTo(a.get("achieved_percent").asDouble(),
                                org.assertj.core.data.Offset.offset(2.0));
                    }
                    for (JsonNode n : api(url, "api/v1/nodes")) {
                        WebElement card = browser.findElement(By.cssSelector(".site[data-site='"
                                + n.get("site").asText() + "'] .node[data-node='" + n.get("name").asText() + "']"));
                        assertThat(card.getAttribute("data-busy")).isEqualTo(
                                Integer.toString(n.get("busy_gpu_indices").size()));
                        assertThat(card.findElements(By.cssSelector(".gpu.busy"))).hasSize(n.get("busy_gpu_indices").size());
                        assertThat(card.findElements(By.cssSelector(".gpu"))).hasSize(n.get("gpus").size());
                    }
                    WebElement queued = browser.findElement(By.cssSelector("#queue tr[data-job-id='" + waiting + "']"));
                    assertThat(queued.findElement(By.cssSelector(".why")).getText())
                            .isEqualTo(pending.get(0).get("why_pending").asText()).isNotEmpty();
                    assertThat(browser.findElements(By.cssSelector("#running tr[data-job-id]"))).hasSize(2);

                    JsonNode proposal = api(url, "api/v1/proposals?open=true").get(0);
                    WebElement p = browser.findElement(By.cssSelector("#proposals tr[data-proposal-id='"
                            + proposal.get("id").asLong() + "']"));
                    JsonNode tally = proposal.get("tally");
                    assertThat(p.findElement(By.cssSelector(".tally")).getText()).isEqualTo(tally.get("yes").asInt()
                            + " / " + tally.get("no").asInt() + " / " + tally.get("abstain").asInt());
                    assertThat(p.findElement(By.cssSelector(".turnout")).getText()).isEqualTo(
                            (tally.get("yes").asInt() + tally.get("no").asInt() + tally.get("abstain").asInt())
                                    + " of " + tally.get("eligible").asInt());
                    assertThat(p.findElement(By.cssSelector(".rule")).getText()).isEqualTo(proposal.get("rule").asText())
                            .startsWith("quorum");
                    assertThat(p.findElement(By.cssSelector(".time-left")).getText()).matches("\\d+m \\d+s|1h 0m");

                    JsonNode ledger = api(url, "api/v1/ledger");
                    assertThat(browser.findElement(By.id("ledger-status")).getAttribute("data-ok")).isEqualTo("true");
                    assertThat(ledger.get("verification").get("ok").asBoolean()).isTrue();
                    assertThat(text(browser, "ledger-size")).isEqualTo(ledger.get("size").asText());
                });

                // The verdict a member reads on the page is the one `coop usage --json` gives: per stretch, and
                // per account with its gap; preemptions alike; each running job shows its attempt. The gaps shrink
                // as the two jobs run on (one started a moment before the other), so "kept" comes within a minute.
                await().atMost(Duration.ofSeconds(60)).ignoreExceptionsInstanceOf(WebDriverException.class)
                        .untilAsserted(() -> {
                    var run = coop.run("usage", "--json", "--scheduler", target, "--identity", alice);
                    assertThat(run.exitCode()).as(run.stderr()).isZero();
                    JsonNode usage = JSON.readTree(run.stdout());
                    assertThat(usage.get("verdicts")).hasSize(3);
                    assertThat(browser.findElement(By.id("verdict-rule")).getText())
                            .isEqualTo(usage.get("verdict_rule").asText()).contains("5 pp");
                    for (JsonNode v : usage.get("verdicts")) {
                        WebElement row = browser.findElement(By.cssSelector("#verdicts tr[data-stretch='"
                                + v.get("stretch").asText() + "']"));
                        assertThat(row.findElement(By.cssSelector(".verdict")).getText())
                                .isEqualTo(v.get("verdict").asText());
                        assertThat(Double.parseDouble(row.findElement(By.cssSelector(".worst-gap"))
                                .getAttribute("data-value"))).isCloseTo(v.get("worst_gap_pp").asDouble(),
                                org.assertj.core.data.Offset.offset(2.0));
                    }
                    for (JsonNode a : usage.get("accounts")) {
                        String account = a.get("account").asText();
                        assertThat(a.get("windows")).hasSize(3);
                        for (JsonNode w : a.get("windows")) {
                            WebElement row = browser.findElement(By.cssSelector("#judgement tr[data-account='"
                                    + account + "'][data-stretch='" + w.get("stretch").asText() + "']"));
                            assertThat(row.findElement(By.cssSelector(".verdict")).getText())
                                    .as(account + " " + w.get("stretch").asText())
                                    .isEqualTo(w.get("verdict").asText());
                            assertThat(Double.parseDouble(row.findElement(By.cssSelector(".gap"))
                                    .getAttribute("data-value"))).isCloseTo(w.get("gap_pp").asDouble(),
                                    org.assertj.core.data.Offset.offset(2.0));
                            assertThat(row.findElement(By.cssSelector(".voted")).getText()).isEqualTo(
                                    String.format(java.util.Locale.ROOT, "%.1f%%", w.get("voted_percent").asDouble()));
                            assertThat(row.findElement(By.cssSelector(".waited")).getText())
                                    .isEqualTo(w.get("waited").asBoolean() ? "yes" : "no");
                        }
                        WebElement row = browser.findElement(By.cssSelector("#accounts tr[data-account='"
                                + account + "']"));
                        assertThat(row.findElement(By.cssSelector(".preemptions")).getText())
                                .isEqualTo(a.get("preemptions").asText());
                        assertThat(row.findElement(By.cssSelector(".max-job-preemptions")).getText())
                                .isEqualTo(a.get("max_job_preemptions").asText());
                    }
                    // Both accounts run one job each at half the GPUs in use under 50/50 shares: kept.
                    assertThat(usage.get("verdicts").get(0).get("verdict").asText()).isEqualTo("kept");
                    for (JsonNode j : api(url, "api/v1/jobs?state=running").get("jobs")) {
                        WebElement row = browser.findElement(By.cssSelector("#running tr[data-job-id='"
                                + j.get("id").asLong() + "']"));
                        assertThat(row.findElement(By.cssSelector(".attempt")).getAttribute("data-value"))
                                .isEqualTo(Integer.toString(j.get("attempts").size()));
                    }
                    // A busy GPU is not drawn in the colour of an error.
                    WebElement busyGpu = browser.findElement(By.cssSelector(".gpu.busy"));
                    assertThat(busyGpu.getCssValue("background-color")).isNotEqualTo("rgba(217, 83, 79, 1)")
                            .isNotEqualTo("rgba(179, 38, 30, 1)");
                });

                byte[] png = ((org.openqa.selenium.TakesScreenshot) browser).getScreenshotAs(OutputType.BYTES);
                Path shot = Path.of(CoopProcesses.jar()).resolveSibling("dashboard.png");
                Files.write(shot, png);
                assertThat(png.length).isGreaterThan(10_000);
            } finally {
                browser.quit();
            }
            Files.createFile(release);
        }
    }

    private WebDriver browser() throws java.io.IOException {
        ChromeDriverService service = new ChromeDriverService.Builder().usingDriverExecutable(CHROMEDRIVER.toFile())
                .usingAnyFreePort().withLogFile(dir.resolve("chromedriver.log").toFile()).build();
        ChromeOptions options = new ChromeOptions();
        options.setBinary(CHROMIUM.toFile());
        options.addArguments("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                "--disable-background-networking", "--disable-component-update", "--disable-sync",
                "--disable-dev-shm-usage", "--window-size=1400,2200",
                "--user-data-dir=" + Files.createTempDirectory(dir, "chromium-profile"));
        return new ChromeDriver(service, options);
    }

    private static String text(WebDriver browser, String id) {
        return browser.findElement(By.id(id)).getText();
    }

    /** The points of an SVG path drawn as {@code M x,y L x,y ...}. */
    private static int points(String d) {
        if (d == null) {
            return 0;
        }
        Matcher m = Pattern.compile("[ML]-?[\\d.]+,-?[\\d.]+").matcher(d);
        int n = 0;
        while (m.find()) {
            n++;
        }
        return n;
    }

    private JsonNode api(String url, String path) throws Exception {
        HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(url + path)).timeout(Duration.ofSeconds(10))
                .GET().build(), HttpResponse.BodyHandlers.ofString());
        assertThat(r.statusCode()).as(path + ": " + r.body()).isEqualTo(200);
        return JSON.readTree(r.body());
    }

    /** The URL the scheduler printed when it started serving the dashboard. */
    private String dashboardUrl() throws Exception {
        Pattern printed = Pattern.compile("coop dashboard at (http://127\\.0\\.0\\.1:\\d+/)");
        String[] url = new String[1];
        await().atMost(Duration.ofSeconds(30)).until(() -> {
            try (Stream<Path> logs = Files.list(dir)) {
                for (Path log : logs.filter(p -> p.getFileName().toString().endsWith("-scheduler.log")).toList()) {
                    Matcher m = printed.matcher(Files.readString(log));
                    if (m.find()) {
                        url[0] = m.group(1);
                        return true;
                    }
                }
            }
            return false;
        });
        return url[0];
    }

    private static long submit(CoopProcesses coop, String target, String identity, String account, String gpus,
                               String name, String command) throws Exception {
        var s = coop.run("submit", "--scheduler", target, "--identity", identity, "--account", account, "--gpus", gpus,
                "--name", name, "--", command);
        assertThat(s.exitCode()).as(s.stderr()).isZero();
        return ClusterIT.jobId(s.stdout());
    }
}
