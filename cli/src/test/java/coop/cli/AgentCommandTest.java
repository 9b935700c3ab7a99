package coop.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code coop agent}: it needs a node identity, and prints a systemd unit that runs it as a service. */
class AgentCommandTest {
    @TempDir
    Path dir;

    @Test
    void printsASystemdUnitThatRunsThisAgentWithAbsolutePathsAndDoesNotStartIt() throws Exception {
        Path id = dir.resolve("gpu-07.node.json");
        new NodeIdentity("gpu-07", "north", "lab-a", "secret", "10.0.0.1:7070").write(id);
        CliRun run = CliRun.of("agent", "--identity", id.toString(), "--gpus", "auto", "--print-systemd-unit");
        assertThat(run.exitCode()).as(run.err()).isZero();
        assertThat(run.out())
                .contains("Description=coop agent for node gpu-07 (site north)")
                .containsPattern("ExecStart=/\\S+/bin/java -jar \\S+ agent --identity " + id.toAbsolutePath()
                        + " --gpus auto --work-dir /var/lib/coop-agent/gpu-07")
                .contains("Restart=always").contains("KillMode=mixed").contains("WantedBy=multi-user.target")
                // Its ranks run as the agent's own user, so the agent needs no root.
                .contains("\nUser=coop-agent\n").contains("ProtectSystem=strict").contains("StateDirectory=coop-agent")
                .contains("NoNewPrivileges=yes")
                .doesNotContain("ReadWritePaths=")
                .doesNotContain("secret");
    }

    @Test
    void theUnitCarriesTheOperatorsScriptsQuotedForSystemd() throws Exception {
        Path id = dir.resolve("gpu-07.node.json");
        new NodeIdentity("gpu-07", "north", "lab-a", "secret", "10.0.0.1:7070").write(id);
        CliRun run = CliRun.of("agent", "--identity", id.toString(), "--gpus", "auto", "--health-check",
                "nhc -t 30", "--health-every", "2m", "--epilog", "/etc/coop/epilog", "--gpu-job-map",
                "/run/dcgm-job-map", "--print-systemd-unit");
        assertThat(run.exitCode()).as(run.err()).isZero();
        assertThat(run.out()).contains(" --health-check \"nhc -t 30\" --health-every 2m --epilog /etc/coop/epilog"
                + " --gpu-job-map /run/dcgm-job-map\n");
    }

    @Test
    void theUnitCarriesTheCheckpointRootAndMayWriteThere() throws Exception {
        Path id = dir.resolve("gpu-07.node.json");
        new NodeIdentity("gpu-07", "north", "lab-a", "secret", "10.0.0.1:7070").write(id);
        CliRun run = CliRun.of("agent", "--identity", id.toString(), "--gpus", "auto", "--checkpoint-root",
                "/shared/checkpoints", "--print-systemd-unit");
        assertThat(run.exitCode()).as(run.err()).isZero();
        assertThat(run.out()).contains(" --checkpoint-root /shared/checkpoints")
                .contains("ReadWritePaths=/shared/checkpoints\n");
    }

    @Test
    void badScriptsAndFoldersAreOneLineErrorsNamingTheirFlagAtStartUp() throws Exception {
        Path id = dir.resolve("gpu-07.node.json");
        new NodeIdentity("gpu-07", "north", "lab-a", "secret", "127.0.0.1:1").write(id);
        Path file = dir.resolve("a-file");
        java.nio.file.Files.writeString(file, "");
        String[][] cases = {
                {"--health-check", "no-such-nhc -a"},
                {"--prolog", dir.resolve("missing.sh").toString()},
                {"--gpu-job-map", file.resolve("map").toString()},
                {"--checkpoint-root", dir.resolve("no-such-share").toString()},
        };
        for (String[] c : cases) {
            CliRun run = CliRun.of("agent", "--identity", id.toString(), "--gpus", "sim:1xA100", "--work-dir",
                    dir.resolve("work").toString(), "--isolation", "none", "--allow-root-jobs", c[0], c[1]);
            assertThat(run.exitCode()).as(c[0]).isNotZero();
            assertThat(run.err().strip()).as(c[0]).startsWith("error: " + c[0] + ": ").doesNotContain("\n");
        }
        CliRun every = CliRun.of("agent", "--identity", id.toString(), "--gpus", "sim:1xA100", "--health-check",
                "true", "--health-every", "soon", "--isolation", "none", "--allow-root-jobs");
        assertThat(every.exitCode()).isNotZero();
        assertThat(every.err()).contains("--health-every: 'soon' is not a duration");
    }

    @Test
    void anAgentThatSwitchesUsersRunsAsRootWithItsConfinementInTheUnit() throws Exception {
        Path id = dir.resolve("gpu-07.node.json");
        new NodeIdentity("gpu-07", "north", "lab-a", "secret", "10.0.0.1:7070").write(id);
        CliRun confined = CliRun.of("agent", "--identity", id.toString(), "--gpus", "auto", "--run-as",
                "lab-a=coop-lab-a,*=coop-job", "--mem-per-gpu", "64G", "--mount", "/datasets", "--retain", "2d",
                "--print-systemd-unit");
        CliRun plain = CliRun.of("agent", "--identity", id.toString(), "--gpus", "auto", "--print-systemd-unit");

        assertThat(confined.exitCode()).as(confined.err()).isZero();
        assertThat(confined.out()).contains(" --run-as \"lab-a=coop-lab-a,*=coop-job\" --mem-per-gpu 64G --retain 2d"
                + " --mount /datasets\n").doesNotContain("User=");
        assertThat(plain.out()).contains("\nUser=coop-agent\n");
    }

    @Test
    void aWorkFolderOutsideTheStateFolderIsMadeWritable() throws Exception {
        Path id = dir.resolve("gpu-07.node.json");
        new NodeIdentity("gpu-07", "north", "lab-a", "secret", "10.0.0.1:7070").write(id);
        CliRun run = CliRun.of("agent", "--identity", id.toString(), "--gpus", "auto", "--work-dir", "/data/coop",
                "--print-systemd-unit");
        assertThat(run.exitCode()).as(run.err()).isZero();
        assertThat(run.out()).contains("--work-dir /data/coop\n").contains("\nReadWritePaths=/data/coop\n");
    }

    @Test
    void refusesToStartWithoutANodeIdentity() {
        CliRun run = CliRun.of("agent", "--gpus", "sim:1xA100");
        assertThat(run.exitCode()).isNotZero();
        assertThat(run.err()).contains("--identity");
        Path member = dir.resolve("alice.json");
        CliRun wrong = CliRun.of("agent", "--identity", member.toString(), "--gpus", "sim:1xA100");
        assertThat(wrong.exitCode()).isNotZero();
        assertThat(wrong.err()).contains("does not exist");
    }

    @Test
    void refusesAtStartUpWhatWouldLeaveItsJobsHalfConfined() throws Exception {
        Path id = dir.resolve("gpu-08.node.json");
        new NodeIdentity("gpu-08", "north", "lab-a", "secret", "127.0.0.1:1").write(id);
        boolean root = coop.agent.LocalUser.current().isRoot();
        String[] base = {"agent", "--identity", id.toString(), "--gpus", "sim:1xA100", "--work-dir",
                dir.resolve("work").toString()};

        CliRun noMap = CliRun.of(base);
        CliRun unknownUser = CliRun.of(concat(base, "--run-as", "lab-a=no-such-user-7q,*=nobody", "--isolation", "none"));
        CliRun malformed = CliRun.of(concat(base, "--run-as", "lab-a", "--isolation", "none"));
        CliRun badIsolation = CliRun.of(concat(base, "--isolation", "chroot", "--allow-root-jobs"));
        CliRun noRuntime = CliRun.of(concat(base, "--isolation", "runc", "--runtime", "/nonexistent/runc",
                "--allow-root-jobs"));
        CliRun badMount = CliRun.of(concat(base, "--isolation", "runc", "--allow-root-jobs", "--mount", "relative/path"));

        for (CliRun run : java.util.List.of(noMap, unknownUser, malformed, badIsolation, noRuntime, badMount)) {
            assertThat(run.exitCode()).as(run.err()).isNotZero();
            assertThat(run.err().strip().lines().count()).as(run.err()).isOne();
        }
        if (root) {
            assertThat(noMap.err()).contains("runs as root").contains("--run-as").contains("--allow-root-jobs");
            assertThat(unknownUser.err()).contains("--run-as: no local user 'no-such-user-7q'");
            assertThat(malformed.err()).contains("--run-as: 'lab-a' is not ACCOUNT=USER");
            assertThat(noRuntime.err()).contains("--isolation runc: no runc runtime at /nonexistent/runc");
            assertThat(badMount.err()).contains("--mount: paths must be absolute");
        } else {
            assertThat(unknownUser.err()).contains("--run-as: switching users needs an agent running as root");
            assertThat(noRuntime.err()).contains("--isolation runc needs an agent running as root");
        }
        assertThat(badIsolation.err()).contains("--isolation must be 'runc' or 'none', got 'chroot'");
        assertThat(dir.resolve("work")).doesNotExist();
    }

    private static String[] concat(String[] a, String... b) {
        String[] all = java.util.Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, all, a.length, b.length);
        return all;
    }
}
