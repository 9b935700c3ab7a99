package coop.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The agent's systemd unit, as the Debian package installs it and as {@code coop agent
 * --print-systemd-unit} prints it: one hardening for both, root only for an agent that switches
 * users. (DebianPackageIT has systemd-analyze verify the installed one.)
 */
class SystemdUnitTest {
    /** What every variant holds: the service's folders, restarts, the stop and the hardening. */
    private static final List<String> COMMON = List.of("Restart=always", "RestartSec=5", "KillMode=mixed",
            "TimeoutStopSec=30", "StateDirectory=coop-agent", "LogsDirectory=coop-agent", "RuntimeDirectory=coop-agent",
            "ProtectSystem=strict", "ProtectHome=read-only", "PrivateTmp=yes", "ProtectKernelLogs=yes",
            "RestrictRealtime=yes", "RestrictSUIDSGID=yes", "LockPersonality=yes", "WantedBy=multi-user.target");
    /** What an agent that starts ranks as other users or in runc containers cannot have. */
    private static final List<String> UNPRIVILEGED_ONLY = List.of("User=coop-agent", "NoNewPrivileges=yes",
            "CapabilityBoundingSet=", "ProtectKernelTunables=yes", "ProtectKernelModules=yes",
            "ProtectControlGroups=yes");

    @Test
    void thePackagedUnitRunsTheInstalledCommandWithTheConfiguredOptionsAsRoot() {
        List<String> lines = SystemdUnit.packaged().lines().toList();
        assertThat(lines).containsAll(COMMON)
                .contains("EnvironmentFile=/etc/coop/agent.conf", "ExecStart=/usr/bin/coop agent $COOP_AGENT_ARGS")
                .doesNotContainAnyElementsOf(UNPRIVILEGED_ONLY);
        // How to run it unprivileged is said in the unit itself.
        assertThat(lines).contains("#   User=coop-agent", "#   NoNewPrivileges=yes");
    }

    @Test
    void aNodesUnitIsThePackagedOnesHardeningAroundItsOwnCommand() {
        String root = SystemdUnit.forNode("gpu-07", "north", "/opt/java/bin/java -jar /opt/coop.jar agent",
                Path.of("/var/lib/coop-agent/gpu-07"), true);
        assertThat(root.lines().toList()).containsAll(COMMON)
                .contains("ExecStart=/opt/java/bin/java -jar /opt/coop.jar agent",
                        "Description=coop agent for node gpu-07 (site north)")
                .doesNotContainAnyElementsOf(UNPRIVILEGED_ONLY)
                .noneMatch(l -> l.startsWith("EnvironmentFile=") || l.startsWith("ReadWritePaths="));
        // The [Service] section differs from the package's only in its command and where that comes from.
        assertThat(service(root).stream().filter(l -> !l.startsWith("ExecStart=")).toList())
                .isEqualTo(service(SystemdUnit.packaged()).stream()
                        .filter(l -> !l.startsWith("ExecStart=") && !l.startsWith("EnvironmentFile=")).toList());

        String unprivileged = SystemdUnit.forNode("gpu-07", "north", "java -jar coop.jar agent",
                Path.of("/scratch/coop"), false);
        assertThat(unprivileged.lines().toList()).containsAll(COMMON).containsAll(UNPRIVILEGED_ONLY)
                .contains("ReadWritePaths=/scratch/coop");
        assertThat(unprivileged).contains("useradd --system");
    }

    private static List<String> service(String unit) {
        List<String> lines = unit.lines().toList();
        return lines.subList(lines.indexOf("[Service]"), lines.indexOf("[Install]"));
    }
}
