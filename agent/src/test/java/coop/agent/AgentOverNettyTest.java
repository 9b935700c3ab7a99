package coop.agent;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import coop.v1.AttemptRef;
import coop.v1.Launch;
import coop.v1.SchedulerMessage;
import io.grpc.Server;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The production wiring ({@link Agent#create}: plaintext Netty to {@code host:port}) against a
 * real server on the loopback interface, including a scheduler that is not up yet and one that
 * goes away and comes back on the same port, as after a restart.
 */
class AgentOverNettyTest {

    private static final Duration PROMPTLY = Duration.ofSeconds(10);

    @TempDir
    Path workDir;

    private Server server;
    private Agent agent;

    @AfterEach
    void tearDown() {
        if (agent != null) {
            agent.close();
        }
        if (server != null) {
            server.shutdownNow();
        }
    }

    @Test
    void dialsUntilTheSchedulerIsUpAndReattachesAfterARestart() throws Exception {
        int port = freePort();
        agent = Agent.create(new AgentConfig("127.0.0.1:" + port, "node-n", "lab-2",
                GpuSpec.parse("sim:1xH100").resolve(new NvidiaSmi("")), workDir, Agent.version()));
        agent.start();

        FakeScheduler first = new FakeScheduler(60_000);
        server = serve(port, first);
        await().atMost(PROMPTLY).until(agent::isConnected);
        assertThat(first.latest().hello().orElseThrow().getGpus(0).getModel()).isEqualTo("H100");

        AttemptRef ref = AttemptRef.newBuilder().setJobId(1).setAttempt(1).setRank(0).build();
        first.latest().send(SchedulerMessage.newBuilder()
                .setLaunch(Launch.newBuilder().setRef(ref).setCommand("sleep 60").addGpuIndices(0))
                .build());
        await().atMost(PROMPTLY).until(() -> !first.latest().started(ref).isEmpty());

        server.shutdownNow().awaitTermination();
        await().atMost(PROMPTLY).until(() -> !agent.isConnected());
        FakeScheduler second = new FakeScheduler(60_000);
        server = serve(port, second);

        await().atMost(PROMPTLY).until(agent::isConnected);
        assertThat(second.latest().hello().orElseThrow().getRunningList()).isEqualTo(List.of(ref));
    }

    private static Server serve(int port, FakeScheduler scheduler) throws IOException {
        return NettyServerBuilder.forAddress(new InetSocketAddress(InetAddress.getLoopbackAddress(), port))
                .addService(scheduler)
                .build()
                .start();
    }

    private static int freePort() throws IOException {
        try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return socket.getLocalPort();
        }
    }
}
