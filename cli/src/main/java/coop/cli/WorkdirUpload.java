package coop.cli;

import com.google.protobuf.ByteString;
import coop.v1.WorkdirChunk;
import coop.v1.WorkdirRef;
import coop.v1.WorkdirStat;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.ClientCallStreamObserver;
import io.grpc.stub.ClientResponseObserver;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * Ships a folder for {@code coop submit --workdir}: packs it, asks the scheduler whether it has
 * that digest already (and whether it is within the policy's {@code max_workdir_bytes}, refused
 * before a byte is sent), and sends it in chunks of 1 MiB only when it has not. Says what it did on
 * {@code err}, so that {@code --json} output stays one object.
 */
final class WorkdirUpload {
    static final int CHUNK_BYTES = 1 << 20;
    /** How long an upload may take in all. */
    static final long UPLOAD_DEADLINE_S = 600;

    private WorkdirUpload() {
    }

    /** Packs and stores {@code folder}; returns its digest for SubmitRequest.workdir. */
    static String ship(Client client, Path folder, PrintWriter err) {
        WorkdirPack pack;
        try {
            pack = WorkdirPack.of(folder, Path.of(System.getProperty("java.io.tmpdir")), line -> {
                err.println(line);
                err.flush();
            });
        } catch (IOException e) {
            throw new CliException("--workdir: cannot pack " + folder + ": " + e.getMessage(), e);
        }
        try {
            String said = "packed " + pack.files() + " files (" + WorkdirPack.mib(pack.fileBytes()) + ") into "
                    + WorkdirPack.mib(pack.bytes()) + ", sha256 " + pack.digest().substring(0, 12);
            WorkdirStat stat = client.jobs().statWorkdir(WorkdirRef.newBuilder().setDigest(pack.digest())
                    .setSizeBytes(pack.bytes()).build());
            if (stat.getStored()) {
                err.println(said + "; already stored on the scheduler");
            } else {
                upload(client, pack);
                err.println(said + "; stored on the scheduler");
            }
            err.flush();
            return pack.digest();
        } finally {
            try {
                Files.deleteIfExists(pack.file());
            } catch (IOException ignored) {
                // A temporary file left behind is the system's to clean.
            }
        }
    }

    private static void upload(Client client, WorkdirPack pack) {
        CompletableFuture<WorkdirStat> reply = new CompletableFuture<>();
        Object ready = new Object();
        ClientResponseObserver<WorkdirChunk, WorkdirStat> answer = new ClientResponseObserver<>() {
            @Override
            public void beforeStart(ClientCallStreamObserver<WorkdirChunk> call) {
                call.setOnReadyHandler(() -> {
                    synchronized (ready) {
                        ready.notifyAll();
                    }
                });
            }

            @Override
            public void onNext(WorkdirStat s) {
                reply.complete(s);
            }

            @Override
            public void onError(Throwable t) {
                reply.completeExceptionally(t);
                synchronized (ready) {
                    ready.notifyAll();
                }
            }

            @Override
            public void onCompleted() {
            }
        };
        ClientCallStreamObserver<WorkdirChunk> call = (ClientCallStreamObserver<WorkdirChunk>) client.jobsAsync()
                .withDeadlineAfter(UPLOAD_DEADLINE_S, TimeUnit.SECONDS).uploadWorkdir(answer);
        try (InputStream in = Files.newInputStream(pack.file())) {
            boolean first = true;
            while (!reply.isDone()) {
                byte[] chunk = in.readNBytes(CHUNK_BYTES);
                if (chunk.length == 0 && !first) {
                    break;
                }
                // Only as fast as the scheduler takes them: the folder is not held in memory here.
                synchronized (ready) {
                    while (!call.isReady() && !reply.isDone()) {
                        ready.wait(1000);
                    }
                }
                WorkdirChunk.Builder b = WorkdirChunk.newBuilder().setData(ByteString.copyFrom(chunk));
                if (first) {
                    b.setDigest(pack.digest()).setSizeBytes(pack.bytes());
                    first = false;
                }
                call.onNext(b.build());
            }
            call.onCompleted();
            reply.get(UPLOAD_DEADLINE_S, TimeUnit.SECONDS);
        } catch (IOException e) {
            call.cancel("cannot read the packed folder", e);
            throw new CliException("--workdir: cannot read the packed folder: " + e.getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            call.cancel("interrupted", e);
            throw new CliException("--workdir: interrupted while uploading");
        } catch (ExecutionException e) {
            if (e.getCause() instanceof StatusRuntimeException s) {
                throw s;
            }
            throw new CliException("--workdir: upload failed: " + e.getCause(), e.getCause());
        } catch (TimeoutException e) {
            throw new CliException("--workdir: the scheduler did not confirm the upload within "
                    + UPLOAD_DEADLINE_S + " s");
        }
    }
}
