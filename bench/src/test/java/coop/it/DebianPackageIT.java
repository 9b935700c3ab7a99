package coop.it;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * The Debian package the build makes next to the jar (packaging/deb/build.sh), installed for real
 * with {@code dpkg -i} on this machine: a working {@code /usr/bin/coop}, the agent's service
 * unit (which {@code systemd-analyze verify} accepts), its options file as a conffile naming
 * only options the agent knows, and the {@code coop-agent} system user; installed a second time
 * over itself; then purged, which leaves none of it behind. Needs root, dpkg and systemd-analyze
 * (Debian: {@code apt-get install systemd}), and a machine without a coop package or a
 * {@code coop-agent} user of its own, which the test would otherwise replace and remove.
 */
class DebianPackageIT {
    private static final Path UNIT = Path.of("/lib/systemd/system/coop-agent.service");
    private static final Path CONF = Path.of("/etc/coop/agent.conf");
    private static final Path COMMAND = Path.of("/usr/bin/coop");

    @Test
    void installsTheCommandTheAgentServiceAndItsUserAndPurgesThemAll() throws Exception {
        Prerequisite.require(Files.isExecutable(Path.of("/usr/bin/dpkg")) && Files.isExecutable(
                Path.of("/usr/bin/dpkg-deb")), "dpkg and dpkg-deb are not installed (a Debian or Ubuntu machine)");
        Prerequisite.require(run("id", "-u").output().strip().equals("0"),
                "installing a package needs root: run as root (on a machine you may install coop on)");
        Prerequisite.require(Files.isExecutable(Path.of("/usr/bin/systemd-analyze")),
                "systemd-analyze is not installed (Debian: apt-get install systemd)");
        Prerequisite.require(!dpkgKnowsCoop() && !Files.exists(COMMAND)
                && run("getent", "passwd", "coop-agent").exitCode() != 0,
                "this machine has a coop package, /usr/bin/coop or a coop-agent user of its own, which the test "
                        + "would replace and purge; run it on a machine without them");
        Path jar = Path.of(CoopProcesses.jar()).toAbsolutePath();
        Path deb;
        try (Stream<Path> files = Files.list(jar.getParent())) {
            deb = files.filter(f -> f.getFileName().toString().matches("coop_.+_all\\.deb")).findFirst()
                    .orElseThrow(() -> new AssertionError("the build made no coop_VERSION_all.deb next to " + jar
                            + " although dpkg-deb is installed (was it run with -Dcoop.deb.skip=true?)"));
        }

        try {
            Result install = run("dpkg", "-i", deb.toString());
            assertThat(install.exitCode()).as(install.output()).isZero();
            assertThat(run("dpkg-query", "-W", "-f", "${Status}", "coop").output()).isEqualTo("install ok installed");

            // The command, on the system's Java, from the installed jar.
            assertThat(Files.size(Path.of("/usr/share/coop/coop.jar"))).isEqualTo(Files.size(jar));
            Result help = run(COMMAND.toString(), "--help");
            assertThat(help.exitCode()).as(help.output()).isZero();
            assertThat(help.output()).startsWith("Usage: coop").contains("agent", "submit");

            // The unit: hardened, running the installed command with the options file's options.
            assertThat(Files.readAllLines(UNIT)).contains("EnvironmentFile=" + CONF,
                    "ExecStart=/usr/bin/coop agent $COOP_AGENT_ARGS", "ProtectSystem=strict",
                    "StateDirectory=coop-agent", "LogsDirectory=coop-agent", "Restart=always", "KillMode=mixed");
            Result verify = run("systemd-analyze", "verify", UNIT.toString());
            assertThat(verify.exitCode()).as(verify.output()).isZero();
            assertThat(verify.output()).as("systemd-analyze verify's complaints").isEmpty();

            // The options file: kept over upgrades, and all it gives are options the agent knows, so
            // the agent fails only for want of the node identity an operator puts there.
            assertThat(run("dpkg-query", "-W", "-f", "${Conffiles}", "coop").output()).contains(CONF.toString());
            Result args = run("sh", "-c", ". " + CONF + " && " + COMMAND + " agent $COOP_AGENT_ARGS --print-systemd-unit");
            assertThat(args.exitCode()).isNotZero();
            assertThat(args.output()).contains("node identity file /etc/coop/node.json does not exist")
                    .doesNotContain("Unknown option");

            // The service's system user.
            String[] user = run("getent", "passwd", "coop-agent").output().strip().split(":");
            assertThat(Integer.parseInt(user[2])).isBetween(100, 999);
            assertThat(user[5]).isEqualTo("/var/lib/coop-agent");
            assertThat(user[6]).isEqualTo("/usr/sbin/nologin");

            // Installed again over itself, the user is kept as it was.
            Result again = run("dpkg", "-i", deb.toString());
            assertThat(again.exitCode()).as(again.output()).isZero();
            assertThat(run("getent", "passwd", "coop-agent").output().strip().split(":")[2]).isEqualTo(user[2]);

            Result purge = run("dpkg", "--purge", "coop");
            assertThat(purge.exitCode()).as(purge.output()).isZero();
            assertThat(dpkgKnowsCoop()).as("dpkg knows coop still").isFalse();
            assertThat(List.of(COMMAND, UNIT, CONF, CONF.getParent(), Path.of("/usr/share/coop")))
                    .noneMatch(Files::exists);
            assertThat(run("getent", "passwd", "coop-agent").exitCode()).isNotZero();
            assertThat(run("getent", "group", "coop-agent").exitCode()).isNotZero();
        } finally {
            // Whatever failed, the machine is left as it was: none of this was here before.
            if (dpkgKnowsCoop()) {
                run("dpkg", "--purge", "coop");
            }
            if (run("getent", "passwd", "coop-agent").exitCode() == 0) {
                run("userdel", "coop-agent");
            }
            if (run("getent", "group", "coop-agent").exitCode() == 0) {
                run("groupdel", "coop-agent");
            }
        }
    }

    private record Result(int exitCode, String output) {
    }

    /** Whether dpkg has coop in any state but unknown: installed, half-installed or its conffiles left. */
    private static boolean dpkgKnowsCoop() throws IOException, InterruptedException {
        Result status = run("dpkg-query", "-W", "-f", "${db:Status-Abbrev}", "coop");
        return status.exitCode() == 0 && !status.output().startsWith("un");
    }

    /** Runs a command to its end; its stdout and stderr together. */
    private static Result run(String... command) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!p.waitFor(120, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new AssertionError(String.join(" ", command) + " did not finish in 120 s");
        }
        return new Result(p.exitValue(), out);
    }
}
