package coop.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code coop simulate} end to end on a small trace: the JSON report and refusals of bad shares. */
class SimulateCommandTest {
    @TempDir
    Path dir;

    private Path trace() throws Exception {
        // Two accounts, each with more work than the 8 GPUs can run at once.
        StringBuilder csv = new StringBuilder("submit_s,account,gpus,duration_s,gpu_model\n");
        for (int i = 0; i < 20; i++) {
            csv.append(i * 60).append(",a,").append(1 + i % 2).append(",3600,\n");
            csv.append(i * 60).append(",b,").append(i % 3 == 0 ? 8 : 2).append(",1800,\n");
        }
        Path p = dir.resolve("t.csv");
        Files.writeString(p, csv);
        return p;
    }

    @Test
    void reportsEveryPolicyAsOneJsonObject() throws Exception {
        CliRun run = CliRun.of("simulate", "--trace", trace().toString(), "--gpus", "8", "--shares", "a=75,b=25",
                "--json");
        assertThat(run.exitCode()).as(run.err()).isZero();
        JsonNode report = new ObjectMapper().readTree(run.out());
        for (String policy : new String[] {"coop", "fifo", "static"}) {
            JsonNode p = report.get("policies").get(policy);
            assertThat(p).as(policy).isNotNull();
            assertThat(p.get("utilization").asDouble()).isBetween(0.0, 1.0);
            double achieved = p.get("accounts").get("a").get("achieved").asDouble()
                    + p.get("accounts").get("b").get("achieved").asDouble();
            assertThat(achieved).isCloseTo(100.0, org.assertj.core.data.Offset.offset(0.5));
            assertThat(p.get("accounts").get("a").get("entitled").asDouble()).isEqualTo(75.0);
        }
        // With both accounts saturating, coop tracks the voted 75/25 far closer than FIFO's arrival order.
        double coopGap = report.get("policies").get("coop").get("worst_gap_pp").asDouble();
        double fifoGap = report.get("policies").get("fifo").get("worst_gap_pp").asDouble();
        assertThat(coopGap).isLessThan(fifoGap);
    }

    @Test
    void theReadmesExampleRunsAsWrittenOnTheSampleTraceInTheRepository() throws Exception {
        Path repository = Path.of(System.getProperty("basedir", ".")).toAbsolutePath().normalize().getParent();
        String example = ReadmeTest.commands(Files.readAllLines(repository.resolve("README.md")),
                        "For members").stream()
                .filter(c -> c.startsWith("./coop simulate ")).findFirst().orElseThrow();
        java.util.List<String> args = new java.util.ArrayList<>(java.util.List.of(example.split(" ")).subList(1,
                example.split(" ").length));
        int traceAt = args.indexOf("--trace") + 1;
        Path trace = repository.resolve(args.get(traceAt)).normalize();
        assertThat(trace).as(example).startsWith(repository).isRegularFile();
        args.set(traceAt, trace.toString());
        args.add("--json");

        CliRun run = CliRun.of(args.toArray(String[]::new));

        assertThat(run.exitCode()).as(run.err()).isZero();
        JsonNode report = new ObjectMapper().readTree(run.out());
        for (String policy : new String[] {"coop", "fifo", "static"}) {
            JsonNode accounts = report.get("policies").get(policy).get("accounts");
            assertThat(accounts.size()).as(policy).isEqualTo(3);
            double achieved = 0;
            for (JsonNode a : accounts) {
                achieved += a.get("achieved").asDouble();
            }
            assertThat(achieved).as(policy).isCloseTo(100.0, org.assertj.core.data.Offset.offset(0.5));
        }
        // The sample has what a trace needs to tell the policies apart: 1-GPU jobs and gangs of
        // up to 16 GPUs from accounts of unequal demand, more than the GPUs can run at once.
        java.util.List<String> rows = Files.readAllLines(trace);
        assertThat(rows.get(0)).isEqualTo("submit_s,account,gpus,duration_s,gpu_model");
        assertThat(rows).hasSize(301);
        assertThat(rows.stream().skip(1).map(r -> r.split(",")[2]).distinct()).contains("1", "8", "16");
    }

    @Test
    void refusesSharesThatDoNotSumToOneHundredNamingTheOption() throws Exception {
        CliRun run = CliRun.of("simulate", "--trace", trace().toString(), "--gpus", "8", "--shares", "a=70,b=20");
        assertThat(run.exitCode()).isNotZero();
        assertThat(run.err()).contains("--shares").contains("100");
    }

    @Test
    void replaysASyntheticTraceAndSavesIt() throws Exception {
        Path saved = dir.resolve("synthetic.csv");
        CliRun run = CliRun.of("simulate", "--synthetic", "5", "--synthetic-jobs", "150", "--gpus", "88",
                "--policies", "coop", "--save-trace", saved.toString(), "--json");
        assertThat(run.exitCode()).as(run.err()).isZero();
        assertThat(Files.readString(saved)).isEqualTo(coop.scheduler.sim.TraceWriter.toCsv(
                coop.scheduler.sim.SyntheticTrace.generate(5, 150)));
        JsonNode coop = new ObjectMapper().readTree(run.out()).get("policies").get("coop");
        int jobs = 0;
        for (JsonNode a : coop.get("accounts")) {
            jobs += a.get("jobs").asInt();
        }
        assertThat(jobs).isEqualTo(150);
    }

    @Test
    void refusesBothOrNeitherOfTraceAndSynthetic() throws Exception {
        CliRun both = CliRun.of("simulate", "--trace", trace().toString(), "--synthetic", "1", "--gpus", "88");
        assertThat(both.exitCode()).isNotZero();
        assertThat(both.err()).contains("--trace FILE or --synthetic SEED");
        CliRun neither = CliRun.of("simulate", "--gpus", "88");
        assertThat(neither.exitCode()).isNotZero();
        assertThat(neither.err()).contains("--trace FILE or --synthetic SEED");
    }
}
