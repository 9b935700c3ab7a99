package coop.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.InetSocketAddress;
import org.junit.jupiter.api.Test;

class ClientTest {

    @Test
    void anIpv4LiteralIsDialledDirectlyUnderTheAuthorityAsWritten() {
        InetSocketAddress a = Client.ipv4Address("127.0.0.1:7070");
        assertThat(a).isNotNull();
        assertThat(a.getHostString()).isEqualTo("127.0.0.1");
        assertThat(a.getPort()).isEqualTo(7070);
        assertThat(a.getAddress().getAddress()).containsExactly(127, 0, 0, 1);
        assertThat(Client.ipv4Address("10.0.0.255:1").getAddress().getAddress()).containsExactly(10, 0, 0, (byte) 255);
    }

    @Test
    void everythingElseGoesThroughTheNameResolver() {
        assertThat(Client.ipv4Address("localhost:7070")).isNull();
        assertThat(Client.ipv4Address("[::1]:7070")).isNull();
        assertThat(Client.ipv4Address("10.0.0:7070")).isNull();
        assertThat(Client.ipv4Address("10.0.0.256:7070")).isNull();
        assertThat(Client.ipv4Address("10.0.0.01:7070")).isNull();
        assertThat(Client.ipv4Address("1.2.3.4.5:7070")).isNull();
        assertThat(Client.ipv4Address("10.0.0.1:70700")).isNull();
        assertThat(Client.ipv4Address("10.0.0.1:x")).isNull();
        assertThat(Client.ipv4Address("10.0.0.1:-1")).isNull();
        assertThat(Client.ipv4Address("host.10.0.0.1:7070")).isNull();
    }
}
