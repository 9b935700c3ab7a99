package coop.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import coop.cli.Client;
import coop.cli.Identity;
import coop.v1.GetJobRequest;
import coop.v1.Job;
import coop.v1.JobState;
import coop.v1.ListNodesRequest;
import coop.v1.SubmitRequest;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code coop logs -f} against the real scheduler and agents as processes: output shows up
 * while the job still runs, each line once, and the command exits 0 when the job ends; a job
 * requeued after its node is killed is followed into its next attempt. Output lives in the
 * agent's work directory, so a restarted agent still serves a finished job's logs.
 */
class LogsFollowIT {
    private static final Duration SOON = Duration.ofSeconds(30);

    @TempDir
    Path dir;

    private record Cluster(String target, Path identity, Map<String, Process> agents, Client client) {
        String[] cli(String... args) {
            String[] all = new String[args.length + 4];
            System.arraycopy(args, 0, all, 0, args.length);
            System.arraycopy(new String[] {"--scheduler", target, "--identity", identity.toString()}, 0, all,
                    args.length, 4);
            return all;
        }
    }

    private Cluster start(CoopProcesses coop, String... nodes) throws Exception {
        Path data = dir.resolve("data");
        var init = coop.run("init", "--data", data.toString(), "--founders", "alice", "--accounts", "lab-a");
        assertThat(init.exitCode()).as(init.stderr()).isZero();
        var scheduler = coop.scheduler(data);
        Path alice = data.resolve("identities/alice.json");
        Map<String, Process> agents = new TreeMap<>();
        for (String n : nodes) {
            agents.put(n, coop.agent(scheduler.target(), alice, "lab-a", n, "north", "sim:1xA100-80GB",
                    dir.resolve(n)));
        }
        Client client = new Client(scheduler.target(), Identity.read(alice));
        await().atMost(SOON).until(() -> client.nodes().listNodes(ListNodesRequest.getDefaultInstance())
                .getNodesList().stream().filter(n -> n.getState().equals("online")).count() == nodes.length);
        return new Cluster(scheduler.target(), alice, agents, client);
    }

    private static long submit(Client client, String command) {
        return client.jobs().submit(SubmitRequest.newBuilder().setAccount("lab-a").setGpusPerNode(1)
                .setCommand(command).build()).getJobId();
    }

    private static Job job(Client client, long id) {
        return client.jobs().getJob(GetJobRequest.newBuilder().setJobId(id).build());
    }

    @Test
    void followPrintsOutputWhileTheJobRunsEachLineOnceAndTheLogsSurviveAnAgentRestart() throws Exception {
        try (CoopProcesses coop = new CoopProcesses(dir)) {
            Cluster cluster = start(coop, "n1");
            try (Client client = cluster.client()) {
                // Lines 1-3 come at once; 4 and 5 only after the test releases the job, so they can
                // only reach the follower by its polling, and the job is surely running until then.
                Path release = dir.resolve("release");
                long id = submit(client, "for i in 1 2 3; do echo line-$i; sleep 0.2; done; "
                        + "while [ ! -f " + release + " ]; do sleep 0.05; done; "
                        + "for i in 4 5; do echo line-$i; sleep 1; done");
                var follow = coop.watch(cluster.cli("logs", Long.toString(id), "-f"));

                await().atMost(SOON).until(() -> follow.stdout().contains("line-1"));
                assertThat(job(client, id).getState()).isEqualTo(JobState.RUNNING);
                assertThat(follow.process().isAlive()).as("follow still waits for the running job").isTrue();
                await().atMost(SOON).until(() -> follow.stdout().contains("line-3"));
                assertThat(follow.stdout()).doesNotContain("line-4");

                Files.createFile(release);
                await().atMost(SOON).until(() -> follow.stdout().contains("line-4"));
                await().atMost(SOON).until(() -> !follow.process().isAlive());
                assertThat(follow.process().exitValue()).as(follow.stderr()).isZero();
                assertThat(job(client, id).getState()).as("follow ends only once the job has")
                        .isEqualTo(JobState.SUCCEEDED);
                assertThat(follow.stdout()).isEqualTo("line-1\nline-2\nline-3\nline-4\nline-5\n");
                assertThat(follow.stderr()).doesNotContain("error");

                // Logs survive agent restarts: kill -9 the agent, start it again on the same work
                // directory, and the finished job's output is still there.
                cluster.agents().get("n1").destroyForcibly().waitFor();
                coop.restartAgent(cluster.target(), "n1", "sim:1xA100-80GB", dir.resolve("n1"));
                // Until the new agent's session replaces the dead one, a read may time out: ask again.
                await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofSeconds(1)).until(() -> {
                    var logs = coop.run(cluster.cli("logs", Long.toString(id)));
                    return logs.exitCode() == 0 && logs.stdout().equals("line-1\nline-2\nline-3\nline-4\nline-5\n");
                });
            }
        }
    }

    @Test
    void followMovesToTheNextAttemptWhenTheJobIsRequeued() throws Exception {
        try (CoopProcesses coop = new CoopProcesses(dir)) {
            Cluster cluster = start(coop, "n1", "n2");
            try (Client client = cluster.client()) {
                Path release = dir.resolve("release");
                long id = submit(client, "echo start-$COOP_ATTEMPT; "
                        + "while [ ! -f " + release + " ]; do sleep 0.05; done; echo end-$COOP_ATTEMPT");
                var follow = coop.watch(cluster.cli("logs", Long.toString(id), "--follow"));
                await().atMost(SOON).until(() -> follow.stdout().contains("start-1"));
                String first = job(client, id).getAttempts(0).getPlacements(0).getNode();

                // The node is lost after three missed heartbeats and the job starts again elsewhere;
                // the follower, meanwhile, waits rather than fails.
                cluster.agents().get(first).destroyForcibly().waitFor();
                await().atMost(SOON).until(() -> follow.stdout().contains("start-2"));
                assertThat(follow.process().isAlive()).isTrue();
                assertThat(follow.stderr()).contains("==> attempt 2 <==");
                Files.createFile(release);

                await().atMost(SOON).until(() -> !follow.process().isAlive());
                assertThat(follow.process().exitValue()).as(follow.stderr()).isZero();
                assertThat(job(client, id).getState()).isEqualTo(JobState.SUCCEEDED);
                assertThat(follow.stdout()).isEqualTo("start-1\nstart-2\nend-2\n");
                assertThat(follow.stderr()).isEqualTo("==> attempt 2 <==\n");
            }
        }
    }
}
