package coop.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import coop.cli.Client;
import coop.cli.Identity;
import coop.v1.GetJobRequest;
import coop.v1.Job;
import coop.v1.JobState;
import coop.v1.ListNodesRequest;
import coop.v1.NodeInfo;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * An operator's health check through the real scheduler, agent and CLI: a script that fails
 * while a file exists drains the node with its first line as the reason in {@code coop nodes},
 * a job submitted meanwhile waits and starts once the check passes again, and a passing check
 * never lifts a drain the operator made with {@code coop node drain}.
 */
class NodeHealthIT {

    private static final Duration SOON = Duration.ofSeconds(30);

    @TempDir
    Path dir;

    @Test
    void aFailingCheckDrainsTheNodeAPassingOneLiftsItButNeverTheOperatorsDrain() throws Exception {
        try (CoopProcesses coop = new CoopProcesses(dir)) {
            Path data = dir.resolve("data");
            var init = coop.run("init", "--data", data.toString(), "--founders", "alice", "--accounts", "lab-a");
            assertThat(init.exitCode()).as(init.stderr()).isZero();
            var scheduler = coop.scheduler(data);
            String alice = data.resolve("identities/alice.json").toString();
            Path identity = dir.resolve("n1.node.json");
            var enrolled = coop.run("node", "enroll", "--scheduler", scheduler.target(), "--identity", alice,
                    "--name", "n1", "--site", "north", "--account", "lab-a", "--out", identity.toString());
            assertThat(enrolled.exitCode()).as(enrolled.stderr()).isZero();

            // The check fails, printing the file's first line, while the file exists.
            Path sick = dir.resolve("sick");
            String check = "if [ -e " + sick + " ]; then echo \"GPU 0: $(head -n 1 " + sick + ")\"; echo detail;"
                    + " exit 1; fi";
            Path map = dir.resolve("dcgm-job-map");
            coop.start("agent", "--identity", identity.toString(), "--scheduler", scheduler.target(), "--gpus",
                    "sim:1xA100-80GB", "--work-dir", dir.resolve("n1").toString(), "--health-check", check,
                    "--health-every", "1s", "--gpu-job-map", map.toString(), "--isolation", "none",
                    "--allow-root-jobs");
            // Waits poll through a client in this JVM; what an operator reads is checked with the CLI.
            try (Client client = new Client(scheduler.target(), Identity.read(Path.of(alice)))) {
                await().atMost(SOON).until(() -> n1(client).getState().equals("online"));
                assertThat(nodes(coop, scheduler, alice)).doesNotContain("draining").doesNotContain("REASON");

                Files.writeString(sick, "3 uncorrectable ECC errors\n");
                await().atMost(SOON).until(() -> n1(client).getDraining());
                assertThat(nodes(coop, scheduler, alice)).contains("online,draining").contains("REASON")
                        .contains("health check: GPU 0: 3 uncorrectable ECC errors");
                var status = coop.run("node", "status", "n1", "--scheduler", scheduler.target(), "--identity", alice);
                assertThat(status.stdout()).contains("draining (health check: GPU 0: 3 uncorrectable ECC errors)");

                Path release = dir.resolve("release");
                var submit = coop.run("submit", "--scheduler", scheduler.target(), "--identity", alice, "--account",
                        "lab-a", "--gpus", "1", "--", "while [ ! -f " + release + " ]; do sleep 0.05; done");
                assertThat(submit.exitCode()).as(submit.stderr()).isZero();
                String id = jobId(submit.stdout());
                String waiting = job(coop, scheduler, alice, id);
                assertThat(waiting).containsPattern("state: +pending").contains("draining");

                Files.delete(sick);
                await().atMost(SOON).until(() -> !n1(client).getDraining());
                await().atMost(SOON).until(() -> job(client, id).getState() == JobState.RUNNING);
                // While its rank runs, dcgm-exporter reads the job's id from the file of its GPU.
                await().atMost(SOON).until(() -> Files.exists(map.resolve("0")));
                assertThat(Files.readString(map.resolve("0"))).isEqualTo(id + "\n");
                Files.writeString(release, "");
                await().atMost(SOON).until(() -> job(client, id).getState() == JobState.SUCCEEDED);
                assertThat(map.resolve("0")).doesNotExist();

                // The operator drains the node; the check fails and passes again: the operator's drain stays.
                var drain = coop.run("node", "drain", "n1", "--reason", "disk swap", "--scheduler", scheduler.target(),
                        "--identity", alice);
                assertThat(drain.exitCode()).as(drain.stderr()).isZero();
                Files.writeString(sick, "fell off the bus\n");
                await().atMost(SOON).until(() -> !n1(client).getHealthDrain().isEmpty());
                assertThat(nodes(coop, scheduler, alice)).contains("disk swap; health check: GPU 0: fell off the bus");
                Files.delete(sick);
                await().atMost(SOON).until(() -> n1(client).getHealthDrain().isEmpty());
                assertThat(nodes(coop, scheduler, alice)).contains("online,draining").contains("disk swap");
                var after = coop.run("node", "status", "n1", "--scheduler", scheduler.target(), "--identity", alice);
                assertThat(after.stdout()).contains("draining (disk swap)");
            }
        }
    }

    private static NodeInfo n1(Client client) {
        return client.nodes().listNodes(ListNodesRequest.getDefaultInstance()).getNodesList().stream()
                .filter(n -> n.getName().equals("n1")).findFirst().orElseThrow();
    }

    private static Job job(Client client, String id) {
        return client.jobs().getJob(GetJobRequest.newBuilder().setJobId(Long.parseLong(id)).build());
    }

    private static String nodes(CoopProcesses coop, CoopProcesses.Scheduler scheduler, String identity)
            throws Exception {
        var nodes = coop.run("nodes", "--scheduler", scheduler.target(), "--identity", identity);
        assertThat(nodes.exitCode()).as(nodes.stderr()).isZero();
        return nodes.stdout();
    }

    private static String job(CoopProcesses coop, CoopProcesses.Scheduler scheduler, String identity, String id)
            throws Exception {
        var job = coop.run("job", id, "--scheduler", scheduler.target(), "--identity", identity);
        assertThat(job.exitCode()).as(job.stderr()).isZero();
        return job.stdout();
    }

    private static String jobId(String submitOutput) {
        Matcher m = Pattern.compile("submitted job (\\d+)").matcher(submitOutput);
        assertThat(m.find()).as(submitOutput).isTrue();
        return m.group(1);
    }
}
