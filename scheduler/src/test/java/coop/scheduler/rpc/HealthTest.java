package coop.scheduler.rpc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import coop.scheduler.engine.EngineFixture;
import coop.scheduler.governance.TestMembers;
import io.grpc.ManagedChannel;
import io.grpc.Server;
import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthCheckResponse.ServingStatus;
import io.grpc.health.v1.HealthGrpc;
import io.grpc.inprocess.InProcessChannelBuilder;
import io.grpc.inprocess.InProcessServerBuilder;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The standard grpc.health.v1 service: asked without any identity, it follows the event loop. */
class HealthTest {
    @TempDir
    Path dir;
    private EngineFixture engine;
    private Server server;
    private ManagedChannel channel;

    @BeforeEach
    void start() throws Exception {
        engine = EngineFixture.found(dir, InstantSource.fixed(Instant.parse("2025-06-01T12:00:00Z")),
                List.of(new TestMembers().member("alice", List.of("lab-a"))), List.of("lab-a"));
        String name = InProcessServerBuilder.generateName();
        InProcessServerBuilder builder = InProcessServerBuilder.forName(name);
        Services.register(builder, engine.loop(), engine.store(), Map.of(), Set.of(), null);
        server = builder.build().start();
        channel = InProcessChannelBuilder.forName(name).build();
    }

    @AfterEach
    void stop() {
        channel.shutdownNow();
        server.shutdownNow();
        engine.close();
    }

    private ServingStatus status() {
        return HealthGrpc.newBlockingStub(channel).check(HealthCheckRequest.newBuilder().build()).getStatus();
    }

    @Test
    void servingWhileTheLoopTakesCommandsAndNotServingOnceItStopped() {
        assertThat(status()).isEqualTo(ServingStatus.SERVING);
        engine.loop().close();
        await().atMost(Duration.ofSeconds(5)).until(() -> status() == ServingStatus.NOT_SERVING);
    }
}
