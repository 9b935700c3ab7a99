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

    private void assertRefused(String http, String message) {
        CliRun run = CliRun.of("scheduler", "--data", dir.resolve("none").toString(), "--http", http);
        assertThat(run.exitCode()).isNotZero();
        assertThat(run.err()).contains(message);
    }
}
