package coop.cli;

import coop.v1.GovernanceGrpc;
import coop.v1.JobsGrpc;
import coop.v1.NodesGrpc;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.stub.MetadataUtils;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

/**
 * A connection to the scheduler for one CLI command: a plaintext channel whose calls
 * carry the caller's {@code coop-member} and {@code coop-token} headers (none when
 * anonymous), and blocking stubs for the Jobs, Governance and Nodes services. Each stub
 * returned carries its own {@link #CALL_DEADLINE}, counted from when it is obtained, so
 * obtain one per call.
 */
public final class Client implements AutoCloseable {

    /** Header naming the calling member. */
    public static final Metadata.Key<String> MEMBER_HEADER =
            Metadata.Key.of("coop-member", Metadata.ASCII_STRING_MARSHALLER);
    /** Header carrying the member's secret token. */
    public static final Metadata.Key<String> TOKEN_HEADER =
            Metadata.Key.of("coop-token", Metadata.ASCII_STRING_MARSHALLER);
    /** Longest a single call (or a whole log stream) may take. */
    public static final Duration CALL_DEADLINE = Duration.ofSeconds(30);

    private static final int MAX_MESSAGE_BYTES = 64 * 1024 * 1024;

    private final String target;
    private final ManagedChannel channel;

    /**
     * @param target   scheduler {@code HOST:PORT}
     * @param identity the caller, or {@code null} to call anonymously
     */
    public Client(String target, Identity identity) {
        this.target = target;
        NettyChannelBuilder builder = NettyChannelBuilder.forTarget(target)
                .usePlaintext()
                .userAgent("coop-cli")
                .maxInboundMessageSize(MAX_MESSAGE_BYTES);
        if (identity != null) {
            Metadata headers = new Metadata();
            headers.put(MEMBER_HEADER, identity.member());
            headers.put(TOKEN_HEADER, identity.token());
            builder.intercept(MetadataUtils.newAttachHeadersInterceptor(headers));
        }
        this.channel = builder.build();
    }

    /** The scheduler's {@code HOST:PORT}. */
    public String target() {
        return target;
    }

    /** A Jobs stub whose deadline starts now. */
    public JobsGrpc.JobsBlockingStub jobs() {
        return JobsGrpc.newBlockingStub(channel).withDeadlineAfter(CALL_DEADLINE.toMillis(), TimeUnit.MILLISECONDS);
    }

    /** A Governance stub whose deadline starts now. */
    public GovernanceGrpc.GovernanceBlockingStub governance() {
        return GovernanceGrpc.newBlockingStub(channel)
                .withDeadlineAfter(CALL_DEADLINE.toMillis(), TimeUnit.MILLISECONDS);
    }

    /** A Nodes stub whose deadline starts now (for ListNodes; agents use their own channel). */
    public NodesGrpc.NodesBlockingStub nodes() {
        return NodesGrpc.newBlockingStub(channel).withDeadlineAfter(CALL_DEADLINE.toMillis(), TimeUnit.MILLISECONDS);
    }

    @Override
    public void close() {
        channel.shutdown();
        try {
            if (!channel.awaitTermination(5, TimeUnit.SECONDS)) {
                channel.shutdownNow();
            }
        } catch (InterruptedException e) {
            channel.shutdownNow();
            Thread.currentThread().interrupt();
        }
    }
}
