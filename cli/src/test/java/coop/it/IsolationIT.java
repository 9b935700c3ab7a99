package coop.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import coop.agent.LocalUser;
import coop.cli.Client;
import coop.cli.Identity;
import coop.v1.GetJobRequest;
import coop.v1.JobState;
import coop.v1.ListNodesRequest;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What a job can and cannot touch on a node whose agent confines ranks with runc and maps
 * accounts to local users, through real jobs submitted with the CLI: the rank's user, its
 * memory limit, its GPUs' device nodes (stand-ins with the NVIDIA major number, 195), another
 * job's folder, and a process it detaches. Needs root, runc and the local users {@code
 * coop-lab-a} and {@code coop-job}, which {@code .ci/run} provides.
 */
class IsolationIT {
    private static final Duration SOON = Duration.ofSeconds(60);

    @TempDir
    Path dir;

    @Test
    void aConfinedJobRunsAsItsAccountsUserWithinItsMemoryGpusAndFolder() throws Exception {
        CoopProcesses.require(LocalUser.current().isRoot(), "root");
        CoopProcesses.require(Files.isExecutable(Path.of("/usr/sbin/runc")), "runc (apt install runc)");
        LocalUser labA = LocalUser.lookup("coop-lab-a").orElse(null);
        LocalUser anyone = LocalUser.lookup("coop-job").orElse(null);
        CoopProcesses.require(labA != null && anyone != null, "local users coop-lab-a and coop-job (useradd --system)");

        Path devices = Files.createDirectories(dir.resolve("dev"));
        for (int minor = 0; minor < 2; minor++) {
            Process mknod = new ProcessBuilder("mknod", devices.resolve("nvidia" + minor).toString(), "c", "195",
                    Integer.toString(minor)).inheritIO().start();
            assertThat(mknod.waitFor()).isZero();
        }
        // Others may pass through the test's folder to the agent's, as they may through /var/lib.
        Files.setPosixFilePermissions(dir, java.nio.file.attribute.PosixFilePermissions.fromString("rwx--x--x"));
        try (CoopProcesses coop = new CoopProcesses(dir)) {
            Path data = dir.resolve("data");
            var init = coop.run("init", "--data", data.toString(), "--founders", "alice", "--accounts", "lab-a,lab-b");
            assertThat(init.exitCode()).as(init.stderr()).isZero();
            var scheduler = coop.scheduler(data);
            String target = scheduler.target();
            Path alice = data.resolve("identities/alice.json");
            Path work = dir.resolve("n1");
            Process agent = coop.agent(target, alice, "lab-a", "n1", "north", "sim:2xA100-80GB", work,
                    List.of("--isolation", "runc", "--run-as", "lab-a=coop-lab-a,*=coop-job", "--mem-per-gpu", "64M",
                            "--pids-limit", "128", "--gpu-device-dir", devices.toString()));
            try (Client client = new Client(target, Identity.read(alice))) {
                await().atMost(SOON).until(() -> client.nodes().listNodes(ListNodesRequest.getDefaultInstance())
                        .getNodesList().stream().anyMatch(n -> n.getState().equals("online")));
                Cli cli = new Cli(coop, target, alice.toString());
                var status = cli.run("node", "status", "n1");
                assertThat(status.stdout()).as(status.stderr()).contains("  isolation: runc (memory 64 MiB per GPU, "
                        + "128 processes; jobs run lab-a=coop-lab-a,*=coop-job)\n");

                long who = cli.submit("lab-a", "id -u; echo visible=$CUDA_VISIBLE_DEVICES; ls /dev | grep nvidia; "
                        + "cat /dev/nvidia$((1 - CUDA_VISIBLE_DEVICES)) 2>&1 | sed 's/.*: //'");
                long oom = cli.submit("lab-a", "x=$(head -c 300000000 /dev/zero | tr '\\0' a); echo survived");
                long detach = cli.submit("lab-b", "setsid nohup sleep 613.5 >/dev/null 2>&1 & sleep 0.5; echo left");
                await().atMost(SOON).until(() -> cli.over(client, who) && cli.over(client, oom) && cli.over(client, detach));

                String whoOut = cli.logs(who);
                String visible = whoOut.lines().filter(l -> l.startsWith("visible=")).findFirst().orElseThrow()
                        .substring("visible=".length());
                assertThat(whoOut).startsWith(labA.uid() + "\n")
                        .contains("\nnvidia" + visible + "\n")
                        .endsWith("No such file or directory\n");
                assertThat(whoOut.lines().filter(l -> l.startsWith("nvidia")).count()).as(whoOut).isOne();

                var oomJob = cli.run("job", Long.toString(oom));
                assertThat(oomJob.stdout()).as(oomJob.stdout()).contains("OOM: exceeded 64 MiB");
                assertThat(cli.job(client, oom).getState()).isEqualTo(JobState.FAILED);

                assertThat(cli.job(client, detach).getState()).isEqualTo(JobState.SUCCEEDED);
                assertThat(cli.logs(detach)).isEqualTo("left\n");
                await().atMost(Duration.ofSeconds(10)).until(() -> ProcessHandle.allProcesses()
                        .noneMatch(h -> h.info().commandLine().orElse("").contains("613.5")));

                // A job of lab-b (run as coop-job) keeps a file; a job of lab-a cannot reach it.
                long keeper = cli.submit("lab-b", "id -u; echo secret > mine; sleep 120");
                await().atMost(SOON).until(() -> Files.exists(work.resolve("jobs/" + keeper + ".1.0/mine")));
                Path secret = work.resolve("jobs/" + keeper + ".1.0/mine");
                assertThat(Files.getAttribute(secret.getParent(), "unix:uid")).isEqualTo(anyone.uid());
                long snoop = cli.submit("lab-a", "cat " + secret + " || echo cannot-read");
                await().atMost(SOON).until(() -> cli.over(client, snoop));
                assertThat(cli.logs(snoop)).doesNotContain("secret").contains("cannot-read");
                var cancel = cli.run("cancel", Long.toString(keeper));
                assertThat(cancel.exitCode()).as(cancel.stderr()).isZero();
                await().atMost(SOON).until(() -> cli.over(client, keeper));
            } finally {
                agent.destroy();
            }
        }
    }

    /** The CLI as a member types it, with this cluster's scheduler and identity. */
    private record Cli(CoopProcesses coop, String target, String identity) {
        CoopProcesses.Result run(String... args) throws Exception {
            String[] all = java.util.Arrays.copyOf(args, args.length + 4);
            System.arraycopy(new String[] {"--scheduler", target, "--identity", identity}, 0, all, args.length, 4);
            return coop.run(all);
        }

        long submit(String account, String command) throws Exception {
            var s = coop.run("submit", "--scheduler", target, "--identity", identity, "--account", account,
                    "--gpus", "1", "--", command);
            assertThat(s.exitCode()).as(s.stderr()).isZero();
            return Long.parseLong(s.stdout().strip().replace("submitted job ", ""));
        }

        String logs(long id) throws Exception {
            var logs = run("logs", Long.toString(id));
            assertThat(logs.exitCode()).as(logs.stderr()).isZero();
            return logs.stdout();
        }

        coop.v1.Job job(Client client, long id) {
            return client.jobs().getJob(GetJobRequest.newBuilder().setJobId(id).build());
        }

        boolean over(Client client, long id) {
            JobState s = job(client, id).getState();
            return s == JobState.SUCCEEDED || s == JobState.FAILED || s == JobState.CANCELLED;
        }
    }
}
