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
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A researcher's job through the real CLI and agents: {@code --chdir} and {@code --export} give it
 * its folder and variables and not the deny-listed ones; a folder missing on the node fails it
 * saying so; and with a shared {@code --checkpoint-root} a job whose node is lost resumes from its
 * checkpoint on another node of the site.
 */
class JobEnvironmentIT {
    private static final Duration SOON = Duration.ofSeconds(30);

    @TempDir
    Path dir;

    private String target;
    private Path alice;
    private final Map<String, Process> agents = new java.util.HashMap<>();

    private Client start(CoopProcesses coop, List<String> nodes, List<String> agentFlags) throws Exception {
        Path data = dir.resolve("data");
        var init = coop.run("init", "--data", data.toString(), "--founders", "alice", "--accounts", "lab-a");
        assertThat(init.exitCode()).as(init.stderr()).isZero();
        target = coop.scheduler(data).target();
        alice = data.resolve("identities/alice.json");
        List<String> flags = new ArrayList<>(CoopProcesses.DEVELOPMENT);
        flags.addAll(agentFlags);
        for (String n : nodes) {
            agents.put(n, coop.agent(target, alice, "lab-a", n, "north", "sim:1xA100-80GB", dir.resolve(n), flags));
        }
        Client client = new Client(target, Identity.read(alice));
        await().atMost(SOON).until(() -> client.nodes().listNodes(ListNodesRequest.getDefaultInstance())
                .getNodesList().stream().filter(n -> n.getState().equals("online")).count() == nodes.size());
        return client;
    }

    private long submit(CoopProcesses coop, Map<String, String> env, String... args) throws Exception {
        List<String> all = new ArrayList<>(List.of("submit", "--scheduler", target, "--identity", alice.toString(),
                "--account", "lab-a", "--gpus", "1", "--json"));
        all.addAll(List.of(args));
        var r = coop.runWithEnv(env, all.toArray(String[]::new));
        assertThat(r.exitCode()).as(r.stderr()).isZero();
        return Long.parseLong(r.stdout().replaceAll("[^0-9]", ""));
    }

    private static Job job(Client client, long id) {
        return client.jobs().getJob(GetJobRequest.newBuilder().setJobId(id).build());
    }

    @Test
    void aJobSeesItsFolderAndExportedVariablesButNotTheDenyListedOnes() throws Exception {
        try (CoopProcesses coop = new CoopProcesses(dir)) {
            try (Client client = start(coop, List.of("n1"), List.of())) {
                Path project = Files.createDirectories(dir.resolve("shared/project"));
                Path out = dir.resolve("seen");
                long id = submit(coop, Map.of("LR", "3e-4", "GITHUB_TOKEN", "ghp_secret", "SSH_AUTH_SOCK", "/tmp/a"),
                        "--chdir", project.toString(), "--", "(pwd; echo LR=$LR; env) > " + out);
                await().atMost(SOON).until(() -> job(client, id).getState() == JobState.SUCCEEDED);
                List<String> seen = Files.readAllLines(out);
                assertThat(seen.get(0)).isEqualTo(project.toString());
                assertThat(seen).contains("LR=3e-4").noneMatch(l -> l.startsWith("GITHUB_TOKEN="))
                        .noneMatch(l -> l.startsWith("SSH_AUTH_SOCK=")).noneMatch(l -> l.startsWith("COOP_IDENTITY="));
                assertThat(job(client, id).getChdir()).isEqualTo(project.toString());

                long named = submit(coop, Map.of("LR", "1", "OTHER", "x"), "--export", "LR,EXTRA=yes", "--",
                        "env > " + dir.resolve("named"));
                await().atMost(SOON).until(() -> job(client, named).getState() == JobState.SUCCEEDED);
                assertThat(Files.readAllLines(dir.resolve("named"))).contains("LR=1", "EXTRA=yes")
                        .noneMatch(l -> l.startsWith("OTHER="));

                long missing = submit(coop, Map.of(), "--chdir", "/no/such/folder", "--", "true");
                await().atMost(SOON).until(() -> job(client, missing).getState() == JobState.FAILED);
                assertThat(job(client, missing).getAttempts(0).getOutcome())
                        .isEqualTo("working folder /no/such/folder does not exist on node n1");

                var relative = coop.run("submit", "--scheduler", target, "--identity", alice.toString(), "--account",
                        "lab-a", "--gpus", "1", "--chdir", "work", "--", "true");
                assertThat(relative.exitCode()).isNotZero();
                assertThat(relative.stderr()).contains("--chdir").contains("absolute");
            }
        }
    }

    @Test
    void aJobWhoseNodeIsLostResumesFromItsCheckpointOnAnotherNodeOfTheSite() throws Exception {
        Path root = Files.createDirectories(dir.resolve("site-checkpoints"));
        Path release = dir.resolve("release");
        try (CoopProcesses coop = new CoopProcesses(dir)) {
            try (Client client = start(coop, List.of("n1", "n2"), List.of("--checkpoint-root", root.toString()))) {
                long id = submit(coop, Map.of(), "--",
                        "if [ -f $COOP_CHECKPOINT_DIR/step ]; then echo resumed-from-$(cat $COOP_CHECKPOINT_DIR/step)"
                                + " > " + dir.resolve("result") + "; exit 0; fi; echo 100 > $COOP_CHECKPOINT_DIR/step; "
                                + "while [ -d " + dir + " ] && [ ! -f " + release + " ]; do sleep 0.05; done");
                await().atMost(SOON).until(() -> Files.exists(root.resolve(id + "/step")));
                Job running = job(client, id);
                assertThat(running.getAttempts(0).getCheckpointSite()).isEqualTo("north");
                String first = running.getAttempts(0).getPlacements(0).getNode();
                agents.get(first).destroyForcibly().waitFor();

                await().atMost(Duration.ofSeconds(60)).until(() -> job(client, id).getState() == JobState.SUCCEEDED);
                Job done = job(client, id);
                assertThat(done.getAttemptsCount()).isEqualTo(2);
                assertThat(done.getAttempts(1).getPlacements(0).getNode()).isNotEqualTo(first);
                assertThat(Files.readString(dir.resolve("result"))).isEqualTo("resumed-from-100\n");
            }
        } finally {
            // The first attempt's rank outlived its killed agent, as ranks do: released, it ends.
            Files.writeString(release, "");
        }
    }
}
