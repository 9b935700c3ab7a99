package coop.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import coop.cli.Client;
import coop.cli.Identity;
import coop.v1.Attempt;
import coop.v1.GetJobRequest;
import coop.v1.Job;
import coop.v1.JobState;
import coop.v1.ListNodesRequest;
import coop.v1.SubmitRequest;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Losing a node, for real: agents are processes, heartbeats come every second, and a node is
 * lost after three missed ones. A job whose agent is killed with kill -9 is requeued and
 * finishes on the other node within three heartbeats and one interval; an agent frozen with
 * SIGSTOP until it is declared lost comes back to find its attempt taken elsewhere, and that
 * stale attempt is stopped, so the job has exactly one successful attempt.
 */
class FailoverIT {
    private static final long HEARTBEAT_MS = 1000;

    @TempDir
    Path dir;

    private record Cluster(CoopProcesses coop, String target, Map<String, Process> agents, Client client) {
    }

    private Cluster start(CoopProcesses coop) throws Exception {
        Path data = dir.resolve("data");
        var init = coop.run("init", "--data", data.toString(), "--founders", "alice", "--accounts", "lab-a");
        assertThat(init.exitCode()).as(init.stderr()).isZero();
        var scheduler = coop.scheduler(data);
        Map<String, Process> agents = new java.util.TreeMap<>();
        for (String n : new String[] {"n1", "n2"}) {
            agents.put(n, coop.agent(scheduler.target(), data.resolve("identities/alice.json"), "lab-a", n, "north",
                    "sim:1xA100-80GB", dir.resolve(n)));
        }
        Client client = new Client(scheduler.target(), Identity.read(data.resolve("identities/alice.json")));
        await().atMost(Duration.ofSeconds(30)).until(() -> client.nodes().listNodes(ListNodesRequest.getDefaultInstance())
                .getNodesList().stream().filter(n -> n.getState().equals("online")).count() == 2);
        return new Cluster(coop, scheduler.target(), agents, client);
    }

    private static long submit(Client client, String command) {
        return client.jobs().submit(SubmitRequest.newBuilder().setAccount("lab-a").setGpusPerNode(1)
                .setCommand(command).build()).getJobId();
    }

    private static Job job(Client client, long id) {
        return client.jobs().getJob(GetJobRequest.newBuilder().setJobId(id).build());
    }

    private static String node(Attempt a) {
        return a.getPlacements(0).getNode();
    }

    @Test
    void aJobWhoseAgentIsKilledIsRequeuedWithinThreeHeartbeatsAndFinishesElsewhere() throws Exception {
        try (CoopProcesses coop = new CoopProcesses(dir)) {
            Cluster cluster = start(coop);
            try (Client client = cluster.client()) {
                long id = submit(client, "sleep 2; echo finished attempt $COOP_ATTEMPT");
                await().atMost(Duration.ofSeconds(30)).until(() -> job(client, id).getState() == JobState.RUNNING);
                String first = node(job(client, id).getAttempts(0));
                long killedAt = System.currentTimeMillis();
                cluster.agents().get(first).destroyForcibly().waitFor();
                await().atMost(Duration.ofSeconds(30)).until(() -> job(client, id).getAttemptsCount() == 2);
                Job requeued = job(client, id);
                Attempt second = requeued.getAttempts(1);
                assertThat(node(second)).isNotEqualTo(first);
                assertThat(requeued.getAttempts(0).getOutcome()).startsWith("requeued");
                long requeueMs = second.getStartedAtMs() - killedAt;
                assertThat(requeueMs).as("kill to requeue, ms").isLessThanOrEqualTo(3 * HEARTBEAT_MS + HEARTBEAT_MS);
                await().atMost(Duration.ofSeconds(30)).until(() -> job(client, id).getState() == JobState.SUCCEEDED);
                assertThat(job(client, id).getAttemptsCount()).isEqualTo(2);
            }
        }
    }

    @Test
    void aFrozenAgentThatReturnsFindsItsAttemptTakenElsewhereAndItIsStopped() throws Exception {
        try (CoopProcesses coop = new CoopProcesses(dir)) {
            Cluster cluster = start(coop);
            try (Client client = cluster.client()) {
                long id = submit(client, "sleep 8; echo finished attempt $COOP_ATTEMPT");
                await().atMost(Duration.ofSeconds(30)).until(() -> job(client, id).getState() == JobState.RUNNING);
                String first = node(job(client, id).getAttempts(0));
                Process frozen = cluster.agents().get(first);
                signal("STOP", frozen.pid());
                try {
                    await().atMost(Duration.ofSeconds(30)).until(() -> job(client, id).getAttemptsCount() == 2
                            && job(client, id).getState() == JobState.RUNNING);
                } finally {
                    signal("CONT", frozen.pid());
                }
                // The agent returns while attempt 1 still runs on it: the scheduler has it stopped.
                await().atMost(Duration.ofSeconds(30)).until(() -> client.nodes()
                        .listNodes(ListNodesRequest.getDefaultInstance()).getNodesList().stream()
                        .filter(n -> n.getState().equals("online")).count() == 2);
                await().atMost(Duration.ofSeconds(60)).until(() -> job(client, id).getState() == JobState.SUCCEEDED);
                Job done = job(client, id);
                assertThat(done.getAttemptsList()).filteredOn(a -> a.getExitCode() == 0 && a.getFinishedAtMs() > 0
                        && !a.getOutcome().startsWith("requeued")).hasSize(1);
                assertThat(node(done.getAttempts(1))).isNotEqualTo(first);
                Path staleOut = dir.resolve(first).resolve("jobs/" + id + ".1.0/stdout");
                // Attempt 1 would print after 8 s; stopped, it never does.
                await().during(Duration.ofSeconds(4)).atMost(Duration.ofSeconds(10))
                        .until(() -> !java.nio.file.Files.exists(staleOut)
                                || !java.nio.file.Files.readString(staleOut).contains("finished"));
            }
        }
    }

    private static void signal(String signal, long pid) throws Exception {
        Process kill = new ProcessBuilder("kill", "-" + signal, Long.toString(pid)).start();
        assertThat(kill.waitFor()).as("kill -%s %d", signal, pid).isZero();
    }
}
