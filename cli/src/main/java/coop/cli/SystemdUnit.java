package coop.cli;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The systemd unit that runs a coop agent as a service, in the one text both
 * {@code coop agent --print-systemd-unit} and the Debian package's
 * {@code /lib/systemd/system/coop-agent.service} come from (the package build runs {@link #main}).
 *
 * <p>Hardened as far as an agent can be that starts ranks under other users and in runc
 * containers: the file system is read-only to it and to its ranks ({@code ProtectSystem=strict})
 * but for its state folder ({@code /var/lib/coop-agent}, where ranks run), its log and runtime
 * folders and what {@code ReadWritePaths=} adds; {@code /tmp} is its own; home folders are
 * read-only. Left out, because they would break that agent: {@code PrivateDevices=} and
 * {@code DeviceAllow=} (ranks open GPU device nodes; {@code ProtectClock=} implies a device
 * list), {@code ProtectKernelTunables=} and {@code ProtectControlGroups=} (runc writes
 * {@code /sys/fs/cgroup}), {@code RestrictNamespaces=}, {@code SystemCallFilter=} and a
 * capability bound (runc makes namespaces, mounts and pivots the root), {@code ProtectHostname=}
 * (runc sets a container's host name). An agent that switches no users runs as the
 * {@value #USER} system user instead of root, and then also without new privileges and
 * capabilities, and with kernel tunables, modules and control groups closed to it.
 */
public final class SystemdUnit {

    /** The system user the Debian package creates for an agent that needs no root. */
    static final String USER = "coop-agent";
    /** The agent's state folder, made by systemd ({@code StateDirectory=}): where ranks run. */
    static final Path STATE = Path.of("/var/lib", USER);
    /** The package's agent options, read by its unit as an {@code EnvironmentFile=}. */
    static final String PACKAGED_CONF = "/etc/coop/agent.conf";

    private SystemdUnit() {
    }

    /** Prints the Debian package's unit ({@code packaging/deb/build.sh} runs this). */
    public static void main(String[] args) {
        System.out.print(packaged());
    }

    /**
     * The package's unit: {@code /usr/bin/coop agent} with the options of
     * {@value #PACKAGED_CONF}, as root, since the agent that unit is meant for maps accounts to
     * users ({@code --run-as}) and confines ranks with runc.
     */
    static String packaged() {
        List<String> head = List.of(
                "# coop agent, from the coop package. Its options are COOP_AGENT_ARGS in " + PACKAGED_CONF + ".",
                "# It runs as root, to start each rank as the user --run-as maps its account to, in a runc",
                "# container. An agent that switches no users (no --run-as, --isolation none) can run as the",
                "# " + USER + " user instead: `systemctl edit coop-agent` and add under [Service]:",
                "#   User=" + USER,
                "#   NoNewPrivileges=yes",
                "#   CapabilityBoundingSet=",
                "# Folders outside " + STATE + " that ranks write to need ReadWritePaths= there too.");
        return render(head, "coop agent", List.of("EnvironmentFile=" + PACKAGED_CONF),
                "/usr/bin/coop agent $COOP_AGENT_ARGS", List.of(), true);
    }

    /**
     * The unit {@code coop agent --print-systemd-unit} prints for one node.
     *
     * @param execStart     the command line of the agent, absolute paths, no quoting needed
     * @param workDir       the agent's work folder, absolute; made writable if outside {@link #STATE}
     * @param switchesUsers whether the agent starts ranks as other users or in runc containers,
     *                      which needs root; otherwise it runs as {@value #USER}
     */
    static String forNode(String node, String site, String execStart, Path workDir, boolean switchesUsers) {
        return forNode(node, site, execStart, workDir, switchesUsers, null);
    }

    /** As above, with the site's shared checkpoint folder ({@code --checkpoint-root}) made writable too, if given. */
    static String forNode(String node, String site, String execStart, Path workDir, boolean switchesUsers,
                          Path checkpointRoot) {
        List<String> head = new ArrayList<>(List.of(
                "# coop agent for node " + node + " at " + site + "; install with:",
                "#   coop agent ... --print-systemd-unit > /etc/systemd/system/coop-agent.service",
                "#   systemctl daemon-reload && systemctl enable --now coop-agent"));
        if (!switchesUsers) {
            head.add("# It runs as the " + USER + " system user (the coop package makes it; else");
            head.add("#   useradd --system --home-dir " + STATE + " --shell /usr/sbin/nologin " + USER + "),");
            head.add("# who must be able to read the jar and the node identity file.");
        }
        List<String> paths = new ArrayList<>();
        if (!workDir.startsWith(STATE)) {
            paths.add("ReadWritePaths=" + workDir);
        }
        if (checkpointRoot != null) {
            paths.add("ReadWritePaths=" + checkpointRoot);
        }
        return render(head, "coop agent for node " + node + " (site " + site + ")", List.of(), execStart, paths,
                switchesUsers);
    }

    private static String render(List<String> head, String description, List<String> environment, String execStart,
                                 List<String> readWritePaths, boolean asRoot) {
        List<String> lines = new ArrayList<>(head);
        lines.addAll(List.of(
                "[Unit]",
                "Description=" + description,
                "Wants=network-online.target",
                "After=network-online.target",
                "",
                "[Service]"));
        if (!asRoot) {
            lines.add("User=" + USER);
        }
        lines.addAll(environment);
        lines.addAll(List.of(
                "ExecStart=" + execStart,
                "Restart=always",
                "RestartSec=5",
                // SIGTERM to the agent alone: it stops its ranks (SIGTERM, SIGKILL after 5 s) before
                // systemd kills whatever is left.
                "KillMode=mixed",
                "TimeoutStopSec=30",
                "StateDirectory=" + USER,
                "LogsDirectory=" + USER,
                "RuntimeDirectory=" + USER,
                "ProtectSystem=strict",
                "ProtectHome=read-only",
                "PrivateTmp=yes",
                "ProtectKernelLogs=yes",
                "RestrictRealtime=yes",
                "RestrictSUIDSGID=yes",
                "LockPersonality=yes"));
        lines.addAll(readWritePaths);
        if (!asRoot) {
            lines.addAll(List.of(
                    "NoNewPrivileges=yes",
                    "CapabilityBoundingSet=",
                    "ProtectKernelTunables=yes",
                    "ProtectKernelModules=yes",
                    "ProtectControlGroups=yes"));
        }
        lines.addAll(List.of(
                "",
                "[Install]",
                "WantedBy=multi-user.target",
                ""));
        return String.join("\n", lines);
    }
}
