package coop.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SchedulerCommandTest {
    @TempDir
    Path dir;

    @Test
    void aDashboardAddressThatIsNoHostAndPortIsRefusedBeforeAnythingStarts() {
        assertRefused("nope", "--http: expected HOST:PORT such as 127.0.0.1:8080, got 'nope'");
        assertRefused(":8080", "--http: expected HOST:PORT");
        assertRefused("127.0.0.1:http", "--http: port must be a number, got 'http'");
        assertRefused("127.0.0.1:70000", "--http: port must be between 0 and 65535, got 70000");
    }

    @Test
    void showingCommandsWithoutADashboardIsRefused() {
        CliRun run = CliRun.of("scheduler", "--data", dir.resolve("none").toString(), "--http-show-commands");
        assertThat(run.exitCode()).isNotZero();
        assertThat(run.err()).contains("--http-show-commands: the dashboard is served only with --http HOST:PORT");
    }

    @Test
    void aLoopbackAddressIsTakenAsGiven() {
        var address = SchedulerCommand.httpAddress("127.0.0.1:0");
        assertThat(address.getAddress().isLoopbackAddress()).isTrue();
        assertThat(address.getPort()).isZero();
        assertThat(SchedulerCommand.httpAddress("[::1]:8080").getAddress().isLoopbackAddress()).isTrue();
    }

    @Test
    void notificationSinksThatCannotWorkAreRefusedBeforeAnythingStarts() {
        assertRefusedWith("--webhook: 'ftp://ops.example.org/x' is a ftp: URL", "--webhook", "ftp://ops.example.org/x");
        assertRefusedWith("--webhook: give an http(s) URL, got 'ops@example.org'", "--webhook", "ops@example.org");
        assertRefusedWith("--smtp: expected HOST:PORT such as 127.0.0.1:25, got 'mail.example.org'", "--smtp",
                "mail.example.org");
        assertRefusedWith("--smtp-from: 'coop' is not an email address", "--smtp", "127.0.0.1:25", "--smtp-from",
                "coop");
        assertRefusedWith("--notify-tries: must be 1 or more, got 0", "--notify-tries", "0");
    }

    @Test
    void notificationOptionsBecomeTheSchedulersNotifyConfig() {
        SchedulerCommand c = new SchedulerCommand();
        new picocli.CommandLine(c).parseArgs("--data", "d", "--webhook", "https://ops.example.org/hook", "--smtp",
                "127.0.0.1:2525", "--notify-hosts", "127.0.0.1,Hooks.example.org", "--notify-tries", "3",
                "--notify-backoff", "2s");
        var n = c.notifications();
        assertThat(n.webhook()).isEqualTo("https://ops.example.org/hook");
        assertThat(n.smtpHost()).isEqualTo("127.0.0.1");
        assertThat(n.smtpPort()).isEqualTo(2525);
        assertThat(n.smtpFrom()).isEqualTo("coop@localhost");
        assertThat(n.reach().hosts()).containsExactly("127.0.0.1", "hooks.example.org");
        assertThat(n.reach().mail()).isTrue();
        assertThat(n.tries()).isEqualTo(3);
        assertThat(n.backoff()).hasSeconds(2);
    }

    private void assertRefusedWith(String message, String... options) {
        java.util.List<String> args = new java.util.ArrayList<>(java.util.List.of("scheduler", "--data",
                dir.resolve("none").toString()));
        args.addAll(java.util.List.of(options));
        CliRun run = CliRun.of(args.toArray(String[]::new));
        assertThat(run.exitCode()).isNotZero();
        assertThat(run.err()).contains(message);
    }

    private void assertRefused(String http, String message) {
        CliRun run = CliRun.of("scheduler", "--data", dir.resolve("none").toString(), "--http", http);
        assertThat(run.exitCode()).isNotZero();
        assertThat(run.err()).contains(message);
    }
}
