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
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Job dependencies on the real scheduler and a real agent, as processes on 127.0.0.1: a chain of
 * three afterok jobs runs one after the other although the node has room for all three at once,
 * and a failed parent cancels its afterok child, and that child's child, with the reason.
 */
class DependencyIT {
    @TempDir
    Path dir;

    @Test
    void aChainRunsInOrderAndAFailedParentCancelsItsChildren() throws Exception {
        try (CoopProcesses coop = new CoopProcesses(dir)) {
            Path data = dir.resolve("data");
            var init = coop.run("init", "--data", data.toString(), "--founders", "alice:lab-a", "--accounts", "lab-a");
            assertThat(init.exitCode()).as(init.stderr()).isZero();
            var scheduler = coop.scheduler(data);
            Path alice = data.resolve("identities/alice.json");
            coop.agent(scheduler.target(), alice, "lab-a", "n1", "north", "sim:4xA100-80GB", dir.resolve("n1"));
            Path log = dir.resolve("order.log");
            Path go = dir.resolve("go");
            try (Client client = new Client(scheduler.target(), Identity.read(alice))) {
                await().atMost(Duration.ofSeconds(30)).until(() -> client.nodes()
                        .listNodes(ListNodesRequest.getDefaultInstance()).getNodesList().stream()
                        .anyMatch(n -> n.getState().equals("online")));

                // Each appends when it starts and when it ends: jobs that overlapped would interleave.
                long a = submit(client, "a", "echo a-start >> " + log + "; while [ ! -f " + go
                        + " ]; do sleep 0.05; done; echo a-end >> " + log, "");
                long b = submit(client, "b", step(log, "b"), "afterok:" + a);
                long c = submit(client, "c", step(log, "c"), "afterok:" + b);
                await().atMost(Duration.ofSeconds(30)).until(() -> job(client, a).getState() == JobState.RUNNING);
                assertThat(job(client, b).getState()).isEqualTo(JobState.PENDING);
                assertThat(job(client, b).getWhyPending()).isEqualTo("DEPENDENCY: waits for job " + a + " to succeed");
                assertThat(job(client, c).getDependency()).isEqualTo("afterok:" + b);
                var shown = coop.run("job", "--scheduler", scheduler.target(), "--identity", alice.toString(),
                        Long.toString(c));
                assertThat(shown.stdout()).as(shown.stderr()).contains("dependency:   afterok:" + b)
                        .contains("why pending:  DEPENDENCY: waits for job " + b + " to succeed");
                Files.createFile(go);
                await().atMost(Duration.ofSeconds(60)).until(() -> job(client, c).getState() == JobState.SUCCEEDED);
                assertThat(Files.readAllLines(log)).containsExactly("a-start", "a-end", "b-start", "b-end",
                        "c-start", "c-end");

                long failed = submit(client, "f", "exit 3", "");
                long child = submit(client, "g", "echo child-ran >> " + log, "afterok:" + failed);
                long grandchild = submit(client, "h", "echo grandchild-ran >> " + log, "afterok:" + child);
                await().atMost(Duration.ofSeconds(30)).until(() -> job(client, grandchild).getState()
                        == JobState.CANCELLED);
                assertThat(job(client, failed).getState()).isEqualTo(JobState.FAILED);
                assertThat(job(client, child).getState()).isEqualTo(JobState.CANCELLED);
                assertThat(job(client, child).getEndReason())
                        .isEqualTo("dependency never satisfied: job " + failed + " FAILED");
                assertThat(job(client, grandchild).getEndReason())
                        .isEqualTo("dependency never satisfied: job " + child + " CANCELLED");
                assertThat(Files.readAllLines(log)).hasSize(6);
            }
        }
    }

    private static String step(Path log, String name) {
        return "echo " + name + "-start >> " + log + "; sleep 0.3; echo " + name + "-end >> " + log;
    }

    private static long submit(Client client, String name, String command, String dependency) {
        return client.jobs().submit(SubmitRequest.newBuilder().setAccount("lab-a").setGpusPerNode(1).setName(name)
                .setCommand(command).setDependency(dependency).build()).getJobId();
    }

    private static Job job(Client client, long id) {
        return client.jobs().getJob(GetJobRequest.newBuilder().setJobId(id).build());
    }
}
