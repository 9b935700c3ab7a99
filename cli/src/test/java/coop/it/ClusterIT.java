package coop.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import coop.cli.Client;
import coop.cli.Identity;
import coop.v1.GetJobRequest;
import coop.v1.Job;
import coop.v1.JobState;
import coop.v1.ListNodesRequest;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The real scheduler and two real agents as processes on 127.0.0.1: jobs submitted with the
 * CLI run as processes on the agents, are seen RUNNING then SUCCEEDED, and their output comes
 * back through {@code coop logs}.
 */
class ClusterIT {
    @TempDir
    Path dir;

    @Test
    void jobsRunOnRealAgentsAndTheirOutputComesBack() throws Exception {
        try (CoopProcesses coop = new CoopProcesses(dir)) {
            Path data = dir.resolve("data");
            var init = coop.run("init", "--data", data.toString(), "--founders", "alice:lab-a,bob:lab-b",
                    "--accounts", "lab-a,lab-b");
            assertThat(init.exitCode()).as(init.stderr()).isZero();
            var scheduler = coop.scheduler(data);
            Path alice = data.resolve("identities/alice.json");
            coop.agent(scheduler.target(), alice, "lab-a", "n1", "north", "sim:2xA100-80GB", dir.resolve("n1"));
            coop.agent(scheduler.target(), alice, "lab-a", "n2", "north", "sim:2xA100-80GB", dir.resolve("n2"));
            // The first job runs until the test has seen it running and creates this file.
            Path release = dir.resolve("release");
            try (Client client = new Client(scheduler.target(), Identity.read(alice))) {
                await().atMost(Duration.ofSeconds(30)).until(() -> client.nodes()
                        .listNodes(ListNodesRequest.getDefaultInstance()).getNodesList().stream()
                        .filter(n -> n.getState().equals("online")).count() == 2);

                var single = coop.run("submit", "--scheduler", scheduler.target(), "--identity", alice.toString(),
                        "--account", "lab-a", "--gpus", "1", "--",
                        "echo hello from $COOP_JOB_ID on GPUs $CUDA_VISIBLE_DEVICES; "
                                + "while [ ! -f " + release + " ]; do sleep 0.05; done; echo released");
                assertThat(single.exitCode()).as(single.stderr()).isZero();
                long id = jobId(single.stdout());
                var gang = coop.run("submit", "--scheduler", scheduler.target(), "--identity", alice.toString(),
                        "--account", "lab-a", "--gpus", "2", "--nodes", "2", "--",
                        "echo rank $NODE_RANK of $NNODES on GPUs $CUDA_VISIBLE_DEVICES; "
                                + "echo rendezvous $MASTER_ADDR:$MASTER_PORT world $WORLD_SIZE; "
                                + "test -d $COOP_CHECKPOINT_DIR && echo checkpoints ok");
                long gangId = jobId(gang.stdout());

                await().atMost(Duration.ofSeconds(30)).until(() -> state(client, id) == JobState.RUNNING);
                var running = coop.run("logs", "--scheduler", scheduler.target(), "--identity", alice.toString(),
                        Long.toString(id));
                assertThat(running.stdout()).contains("hello from " + id).doesNotContain("released");
                Files.createFile(release);
                await().atMost(Duration.ofSeconds(30)).until(() -> state(client, id) == JobState.SUCCEEDED);
                await().atMost(Duration.ofSeconds(30)).until(() -> state(client, gangId) == JobState.SUCCEEDED);
                Job gangJob = client.jobs().getJob(GetJobRequest.newBuilder().setJobId(gangId).build());
                assertThat(gangJob.getAttempts(0).getPlacementsList()).extracting(p -> p.getNode())
                        .containsExactlyInAnyOrder("n1", "n2");

                var logs = coop.run("logs", "--scheduler", scheduler.target(), "--identity", alice.toString(),
                        Long.toString(id));
                assertThat(logs.exitCode()).as(logs.stderr()).isZero();
                assertThat(logs.stdout()).contains("hello from " + id + " on GPUs 0").contains("released");
                var gangLogs = coop.run("logs", "--scheduler", scheduler.target(), "--identity", alice.toString(),
                        Long.toString(gangId));
                assertThat(gangLogs.stdout()).contains("rank 0 of 2 on GPUs 0,1").contains("rank 1 of 2 on GPUs 0,1");
                // Both ranks meet at rank 0's node, seen by the scheduler at 127.0.0.1.
                java.util.regex.Matcher m = Pattern.compile("rendezvous (\\S+) world 4").matcher(gangLogs.stdout());
                assertThat(m.find()).as(gangLogs.stdout()).isTrue();
                String rendezvous = m.group(1);
                assertThat(rendezvous).startsWith("127.0.0.1:");
                assertThat(m.find()).isTrue();
                assertThat(m.group(1)).isEqualTo(rendezvous);
                assertThat(gangLogs.stdout()).contains("checkpoints ok");

                var jobs = coop.run("jobs", "--all", "--scheduler", scheduler.target(), "--identity", alice.toString(),
                        "--json");
                assertThat(jobs.exitCode()).isZero();
                assertThat(jobs.stdout()).contains("\"SUCCEEDED\"");

                // A job's command and output are its account's: bob, of lab-b, sees lab-a's job but not its
                // command, and may not read its output (n1 and n2 are lab-a's, so bob operates neither).
                Path bob = data.resolve("identities/bob.json");
                for (String[] logsOfAlices : List.of(new String[] {Long.toString(id)},
                        new String[] {Long.toString(id), "-f"})) {
                    var refused = coop.run(Stream.concat(Stream.of("logs", "--scheduler", scheduler.target(),
                            "--identity", bob.toString()), Stream.of(logsOfAlices)).toArray(String[]::new));
                    assertThat(refused.exitCode()).as(refused.stderr()).isEqualTo(1);
                    assertThat(refused.stdout()).isEmpty();
                    assertThat(refused.stderr()).startsWith("error: member bob may not read the output of job " + id
                            + " of account lab-a: a job's command and output may be read only by the members of its "
                            + "account");
                }
                var shown = coop.run("job", Long.toString(id), "--scheduler", scheduler.target(), "--identity",
                        alice.toString());
                assertThat(shown.stdout()).contains("echo hello from $COOP_JOB_ID");
                var withheld = coop.run("job", Long.toString(id), "--scheduler", scheduler.target(), "--identity",
                        bob.toString());
                assertThat(withheld.exitCode()).as(withheld.stderr()).isZero();
                assertThat(withheld.stdout()).contains("account:      lab-a", "state:        succeeded",
                        "rank 0 on n", "command:      (withheld: only members of lab-a").doesNotContain("echo");
                var withheldJson = new com.fasterxml.jackson.databind.ObjectMapper().readTree(coop.run("jobs",
                        "--all", "--scheduler", scheduler.target(), "--identity", bob.toString(), "--json").stdout());
                assertThat(withheldJson).hasSize(2).allSatisfy(j -> {
                    assertThat(j.get("command").asText()).isEmpty();
                    assertThat(j.get("command_withheld").asBoolean()).isTrue();
                });

                // The operator drains n2: new work goes to n1 only; another account's member may not touch it.
                var denied = coop.run("node", "drain", "n2", "--scheduler", scheduler.target(), "--identity",
                        bob.toString());
                assertThat(denied.exitCode()).isEqualTo(1);
                assertThat(denied.stderr()).contains("only an operator of account lab-a");
                var drain = coop.run("node", "drain", "n2", "--reason", "disk swap", "--scheduler",
                        scheduler.target(), "--identity", alice.toString());
                assertThat(drain.exitCode()).as(drain.stderr()).isZero();
                var status = coop.run("node", "status", "n2", "--scheduler", scheduler.target(), "--identity",
                        bob.toString());
                assertThat(status.stdout()).contains("draining (disk swap)").contains("enrolled for lab-a");
                for (int i = 0; i < 2; i++) {
                    var s = coop.run("submit", "--scheduler", scheduler.target(), "--identity", alice.toString(),
                            "--account", "lab-a", "--gpus", "1", "--", "true");
                    long drained = jobId(s.stdout());
                    await().atMost(Duration.ofSeconds(30)).until(() -> state(client, drained) == JobState.SUCCEEDED);
                    assertThat(client.jobs().getJob(GetJobRequest.newBuilder().setJobId(drained).build())
                            .getAttempts(0).getPlacements(0).getNode()).isEqualTo("n1");
                }

                // n1's operator offers it only on another weekday: the next job waits until it is offered always.
                String otherDay = java.time.LocalDate.now(java.time.ZoneOffset.UTC).plusDays(3).getDayOfWeek()
                        .getDisplayName(java.time.format.TextStyle.SHORT, java.util.Locale.ROOT);
                var window = coop.run("node", "set", "n1", "--window", otherDay, "--tz", "UTC", "--scheduler",
                        scheduler.target(), "--identity", alice.toString());
                assertThat(window.exitCode()).as(window.stderr()).isZero();
                assertThat(window.stdout()).contains("offered " + otherDay + " (UTC), now closed, opens");
                var waits = coop.run("submit", "--scheduler", scheduler.target(), "--identity", alice.toString(),
                        "--account", "lab-a", "--gpus", "1", "--", "true");
                long waiting = jobId(waits.stdout());
                await().during(Duration.ofSeconds(1)).atMost(Duration.ofSeconds(5))
                        .until(() -> state(client, waiting) == JobState.PENDING);

                // As squeue --me: coop jobs lists only the caller's jobs still to finish; bob's waiting job and
                // alice's finished ones are left out until --all asks for everything.
                var bobs = coop.run("submit", "--scheduler", scheduler.target(), "--identity", bob.toString(),
                        "--account", "lab-b", "--gpus", "1", "--", "true");
                long bobsJob = jobId(bobs.stdout());
                var mine = coop.run("jobs", "--scheduler", scheduler.target(), "--identity", alice.toString());
                assertThat(mine.exitCode()).as(mine.stderr()).isZero();
                assertThat(mine.stdout().lines().skip(1).toList()).as(mine.stdout()).singleElement()
                        .satisfies(line -> assertThat(line).matches(waiting + "\\s+-\\s+lab-a\\s+alice\\s+pending\\s.*"));
                var everyone = coop.run("jobs", "--all", "--scheduler", scheduler.target(), "--identity",
                        alice.toString());
                assertThat(everyone.stdout()).containsPattern("(?m)^" + bobsJob + "\\s+-\\s+lab-b\\s+bob\\s+pending")
                        .containsPattern("(?m)^" + id + "\\s.*succeeded");
                var lab = coop.run("jobs", "--account", "lab-b", "--scheduler", scheduler.target(), "--identity",
                        alice.toString());
                assertThat(lab.stdout().lines().skip(1).toList()).singleElement()
                        .satisfies(line -> assertThat(line).startsWith(bobsJob + " "));
                // As sacct: coop history lists the caller's finished jobs, with the GPU time each used.
                var history = coop.run("history", "--format", "id,state,gpus,nodes,gpu_hours", "--scheduler",
                        scheduler.target(), "--identity", alice.toString());
                assertThat(history.exitCode()).as(history.stderr()).isZero();
                assertThat(history.stdout()).containsPattern("(?m)^" + gangId + "\\s+succeeded\\s+4\\s+2\\s+\\d+\\.\\d\\d$")
                        .containsPattern("(?m)^" + id + "\\s+succeeded\\s+1\\s+1\\s")
                        .doesNotContainPattern("(?m)^" + waiting + "\\s");
                var historyJson = new com.fasterxml.jackson.databind.ObjectMapper().readTree(coop.run("history",
                        "--json", "--scheduler", scheduler.target(), "--identity", alice.toString()).stdout());
                assertThat(historyJson).hasSize(4).allSatisfy(j -> {
                    assertThat(j.get("member").asText()).isEqualTo("alice");
                    assertThat(j.get("gpu_hours").asDouble()).isPositive();
                });
                var always = coop.run("node", "set", "n1", "--always", "--reserve", "1", "--scheduler",
                        scheduler.target(), "--identity", alice.toString());
                assertThat(always.stdout()).contains("1 GPU(s) reserved for lab-a; offered always");
                await().atMost(Duration.ofSeconds(30)).until(() -> state(client, waiting) == JobState.SUCCEEDED);
            }
        }
    }

    private static JobState state(Client client, long id) {
        return client.jobs().getJob(GetJobRequest.newBuilder().setJobId(id).build()).getState();
    }

    static long jobId(String submitOutput) {
        Matcher m = Pattern.compile("submitted job (\\d+)").matcher(submitOutput);
        assertThat(m.find()).as("submit output: %s", submitOutput).isTrue();
        return Long.parseLong(m.group(1));
    }
}
