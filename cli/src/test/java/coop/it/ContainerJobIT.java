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
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Container jobs through the real CLI, scheduler and agents, with the real podman and the local
 * image {@code contrib/podman/test-image.sh} builds (no registry is reachable): a job runs in its
 * image on the node whose operator enabled a runtime, reads the folder it mounted and sees only
 * its GPUs' variables; a job no node could ever run is refused at submit; one whose only node is
 * away waits saying what the others lack. Needs root and podman, as CI has ({@code .ci/run}).
 */
class ContainerJobIT {
    private static final Duration SOON = Duration.ofSeconds(60);
    private static final String IMAGE = "localhost/coop-bb:1";

    @TempDir
    Path dir;

    private String target;
    private Path alice;
    private Path data;

    @BeforeEach
    void needPodmanAndImage() throws Exception {
        boolean root = "root".equals(System.getProperty("user.name"));
        boolean podman = Files.isExecutable(Path.of("/usr/bin/podman"));
        boolean image = podman && new ProcessBuilder("/usr/bin/podman", "image", "exists", IMAGE).start().waitFor() == 0;
        CoopProcesses.require(root && podman && image, "root, podman and the image " + IMAGE
                + " (apt install podman busybox-static; contrib/podman/test-image.sh)");
        // Open to the job's user and to podman, as a site's data folder is.
        Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwxr-xr-x"));
        data = Files.createDirectories(dir.resolve("datasets/imagenet"));
        Files.writeString(data.resolve("labels.txt"), "tench\ngoldfish\n");
    }

    private Client start(CoopProcesses coop) throws Exception {
        Path store = dir.resolve("data");
        var init = coop.run("init", "--data", store.toString(), "--founders", "alice", "--accounts", "lab-a");
        assertThat(init.exitCode()).as(init.stderr()).isZero();
        target = coop.scheduler(store).target();
        alice = store.resolve("identities/alice.json");
        List<String> containers = new ArrayList<>(CoopProcesses.DEVELOPMENT);
        containers.addAll(List.of("--container-runtime", "podman", "--allow-mount", dir.resolve("datasets").toString(),
                "--container-pull", "never"));
        coop.agent(target, alice, "lab-a", "box", "north", "sim:2xA100-80GB", dir.resolve("box"), containers);
        coop.agent(target, alice, "lab-a", "bare", "north", "sim:4xA100-80GB", dir.resolve("bare"),
                CoopProcesses.DEVELOPMENT);
        Client client = new Client(target, Identity.read(alice));
        await().atMost(SOON).until(() -> client.nodes().listNodes(ListNodesRequest.getDefaultInstance())
                .getNodesList().stream().filter(n -> n.getState().equals("online")).count() == 2);
        return client;
    }

    private CoopProcesses.Result submit(CoopProcesses coop, String... args) throws Exception {
        List<String> all = new ArrayList<>(List.of("submit", "--scheduler", target, "--identity", alice.toString(),
                "--account", "lab-a", "--json"));
        all.addAll(List.of(args));
        return coop.run(all.toArray(String[]::new));
    }

    private static long id(CoopProcesses.Result r) {
        assertThat(r.exitCode()).as(r.stderr()).isZero();
        return Long.parseLong(r.stdout().replaceAll("[^0-9]", ""));
    }

    private static Job job(Client client, long id) {
        return client.jobs().getJob(GetJobRequest.newBuilder().setJobId(id).build());
    }

    @Test
    void aContainerJobRunsInItsImageOnTheNodeWithARuntimeAndReadsItsMount() throws Exception {
        try (CoopProcesses coop = new CoopProcesses(dir); Client client = start(coop)) {
            // "bare" has the more free GPUs, but only "box" runs containers.
            long id = id(submit(coop, "--gpus", "2", "--container", IMAGE, "--mount", data + ":/data:ro", "--",
                    "cat /data/labels.txt; echo gpus=$CUDA_VISIBLE_DEVICES path=$PATH; "
                            + "test -e /usr/share/java && echo host || echo image-only; touch /data/x || echo read-only"));
            await().atMost(SOON).until(() -> job(client, id).getState().getNumber() >= JobState.SUCCEEDED_VALUE);

            Job j = job(client, id);
            assertThat(j.getState()).as(j.toString()).isEqualTo(JobState.SUCCEEDED);
            assertThat(j.getAttempts(0).getPlacements(0).getNode()).isEqualTo("box");
            assertThat(j.getContainer()).isEqualTo(IMAGE);
            var logs = coop.run("logs", "--scheduler", target, "--identity", alice.toString(), Long.toString(id));
            assertThat(logs.stdout()).as(logs.stderr()).contains("tench\ngoldfish\n", "gpus=0,1 path=/bin",
                    "image-only", "read-only");
            var shown = coop.run("job", "--scheduler", target, "--identity", alice.toString(), Long.toString(id));
            assertThat(shown.stdout()).contains("container", IMAGE, data + ":/data:ro");
            var nodes = coop.run("nodes", "--scheduler", target, "--identity", alice.toString(), "--json");
            assertThat(nodes.stdout()).containsPattern("\"container_runtimes\" : \\[ \"podman\" \\]");
        }
    }

    @Test
    void aContainerJobNoNodeCouldRunIsRefusedAndOneWhoseNodeIsAwayWaitsSayingWhy() throws Exception {
        try (CoopProcesses coop = new CoopProcesses(dir); Client client = start(coop)) {
            var outside = submit(coop, "--gpus", "1", "--container", IMAGE, "--mount", "/etc:/host-etc:ro", "--", "true");
            assertThat(outside.exitCode()).isNotZero();
            assertThat(outside.stderr()).contains("mounts: no node that runs containers allows mounting /etc");
            var shell = submit(coop, "--gpus", "1", "--container", "busybox;rm -rf /", "--", "true");
            assertThat(shell.exitCode()).isNotZero();
            assertThat(shell.stderr()).contains("container:", "must be an image reference");
            var relative = submit(coop, "--gpus", "1", "--container", IMAGE, "--mount", "data:/data", "--", "true");
            assertThat(relative.exitCode()).isNotZero();
            assertThat(relative.stderr()).contains("--mount", "absolute");

            // Four GPUs in a container: only "box" runs containers, and it has two.
            long id = id(submit(coop, "--gpus", "4", "--container", IMAGE, "--", "true"));
            await().atMost(SOON).until(() -> job(client, id).getWhyPending().contains("without the container runtime"));
            assertThat(job(client, id).getWhyPending()).contains("that runs containers");
        }
    }
}
