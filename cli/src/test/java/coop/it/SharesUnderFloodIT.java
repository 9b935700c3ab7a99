package coop.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import coop.cli.Client;
import coop.cli.Identity;
import coop.v1.GetJobRequest;
import coop.v1.GetPolicyRequest;
import coop.v1.Job;
import coop.v1.JobState;
import coop.v1.ListNodesRequest;
import coop.v1.SubmitRequest;
import coop.v1.UsageRequest;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A cooperative of three accounts on three agents of four simulated GPUs, two accounts flooding
 * it with single-GPU jobs (real processes, no walltime given, so each counts the default day),
 * and the third asking for gangs: a whole-cluster gang starts once the small jobs running at its
 * submission end, with a start estimate that never moves later; an account that submits only
 * two-node gangs gets its voted share, and no GPU idles for a gang that cannot start.
 */
class SharesUnderFloodIT {
    /** "reserved on n1,n2,n3 from 14:05 UTC, in 1 day": the reservation's promised start, as of the reading. */
    private static final Pattern PROMISE = Pattern.compile("reserved on \\S+ from \\d\\d:\\d\\d UTC, in \\d+ ");

    @TempDir
    Path dir;

    private record Cluster(String target, Path data) {
        String identity(String member) {
            return data.resolve("identities/" + member + ".json").toString();
        }
    }

    private Cluster start(CoopProcesses coop) throws Exception {
        Path data = dir.resolve("data");
        var init = coop.run("init", "--data", data.toString(), "--founders", "alice:lab-a,bob:lab-b,carol:lab-c",
                "--accounts", "lab-a,lab-b,lab-c");
        assertThat(init.exitCode()).as(init.stderr()).isZero();
        var scheduler = coop.scheduler(data);
        for (String n : List.of("n1", "n2", "n3")) {
            coop.agent(scheduler.target(), data.resolve("identities/alice.json"), "lab-a", n, "north",
                    "sim:4xA100-80GB", dir.resolve(n));
        }
        Cluster cluster = new Cluster(scheduler.target(), data);
        try (Client alice = client(cluster, "alice")) {
            await().atMost(Duration.ofSeconds(60)).until(() -> alice.nodes()
                    .listNodes(ListNodesRequest.getDefaultInstance()).getNodesList().stream()
                    .filter(n -> n.getState().equals("online")).count() == 3);
        }
        return cluster;
    }

    private static Client client(Cluster c, String member) throws Exception {
        return new Client(c.target(), Identity.read(Path.of(c.identity(member))));
    }

    private static void flood(Client client, String account, String indices, String command) {
        client.jobs().submit(SubmitRequest.newBuilder().setAccount(account).setGpusPerNode(1).setArray(indices)
                .setCommand(command).build());
    }

    private static Job job(Client c, long id) {
        return c.jobs().getJob(GetJobRequest.newBuilder().setJobId(id).build());
    }

    @Test
    void aWholeClusterGangStartsOnceTheSmallJobsRunningAtItsSubmissionEndAndItsEstimateNeverMovesLater()
            throws Exception {
        try (CoopProcesses coop = new CoopProcesses(dir)) {
            Cluster cluster = start(coop);
            try (Client alice = client(cluster, "alice"); Client bob = client(cluster, "bob");
                 Client carol = client(cluster, "carol")) {
                flood(bob, "lab-b", "0-399", "sleep 2");
                flood(carol, "lab-c", "0-399", "sleep 2");
                await().atMost(Duration.ofSeconds(60)).until(() -> alice.governance().usage(UsageRequest.getDefaultInstance())
                        .getGpusBusy() == 12);
                long submitted = System.currentTimeMillis();
                long gang = alice.jobs().submit(SubmitRequest.newBuilder().setAccount("lab-a").setGpusPerNode(4)
                        .setNodes(3).setCommand("sleep 3").build()).getJobId();

                List<Long> promises = new ArrayList<>();
                await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(300)).until(() -> {
                    Job j = job(alice, gang);
                    Matcher m = PROMISE.matcher(j.getWhyPending());
                    if (j.getState() == JobState.PENDING && m.find()) {
                        // The text says it; the time itself is expected_start_ms.
                        assertThat(j.getExpectedStartMs()).as(j.getWhyPending()).isPositive();
                        promises.add(j.getExpectedStartMs());
                    }
                    return j.getState() != JobState.PENDING;
                });
                long waited = job(alice, gang).getAttempts(0).getStartedAtMs() - submitted;
                System.out.printf("SharesUnderFloodIT: whole-cluster gang waited %d ms beside two floods "
                        + "(%d estimates read)%n", waited, promises.size());
                // The small jobs that ran at its submission last 2 s; nothing started after may
                // backfill, since by its default walltime it would end after the gang's start.
                // Before, the gang waited for both queues to empty (about 140 s here).
                assertThat(waited).as("gang wait, ms").isLessThan(15_000);
                for (int i = 1; i < promises.size(); i++) {
                    // Never a jump later: 2 s of slack for a cycle that sees the running walltimes anew.
                    assertThat(promises.get(i)).as("promised start %d after %s", i, promises)
                            .isLessThanOrEqualTo(promises.get(i - 1) + 2000);
                }
            }
        }
    }

    @Test
    void anAccountThatSubmitsOnlyTwoNodeGangsHoldsItsVotedShareBesideTwoFloods() throws Exception {
        try (CoopProcesses coop = new CoopProcesses(dir)) {
            Cluster cluster = start(coop);
            var propose = coop.run("propose", "shares", "lab-a=50", "lab-b=30", "lab-c=20",
                    "--scheduler", cluster.target(), "--identity", cluster.identity("alice"));
            assertThat(propose.exitCode()).as(propose.stderr()).isZero();
            for (String member : List.of("alice", "bob", "carol")) {
                var vote = coop.run("vote", "--scheduler", cluster.target(), "--identity", cluster.identity(member),
                        "1", "yes");
                assertThat(vote.exitCode()).as(vote.stderr()).isZero();
            }
            try (Client alice = client(cluster, "alice"); Client bob = client(cluster, "bob");
                 Client carol = client(cluster, "carol")) {
                await().atMost(Duration.ofSeconds(30)).until(() -> alice.governance()
                        .getPolicy(GetPolicyRequest.getDefaultInstance()).getVersion() == 2);
                alice.jobs().submit(SubmitRequest.newBuilder().setAccount("lab-a").setGpusPerNode(2).setNodes(2)
                        .setArray("0-99").setCommand("sleep 4").build());
                flood(bob, "lab-b", "0-999", "sleep 2");
                flood(carol, "lab-c", "0-999", "sleep 2");
                long from = System.currentTimeMillis();
                // Measured over the live policy's first 90 s, as coop usage reports it.
                await().atMost(Duration.ofSeconds(150)).pollInterval(Duration.ofSeconds(1)).until(() -> {
                    var u = alice.governance().usage(UsageRequest.getDefaultInstance());
                    return u.getWindowEndMs() - u.getWindowStartMs() >= 90_000;
                });

                var usage = coop.run("usage", "--json", "--scheduler", cluster.target(), "--identity",
                        cluster.identity("alice"));
                assertThat(usage.exitCode()).as(usage.stderr()).isZero();
                JsonNode report = new ObjectMapper().readTree(usage.stdout());
                Map<String, Double> achieved = new HashMap<>();
                double gpuSeconds = 0;
                for (JsonNode a : report.get("accounts")) {
                    achieved.put(a.get("account").asText(), a.get("achieved_percent").asDouble());
                    gpuSeconds += a.get("gpu_seconds").asDouble();
                }
                double windowS = (report.get("window_end_ms").asLong() - report.get("window_start_ms").asLong()) / 1000.0;
                double utilization = 100 * gpuSeconds / (12 * windowS);
                System.out.printf("SharesUnderFloodIT: voted 50/30/20, achieved %s over %.0f s (%.0f s of flood), "
                        + "utilization %.1f%%%n", achieved, windowS, (System.currentTimeMillis() - from) / 1000.0,
                        utilization);
                assertThat(achieved.get("lab-a")).as("lab-a's share: %s", achieved).isBetween(45.0, 55.0);
                assertThat(achieved.get("lab-b")).as("lab-b's share: %s", achieved).isBetween(25.0, 35.0);
                assertThat(achieved.get("lab-c")).as("lab-c's share: %s", achieved).isBetween(15.0, 25.0);
                // Before, two GPUs idled throughout for lab-a's second gang, which never started.
                assertThat(utilization).as("utilization, %%").isGreaterThan(85.0);
            }
        }
    }
}
