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
}
