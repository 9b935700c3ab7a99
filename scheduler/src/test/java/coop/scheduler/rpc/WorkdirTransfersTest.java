package coop.scheduler.rpc;

import static coop.scheduler.rpc.RpcFixture.Who.ANONYMOUS;
import static coop.scheduler.rpc.RpcFixture.Who.NODE_SELF;
import static coop.scheduler.rpc.RpcFixture.Who.RESEARCHER;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.protobuf.ByteString;
import coop.scheduler.domain.Params;
import coop.scheduler.store.Store;
import coop.scheduler.store.WorkdirBlobs;
import coop.v1.FetchWorkdirRequest;
import coop.v1.GetJobRequest;
import coop.v1.JobsGrpc;
import coop.v1.NodesGrpc;
import coop.v1.SubmitRequest;
import coop.v1.WorkdirChunk;
import coop.v1.WorkdirRef;
import coop.v1.WorkdirStat;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.StreamObserver;
import java.nio.file.Path;
import java.util.HexFormat;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/**
 * Shipped working folders at the scheduler's edge: a member's upload is checked against its digest
 * and the policy's max_workdir_bytes and stored once however often it is sent; a submit may name
 * only a stored folder; and no node but one running the job's rank may fetch it.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class WorkdirTransfersTest {
    private RpcFixture f;

    @BeforeAll
    void start(@TempDir Path dir) throws Exception {
        f = new RpcFixture(dir);
    }

    @AfterAll
    void stop() throws Exception {
        f.close();
    }

    /** A packed folder as the client sends it: gzip-compressed, here of {@code n} random bytes (a little over n). */
    private static byte[] bytes(int n, long seed) {
        byte[] b = new byte[n];
        new Random(seed).nextBytes(b);
        return gzip(b);
    }

    private static byte[] gzip(byte[] b) {
        var out = new java.io.ByteArrayOutputStream();
        try (var z = new java.util.zip.GZIPOutputStream(out)) {
            z.write(b);
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
        return out.toByteArray();
    }

    private static String sha256(byte[] b) {
        return HexFormat.of().formatHex(WorkdirBlobs.sha256().digest(b));
    }

    private int records() {
        AtomicInteger n = new AtomicInteger();
        f.store.scanRaw(Store.Kind.WORKDIRS, (k, v) -> n.incrementAndGet());
        return n.get();
    }

    /** Uploads {@code data} in chunks of 1 MiB, the first naming {@code digest} and {@code size}. */
    private WorkdirStat upload(RpcFixture.Who who, String digest, long size, byte[] data) throws Exception {
        CompletableFuture<WorkdirStat> reply = new CompletableFuture<>();
        StreamObserver<WorkdirChunk> up = f.as(who, JobsGrpc.newStub(f.channel)).uploadWorkdir(new StreamObserver<>() {
            @Override
            public void onNext(WorkdirStat s) {
                reply.complete(s);
            }

            @Override
            public void onError(Throwable t) {
                reply.completeExceptionally(t);
            }

            @Override
            public void onCompleted() {
            }
        });
        for (int at = 0; at == 0 || at < data.length; at += WorkdirBlobs.CHUNK_BYTES) {
            WorkdirChunk.Builder c = WorkdirChunk.newBuilder()
                    .setData(ByteString.copyFrom(data, at, Math.min(WorkdirBlobs.CHUNK_BYTES, data.length - at)));
            if (at == 0) {
                c.setDigest(digest).setSizeBytes(size);
            }
            up.onNext(c.build());
        }
        up.onCompleted();
        try {
            return reply.get(30, TimeUnit.SECONDS);
        } catch (ExecutionException e) {
            throw (StatusRuntimeException) e.getCause();
        }
    }

    private WorkdirStat stat(String digest, long size) {
        return f.as(RESEARCHER, JobsGrpc.newBlockingStub(f.channel))
                .statWorkdir(WorkdirRef.newBuilder().setDigest(digest).setSizeBytes(size).build());
    }

    @Test
    void aFolderIsStoredOnceAndAJobMayNameIt() throws Exception {
        byte[] data = bytes(2 * WorkdirBlobs.CHUNK_BYTES + 123, 1);
        String digest = sha256(data);
        WorkdirStat before = stat(digest, data.length);
        assertThat(before.getStored()).isFalse();
        assertThat(before.getMaxBytes()).isEqualTo(Params.DEFAULT_MAX_WORKDIR_BYTES);

        int empty = records();
        assertThat(upload(RESEARCHER, digest, data.length, data).getStored()).isTrue();
        int once = records();
        // Three chunks and the size.
        assertThat(once - empty).isEqualTo(4);
        assertThat(stat(digest, data.length).getStored()).isTrue();
        assertThat(upload(RESEARCHER, digest, data.length, data).getStored()).isTrue();
        assertThat(records()).as("the same folder sent again").isEqualTo(once);

        var jobs = f.as(RESEARCHER, JobsGrpc.newBlockingStub(f.channel));
        long id = jobs.submit(SubmitRequest.newBuilder().setAccount("lab-a").setGpusPerNode(1).setGpuModel("H100")
                .setCommand("python3 train.py").setWorkdir(digest).build()).getJobId();
        assertThat(jobs.getJob(GetJobRequest.newBuilder().setJobId(id).build()).getWorkdir()).isEqualTo(digest);

        // The job waits (no node has H100s): no node runs a rank of it, so none may read its folder.
        StatusRuntimeException fetch = RpcFixture.outcome(() -> f.as(NODE_SELF, NodesGrpc.newBlockingStub(f.channel))
                .fetchWorkdir(FetchWorkdirRequest.newBuilder().setJobId(id).setDigest(digest).build()).next());
        assertThat(fetch.getStatus().getCode()).isEqualTo(Status.Code.PERMISSION_DENIED);
        assertThat(fetch.getStatus().getDescription()).contains("runs no rank of job " + id);
    }

    @Test
    void aFolderOverTheCapOrNotMatchingItsDigestIsRefusedAndNothingStored() {
        int before = records();
        long over = Params.DEFAULT_MAX_WORKDIR_BYTES + 1;
        StatusRuntimeException stat = RpcFixture.outcome(() -> stat(sha256(new byte[] {1}), over));
        assertThat(stat.getStatus().getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT);
        assertThat(stat.getStatus().getDescription()).startsWith("workdir: ").contains("max_workdir_bytes");

        byte[] data = bytes(1000, 2);
        StatusRuntimeException declared = RpcFixture.outcome(() -> upload(RESEARCHER, sha256(data), over, data));
        assertThat(declared.getStatus().getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT);
        assertThat(declared.getStatus().getDescription()).startsWith("workdir: ").contains("max_workdir_bytes");

        StatusRuntimeException wrong = RpcFixture.outcome(() -> upload(RESEARCHER, sha256(bytes(1000, 3)), data.length, data));
        assertThat(wrong.getStatus().getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT);
        assertThat(wrong.getStatus().getDescription()).startsWith("workdir: the bytes sent have sha256");

        StatusRuntimeException anonymous = RpcFixture.outcome(() -> upload(ANONYMOUS, sha256(data), data.length, data));
        assertThat(anonymous.getStatus().getCode()).isEqualTo(Status.Code.UNAUTHENTICATED);
        assertThat(records()).isEqualTo(before);
    }

    @Test
    void aFolderThatIsNotGzipOrUnpacksFarBeyondTheCapIsRefused() {
        byte[] zeros = gzip(new byte[1 << 20]);
        WorkdirTransfers.unpackedWithin(List.of(zeros), 1 << 20);
        assertThatThrownBy(() -> WorkdirTransfers.unpackedWithin(List.of(zeros), (1 << 20) - 1))
                .hasMessageStartingWith("workdir: the folder unpacks to more than");
        // Split anywhere into chunks, as it arrives.
        WorkdirTransfers.unpackedWithin(List.of(java.util.Arrays.copyOf(zeros, 10),
                java.util.Arrays.copyOfRange(zeros, 10, zeros.length)), 1 << 20);
        byte[] plain = new byte[1000];
        new Random(4).nextBytes(plain);
        StatusRuntimeException refused = RpcFixture.outcome(() -> upload(RESEARCHER, sha256(plain), 1000, plain));
        assertThat(refused.getStatus().getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT);
        assertThat(refused.getStatus().getDescription()).startsWith("workdir: the bytes sent are not a gzip");
    }

    @Test
    void aSubmitNamingAFolderNotStoredOrNoDigestIsRefusedNamingTheField() throws Exception {
        var jobs = f.as(RESEARCHER, JobsGrpc.newBlockingStub(f.channel));
        for (List<Object> c : List.of(List.<Object>of("a".repeat(64), Status.Code.FAILED_PRECONDITION),
                List.<Object>of("../etc", Status.Code.INVALID_ARGUMENT),
                List.<Object>of("A".repeat(64), Status.Code.INVALID_ARGUMENT))) {
            int jobsBefore = f.<Integer>call((s, tx) -> s.jobCount());
            StatusRuntimeException e = RpcFixture.outcome(() -> jobs.submit(SubmitRequest.newBuilder()
                    .setAccount("lab-a").setGpusPerNode(1).setCommand("true").setWorkdir((String) c.get(0)).build()));
            assertThat(e.getStatus().getCode()).as((String) c.get(0)).isEqualTo(c.get(1));
            assertThat(e.getStatus().getDescription()).startsWith("workdir: ");
            assertThat(f.<Integer>call((s, tx) -> s.jobCount())).isEqualTo(jobsBefore);
        }
    }
}
