package coop.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class ClientOptionsTest {

    private final Identity withScheduler = new Identity("alice", "t", "10.0.0.5:7000");
    private final Identity withoutScheduler = new Identity("alice", "t", null);

    @Test
    void anExplicitSchedulerWins() {
        assertThat(ClientOptions.resolveScheduler("h:1", withScheduler)).isEqualTo("h:1");
    }

    @Test
    void thenTheIdentityFilesScheduler() {
        assertThat(ClientOptions.resolveScheduler(null, withScheduler)).isEqualTo("10.0.0.5:7000");
        assertThat(ClientOptions.resolveScheduler(" ", withScheduler)).isEqualTo("10.0.0.5:7000");
    }

    @Test
    void thenTheDefault() {
        assertThat(ClientOptions.resolveScheduler(null, withoutScheduler)).isEqualTo("127.0.0.1:7070");
        assertThat(ClientOptions.resolveScheduler(null, null)).isEqualTo("127.0.0.1:7070");
    }

    @Test
    void rejectsAnAddressWithoutPort() {
        assertThatThrownBy(() -> ClientOptions.resolveScheduler("localhost", null))
                .isInstanceOf(CliException.class)
                .hasMessageContaining("'localhost'");
        assertThat(ClientOptions.resolveScheduler("[::1]:7070", null)).isEqualTo("[::1]:7070");
    }
}
