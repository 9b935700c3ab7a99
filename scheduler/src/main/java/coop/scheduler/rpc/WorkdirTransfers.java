package coop.scheduler.rpc;

import com.google.protobuf.ByteString;
import coop.scheduler.domain.CoopException;
import coop.scheduler.domain.JobSpec;
import coop.scheduler.engine.EventLoop;
import coop.scheduler.store.WorkdirBlobs;
import coop.v1.FetchWorkdirRequest;
import coop.v1.WorkdirChunk;
import coop.v1.WorkdirRef;
import coop.v1.WorkdirStat;
import io.grpc.Status;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

/**
 * The edge of shipped working folders ({@code coop submit --workdir}): members ask whether one is
 * stored and upload it, checked against its digest and the policy's {@code max_workdir_bytes};
 * agents fetch the one of a job they are to start a rank of. The bytes go through {@link
 * WorkdirBlobs}, off the event loop, which only answers the cap and who may fetch.
 */
final class WorkdirTransfers {
    private final EventLoop loop;
    private final WorkdirBlobs blobs;
    /** Writes uploads and reads fetches: a synced write of 64 MiB is no work for gRPC's own threads. */
    private final ExecutorService io = Executors.newFixedThreadPool(2, task -> {
        Thread t = new Thread(task, "coop-workdirs");
        t.setDaemon(true);
        return t;
    });

    WorkdirTransfers(EventLoop loop, WorkdirBlobs blobs) {
        this.loop = loop;
        this.blobs = blobs;
    }

    /** Whether {@code digest} names a stored folder; refused with the rule when the digest is not one. */
    boolean stored(String digest) {
        return blobs.has(JobSpec.checkedWorkdir(digest));
    }

    /** The policy's cap, for a member who may submit jobs, who alone may ship folders for them. */
    private CompletableFuture<Long> cap(String member) {
        return loop.call((s, tx) -> {
            coop.scheduler.domain.Member m = member == null ? null : s.member(member);
            if (m == null || !m.active()) {
                throw new CoopException(CoopException.Kind.UNAUTHENTICATED,
                        "only members may ship folders: give --identity");
            }
            if (!m.has(coop.scheduler.domain.Role.RESEARCHER)) {
                throw CoopException.denied("member " + member + " may not submit jobs, so may not ship folders");
            }
            return s.policy().params().maxWorkdirBytes();
        });
    }

    private static CoopException overCap(long size, long cap) {
        return CoopException.invalid("workdir", size + " bytes packed is over the policy's max_workdir_bytes of "
                + cap + " (exclude what the job does not need in .coopignore, or vote a larger cap)");
    }

    void stat(String member, WorkdirRef r, StreamObserver<WorkdirStat> out) {
        Replies.unary(cap(member).thenApply(cap -> {
            boolean stored = stored(r.getDigest());
            if (!stored && r.getSizeBytes() > cap) {
                throw overCap(r.getSizeBytes(), cap);
            }
            return WorkdirStat.newBuilder().setDigest(r.getDigest()).setStored(stored).setMaxBytes(cap).build();
        }), out, x -> x);
    }

    /**
     * How many times the cap a folder may hold once unpacked: source and text compress a few times
     * over; a few MiB that unpack to terabytes (a "zip bomb") would fill every node that runs the job.
     */
    static final long EXPANSION = 16;

    /**
     * Refuses a folder that is not gzip-compressed, or that unpacks to more than {@code limit}
     * bytes, reading no further than that.
     */
    static void unpackedWithin(List<byte[]> pieces, long limit) {
        java.util.Enumeration<java.io.InputStream> streams = java.util.Collections.enumeration(
                pieces.stream().map(p -> (java.io.InputStream) new java.io.ByteArrayInputStream(p)).toList());
        long total = 0;
        try (java.io.InputStream in = new java.util.zip.GZIPInputStream(new java.io.SequenceInputStream(streams))) {
            byte[] buffer = new byte[64 * 1024];
            for (int n; (n = in.read(buffer)) > 0; ) {
                total += n;
                if (total > limit) {
                    throw CoopException.invalid("workdir", "the folder unpacks to more than " + limit + " bytes, "
                            + EXPANSION + " times the policy's max_workdir_bytes");
                }
            }
        } catch (java.io.IOException e) {
            throw CoopException.invalid("workdir", "the bytes sent are not a gzip-compressed folder: " + e.getMessage());
        }
    }

    StreamObserver<WorkdirChunk> upload(String member, StreamObserver<WorkdirStat> out) {
        return new StreamObserver<>() {
            private final List<byte[]> pieces = new ArrayList<>();
            private String digest;
            private long declared;
            private long received;
            private long cap;
            private boolean failed;

            @Override
            public void onNext(WorkdirChunk c) {
                if (failed) {
                    return;
                }
                try {
                    if (digest == null) {
                        cap = cap(member).join();
                        digest = JobSpec.checkedWorkdir(c.getDigest());
                        if (digest.isEmpty()) {
                            throw CoopException.invalid("workdir", "the first chunk must name the folder's sha256");
                        }
                        declared = c.getSizeBytes();
                        if (declared < 0 || declared > cap) {
                            throw overCap(declared, cap);
                        }
                    }
                    received += c.getData().size();
                    if (received > declared) {
                        throw CoopException.invalid("workdir", "more bytes sent than the " + declared + " declared");
                    }
                    pieces.add(c.getData().toByteArray());
                } catch (RuntimeException e) {
                    failed = true;
                    pieces.clear();
                    out.onError(Replies.status(e instanceof java.util.concurrent.CompletionException
                            && e.getCause() != null ? e.getCause() : e));
                }
            }

            @Override
            public void onError(Throwable t) {
                pieces.clear();
            }

            @Override
            public void onCompleted() {
                if (failed) {
                    return;
                }
                if (digest == null || received != declared) {
                    out.onError(Replies.status(CoopException.invalid("workdir", digest == null ? "nothing was sent"
                            : received + " bytes sent, " + declared + " declared")));
                    return;
                }
                String d = digest;
                long size = received;
                Replies.unary(CompletableFuture.supplyAsync(() -> {
                    try {
                        unpackedWithin(pieces, EXPANSION * cap);
                        blobs.put(d, pieces);
                    } catch (IllegalArgumentException e) {
                        throw CoopException.invalid("workdir", e.getMessage());
                    } finally {
                        pieces.clear();
                    }
                    return WorkdirStat.newBuilder().setDigest(d).setStored(true).setMaxBytes(cap).build();
                }, io), out, x -> x);
            }
        };
    }

    /**
     * Streams a job's folder to a node that runs one of its ranks, a chunk at a time as the call can
     * take them, so a slow agent holds one chunk in memory, not the folder.
     */
    void fetch(String node, String token, FetchWorkdirRequest r, StreamObserver<WorkdirChunk> out) {
        ServerCallStreamObserver<WorkdirChunk> call = (ServerCallStreamObserver<WorkdirChunk>) out;
        Sender sender = new Sender(call);
        // gRPC takes the handler only while the call is being set up, before the loop has answered.
        call.setOnReadyHandler(() -> io.execute(sender::send));
        loop.call((s, tx) -> s.workdirForNode(node, token, r.getJobId(), r.getDigest())).whenComplete((digest, e) -> {
            if (e != null) {
                out.onError(Replies.status(e));
                return;
            }
            long size = blobs.size(digest);
            if (size < 0) {
                out.onError(Status.NOT_FOUND.withDescription("folder " + digest + " is not stored")
                        .asRuntimeException());
                return;
            }
            sender.begin(digest, WorkdirBlobs.chunks(size));
            io.execute(sender::send);
        });
    }

    /** Sends a folder's chunks in order while the call is ready for more. */
    private final class Sender {
        private final ServerCallStreamObserver<WorkdirChunk> call;
        private String digest;
        private int chunks;
        private int next;
        private boolean done;

        Sender(ServerCallStreamObserver<WorkdirChunk> call) {
            this.call = call;
        }

        synchronized void begin(String digest, int chunks) {
            this.digest = digest;
            this.chunks = chunks;
        }

        synchronized void send() {
            while (digest != null && !done && call.isReady() && !call.isCancelled()) {
                if (next == chunks) {
                    done = true;
                    call.onCompleted();
                    return;
                }
                byte[] bytes = blobs.chunk(digest, next);
                if (bytes == null) {
                    done = true;
                    call.onError(Status.DATA_LOSS.withDescription("chunk " + next + " of folder " + digest
                            + " is missing").asRuntimeException());
                    return;
                }
                call.onNext(WorkdirChunk.newBuilder().setData(ByteString.copyFrom(bytes)).build());
                next++;
            }
        }
    }
}
