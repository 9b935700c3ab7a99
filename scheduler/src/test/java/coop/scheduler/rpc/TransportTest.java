package coop.scheduler.rpc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.grpc.ConnectivityState;
import io.grpc.ManagedChannel;
import io.grpc.Server;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.netty.shaded.io.netty.channel.epoll.Epoll;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/** The server's I/O threads: how many, and the count of open connections that turns coalescing on. */
class TransportTest {

    @Test
    void oneIoThreadPerTwoCoresAndAtLeastOne() {
        assertThat(Transport.ioThreads(1)).isEqualTo(1);
        assertThat(Transport.ioThreads(2)).isEqualTo(1);
        assertThat(Transport.ioThreads(3)).isEqualTo(1);
        assertThat(Transport.ioThreads(16)).isEqualTo(8);
    }

    @Test
    void connectionsAreCountedWhileOpen() throws Exception {
        withServer((server, transport) -> {
            assertThat(transport.openConnections()).isZero();
            ManagedChannel first = channel(server);
            ManagedChannel second = channel(server);
            await().atMost(Duration.ofSeconds(10)).until(transport::openConnections, n -> n == 2);
            first.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
            await().atMost(Duration.ofSeconds(10)).until(transport::openConnections, n -> n == 1);
            second.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
            await().atMost(Duration.ofSeconds(10)).until(transport::openConnections, n -> n == 0);
        });
    }

    @Test
    void aConnectionThatNeverBecomesReadyIsForgottenAndLetsTheServerStop() throws Exception {
        withServer((server, transport) -> {
            // Not the HTTP/2 preface: the server drops the connection before it is ready.
            try (Socket socket = new Socket("127.0.0.1", server.getPort())) {
                socket.setSoTimeout(10_000);
                socket.getOutputStream().write("GET / HTTP/1.1\r\nHost: x\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
                socket.getOutputStream().flush();
                InputStream in = socket.getInputStream();
                while (in.read() >= 0) {
                    // until the server closes
                }
            }
            assertThat(transport.openConnections()).isZero();
            // A graceful shutdown ends once no transport is left: the dropped one must not linger.
            server.shutdown();
            assertThat(server.awaitTermination(5, TimeUnit.SECONDS)).isTrue();
            assertThat(transport.openConnections()).isZero();
        });
    }

    private interface ServerTest {
        void run(Server server, Transport transport) throws Exception;
    }

    /** Runs {@code test} against a plaintext server on 127.0.0.1 with coop's transport under it. */
    private static void withServer(ServerTest test) throws Exception {
        Assumptions.assumeTrue(Epoll.isAvailable(), "epoll (Linux) only");
        NettyServerBuilder builder = NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", 0));
        Transport transport = Transport.on(builder);
        Server server = builder.build().start();
        try {
            test.run(server, transport);
        } finally {
            server.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
            transport.close();
        }
    }

    private static ManagedChannel channel(Server server) {
        ManagedChannel channel = NettyChannelBuilder.forAddress("127.0.0.1", server.getPort()).usePlaintext().build();
        assertThat(channel.getState(true)).isNotEqualTo(ConnectivityState.SHUTDOWN);
        await().atMost(Duration.ofSeconds(10)).until(() -> channel.getState(false) == ConnectivityState.READY);
        return channel;
    }
}
