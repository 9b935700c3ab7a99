package coop.scheduler.rpc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import coop.scheduler.engine.EngineFixture;
import coop.scheduler.engine.EventLoop;
import coop.scheduler.governance.TestMembers;
import coop.scheduler.ledger.Entry;
import coop.scheduler.store.Store;
import coop.v1.GetJobRequest;
import coop.v1.JobsGrpc;
import coop.v1.ListJobsRequest;
import coop.v1.NodesGrpc;
import coop.v1.SubmitRequest;
import io.grpc.CallOptions;
import io.grpc.ClientCall;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.Server;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.inprocess.InProcessChannelBuilder;
import io.grpc.inprocess.InProcessServerBuilder;
import io.grpc.stub.MetadataUtils;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What the rpc edge answers to input no service should see: bytes that are not the method's
 * request message get INVALID_ARGUMENT (not gRPC's UNKNOWN "Application error"), and a refusal
 * quoting a huge value keeps its description short enough for any client's header limit.
 */
class EdgeRefusalsTest {
    private static final Instant NOW = Instant.parse("2025-06-01T12:00:00Z");

    @TempDir
    Path dir;
    private EngineFixture engine;
    private Store store;
    private EventLoop loop;
    private Server server;
    private ManagedChannel channel;

    @BeforeEach
    void start() throws Exception {
        TestMembers keys = new TestMembers();
        engine = EngineFixture.found(dir, InstantSource.fixed(NOW), List.of(keys.member("alice", List.of("lab-a"))),
                List.of("lab-a"));
        store = engine.store();
        loop = engine.loop();
        String name = InProcessServerBuilder.generateName();
        InProcessServerBuilder builder = InProcessServerBuilder.forName(name);
        Services.register(builder, loop, store, Map.of("alice", Entry.sha256("token-alice")), Set.of(), null);
        server = builder.build().start();
        Metadata alice = new Metadata();
        alice.put(Caller.MEMBER, "alice");
        alice.put(Caller.TOKEN, "token-alice");
        channel = InProcessChannelBuilder.forName(name).intercept(MetadataUtils.newAttachHeadersInterceptor(alice))
                .build();
    }

    @AfterEach
    void stop() {
        channel.shutdownNow();
        server.shutdownNow();
        engine.close();
    }

    @Test
    void bytesThatAreNoRequestAreRefusedAsInvalidArgument() throws Exception {
        // Field 1 as a group whose end tag does not match: no GetJobRequest parses from it.
        Status unary = send(JobsGrpc.getGetJobMethod(), new byte[] {0x0b, 0x14});
        assertThat(unary.getCode()).as(unary.toString()).isEqualTo(Status.Code.INVALID_ARGUMENT);
        assertThat(unary.getDescription()).contains("request: not a valid coop.v1.Jobs/GetJob");

        // Truncated: a length-delimited field announcing more bytes than follow.
        Status stream = send(NodesGrpc.getConnectMethod(), new byte[] {0x0a, 0x7f, 0x01});
        assertThat(stream.getCode()).as(stream.toString()).isEqualTo(Status.Code.INVALID_ARGUMENT);

        // A message nested past protobuf's recursion limit.
        byte[] deep = new byte[0];
        for (int i = 0; i < 200; i++) {
            byte[] outer = new byte[deep.length + 3];
            outer[0] = 0x0a;
            outer[1] = (byte) (deep.length & 0x7f | 0x80);
            outer[2] = (byte) (deep.length >>> 7);
            System.arraycopy(deep, 0, outer, 3, deep.length);
            deep = outer;
        }
        Status nested = send(JobsGrpc.getListJobsMethod(), deep);
        assertThat(nested.getCode()).as(nested.toString()).isEqualTo(Status.Code.INVALID_ARGUMENT);

        // The same call with a good request still works.
        var jobs = JobsGrpc.newBlockingStub(channel).withDeadlineAfter(5, TimeUnit.SECONDS);
        assertThat(jobs.listJobs(ListJobsRequest.getDefaultInstance()).getJobsList()).isEmpty();
        StatusRuntimeException missing = catchThrowableOfType(StatusRuntimeException.class,
                () -> jobs.getJob(GetJobRequest.newBuilder().setJobId(42).build()));
        assertThat(missing.getStatus().getCode()).isEqualTo(Status.Code.NOT_FOUND);
    }

    @Test
    void aRefusalQuotingAHugeValueKeepsItsDescriptionShort() {
        var jobs = JobsGrpc.newBlockingStub(channel).withDeadlineAfter(5, TimeUnit.SECONDS);
        String huge = "x".repeat(1 << 20);
        StatusRuntimeException refused = catchThrowableOfType(StatusRuntimeException.class, () -> jobs.submit(
                SubmitRequest.newBuilder().setAccount(huge).setGpusPerNode(1).setCommand("true").build()));
        assertThat(refused.getStatus().getCode()).isIn(Status.Code.INVALID_ARGUMENT, Status.Code.PERMISSION_DENIED,
                Status.Code.NOT_FOUND);
        // Short whichever layer cuts it: the name rule quotes at most 40 characters, ShortRefusals the rest.
        assertThat(refused.getStatus().getDescription()).hasSizeLessThanOrEqualTo(ShortRefusals.MAX_DESCRIPTION)
                .startsWith("account: ");
    }

    @Test
    void shorteningKeepsShortDescriptionsAndNeverSplitsACharacter() {
        assertThat(ShortRefusals.shorten(Status.NOT_FOUND.withDescription("no job 7")).getDescription())
                .isEqualTo("no job 7");
        assertThat(ShortRefusals.shorten(Status.NOT_FOUND).getDescription()).isNull();
        String cutPlain = ShortRefusals.shorten(Status.INVALID_ARGUMENT.withDescription("y".repeat(5000)))
                .getDescription();
        assertThat(cutPlain).hasSizeLessThanOrEqualTo(ShortRefusals.MAX_DESCRIPTION).startsWith("yyy")
                .contains("more characters)");
        String emoji = "\uD83D\uDE00".repeat(1000);
        String cut = ShortRefusals.shorten(Status.INVALID_ARGUMENT.withDescription(emoji)).getDescription();
        assertThat(cut).hasSizeLessThanOrEqualTo(ShortRefusals.MAX_DESCRIPTION);
        // No lone surrogate: it would not survive encoding as UTF-8.
        assertThat(new String(cut.getBytes(java.nio.charset.StandardCharsets.UTF_8),
                java.nio.charset.StandardCharsets.UTF_8)).isEqualTo(cut);
    }

    private Status send(MethodDescriptor<?, ?> typed, byte[] body) throws Exception {
        MethodDescriptor<byte[], byte[]> raw = MethodDescriptor.<byte[], byte[]>newBuilder().setType(typed.getType())
                .setFullMethodName(typed.getFullMethodName()).setRequestMarshaller(BYTES)
                .setResponseMarshaller(BYTES).build();
        CompletableFuture<Status> done = new CompletableFuture<>();
        ClientCall<byte[], byte[]> call = channel.newCall(raw, CallOptions.DEFAULT.withDeadlineAfter(5,
                TimeUnit.SECONDS));
        call.start(new ClientCall.Listener<>() {
            @Override
            public void onClose(Status status, Metadata trailers) {
                done.complete(status);
            }
        }, new Metadata());
        call.request(10);
        call.sendMessage(body);
        call.halfClose();
        return done.get(10, TimeUnit.SECONDS);
    }

    private static final MethodDescriptor.Marshaller<byte[]> BYTES = RequestParsing.BYTES;
}
