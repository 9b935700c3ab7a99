package coop.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import coop.cli.Client;
import coop.cli.Identity;
import coop.v1.GetJobRequest;
import coop.v1.Job;
import coop.v1.JobState;
import coop.v1.ListJobsRequest;
import coop.v1.ListNodesRequest;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Code shipped with a job, through the real CLI and agent: {@code coop submit --workdir} packs a
 * folder holding a Python script, which runs on a node that never had it (the folder is gone from
 * disk by the time the rank starts), without what {@code .gitignore} and {@code .git/} leave out;
 * the same folder submitted again is stored once; and a folder over the policy's
 * {@code max_workdir_bytes} is refused at submit naming the field and the rule, nothing stored.
 */
class WorkdirIT {
    private static final Duration SOON = Duration.ofSeconds(60);

    @TempDir
    Path dir;

    private String target;
    private Path alice;

    private CoopProcesses.Result submit(CoopProcesses coop, String... args) throws Exception {
        List<String> all = new ArrayList<>(List.of("submit", "--scheduler", target, "--identity", alice.toString(),
                "--account", "lab-a", "--gpus", "1", "--json"));
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

    /** A project as a researcher has it: a script, data, a helper, what git ignores and git's own folder. */
    private Path project(String name) throws IOException {
        Path p = Files.createDirectories(dir.resolve(name));
        Files.writeString(p.resolve("train.py"), String.join("\n",
                "import os, pathlib",
                "here = pathlib.Path(__file__).resolve().parent",
                "print('shipped script ran from', here)",
                "print('COOP_WORKDIR', os.environ['COOP_WORKDIR'])",
                "print('lr', (here / 'conf' / 'lr.txt').read_text().strip())",
                "print('files', sorted(str(f.relative_to(here)) for f in here.rglob('*')"
                        + " if f.name not in ('stdout', 'stderr', 'coop-stop-reason')))",
                "print('helper executable', os.access(here / 'bin' / 'helper.sh', os.X_OK))",
                ""));
        Files.createDirectories(p.resolve("conf"));
        Files.writeString(p.resolve("conf/lr.txt"), "3e-4\n");
        Files.createDirectories(p.resolve("bin"));
        Files.writeString(p.resolve("bin/helper.sh"), "#!/bin/sh\necho help\n");
        Files.setPosixFilePermissions(p.resolve("bin/helper.sh"), PosixFilePermissions.fromString("rwxr-xr-x"));
        Files.writeString(p.resolve(".gitignore"), "# checkpoints stay home\n*.ckpt\n/scratch/\n");
        Files.writeString(p.resolve("model.ckpt"), "weights");
        Files.createDirectories(p.resolve("scratch"));
        Files.writeString(p.resolve("scratch/tmp.txt"), "scratch");
        Files.createDirectories(p.resolve(".git"));
        Files.writeString(p.resolve(".git/HEAD"), "ref: refs/heads/main\n");
        return p;
    }

    private static void delete(Path folder) throws IOException {
        try (Stream<Path> all = Files.walk(folder)) {
            for (Path p : all.sorted(Comparator.reverseOrder()).toList()) {
                Files.delete(p);
            }
        }
    }

    @Test
    void aShippedScriptRunsOnANodeThatNeverHadItAndTheSameFolderIsStoredOnce() throws Exception {
        try (CoopProcesses coop = new CoopProcesses(dir)) {
            Path data = dir.resolve("data");
            var init = coop.run("init", "--data", data.toString(), "--founders", "alice", "--accounts", "lab-a");
            assertThat(init.exitCode()).as(init.stderr()).isZero();
            target = coop.scheduler(data).target();
            alice = data.resolve("identities/alice.json");
            Path node = dir.resolve("n1");
            coop.agent(target, alice, "lab-a", "n1", "north", "sim:1xA100-80GB", node,
                    new ArrayList<>(CoopProcesses.DEVELOPMENT));
            try (Client client = new Client(target, Identity.read(alice))) {
                await().atMost(SOON).until(() -> client.nodes().listNodes(ListNodesRequest.getDefaultInstance())
                        .getNodesList().stream().anyMatch(n -> n.getState().equals("online")));

                Path project = project("project");
                // Held until the folder is gone, so the rank cannot start before it is.
                Path release = dir.resolve("release");
                var first = submit(coop, "--workdir", project.toString(), "--",
                        "while [ ! -f " + release + " ]; do sleep 0.05; done; python3 train.py");
                long id = id(first);
                assertThat(first.stderr()).contains("packed 4 files").contains("stored on the scheduler")
                        .doesNotContain("already");
                delete(project);
                Files.writeString(release, "");

                await().atMost(SOON).until(() -> List.of(JobState.SUCCEEDED, JobState.FAILED, JobState.CANCELLED)
                        .contains(job(client, id).getState()));
                Job done = job(client, id);
                var logs = coop.run("logs", "--scheduler", target, "--identity", alice.toString(), Long.toString(id));
                assertThat(done.getState()).as(logs.stdout() + logs.stderr() + done).isEqualTo(JobState.SUCCEEDED);
                Path rankFolder = node.resolve("jobs/" + id + ".1.0").toRealPath();
                assertThat(logs.stdout()).contains("shipped script ran from " + rankFolder)
                        .contains("COOP_WORKDIR " + rankFolder).contains("lr 3e-4")
                        .contains("files ['.gitignore', 'bin', 'bin/helper.sh', 'conf', 'conf/lr.txt', 'train.py']")
                        .contains("helper executable True");
                String digest = done.getWorkdir();
                assertThat(digest).matches("[0-9a-f]{64}");

                // The same folder made again is the same bytes: found stored, not sent, and kept once.
                Path again = project("again");
                var second = submit(coop, "--workdir", again.toString(), "--", "python3 train.py");
                long id2 = id(second);
                assertThat(second.stderr()).contains("already stored on the scheduler");
                assertThat(job(client, id2).getWorkdir()).isEqualTo(digest);
                await().atMost(SOON).until(() -> job(client, id2).getState() == JobState.SUCCEEDED);
                try (Stream<Path> cached = Files.list(node.resolve("workdirs"))) {
                    assertThat(cached.map(p -> p.getFileName().toString()).toList())
                            .containsExactly(digest + ".tar.gz");
                }

                var shown = coop.run("job", "--scheduler", target, "--identity", alice.toString(), Long.toString(id2));
                assertThat(shown.stdout()).contains("sha256 " + digest);

                // Over the cap: random bytes do not compress, so 65 MiB of them packs to more than 64 MiB.
                Path big = Files.createDirectories(dir.resolve("big"));
                Random random = new Random(26);
                byte[] block = new byte[1 << 20];
                try (OutputStream out = Files.newOutputStream(big.resolve("weights.bin"))) {
                    for (int i = 0; i < 65; i++) {
                        random.nextBytes(block);
                        out.write(block);
                    }
                }
                int jobsBefore = client.jobs().listJobs(ListJobsRequest.getDefaultInstance()).getJobsCount();
                var refused = submit(coop, "--workdir", big.toString(), "--", "true");
                assertThat(refused.exitCode()).isNotZero();
                assertThat(refused.stderr()).contains("workdir").contains("max_workdir_bytes");
                assertThat(client.jobs().listJobs(ListJobsRequest.getDefaultInstance()).getJobsCount())
                        .isEqualTo(jobsBefore);
            }
        }
    }
}
