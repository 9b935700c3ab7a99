package coop.agent;

import coop.v1.FetchWorkdirRequest;
import coop.v1.NodesGrpc;
import coop.v1.WorkdirChunk;
import io.grpc.Channel;
import io.grpc.StatusRuntimeException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Iterator;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.zip.GZIPInputStream;

/**
 * Working folders shipped with jobs ({@code coop submit --workdir}) on this node: fetched from the
 * scheduler once per digest into {@code <workDir>/workdirs/<digest>.tar.gz}, checked against the
 * digest before they are kept (so the tasks of an array, and later attempts, fetch nothing), and
 * unpacked into each rank's own folder before its command starts. Called on the spawner threads,
 * never the agent's loop, so a long fetch delays no heartbeat.
 */
final class Workdirs {
    /** How long one fetch may take before the rank fails instead. */
    static final long FETCH_DEADLINE_S = 600;

    /** Where a folder's bytes come from: the scheduler, or a test's own. */
    @FunctionalInterface
    interface Source {
        /** Writes the packed folder {@code digest} of job {@code jobId} to {@code out}. */
        void fetch(long jobId, String digest, OutputStream out) throws IOException;
    }

    /**
     * The job's folder could not be fetched or unpacked: its rank fails at once with this reason,
     * in words its submitter reads in {@code coop job}.
     */
    static final class Unavailable extends IOException {
        Unavailable(String message) {
            super(message);
        }
    }

    private final Path cache;
    private final Source source;
    private final ConcurrentHashMap<String, Object> fetching = new ConcurrentHashMap<>();

    Workdirs(Path workDir, Source source) {
        this.cache = workDir.resolve("workdirs");
        this.source = source;
    }

    /** Folders fetched from the scheduler over {@code channel}, as the node the channel speaks for. */
    static Source from(Channel channel) {
        return (jobId, digest, out) -> {
            try {
                Iterator<WorkdirChunk> chunks = NodesGrpc.newBlockingStub(channel)
                        .withDeadlineAfter(FETCH_DEADLINE_S, TimeUnit.SECONDS)
                        .fetchWorkdir(FetchWorkdirRequest.newBuilder().setJobId(jobId).setDigest(digest).build());
                while (chunks.hasNext()) {
                    chunks.next().getData().writeTo(out);
                }
            } catch (StatusRuntimeException e) {
                throw new IOException("the scheduler did not send it: " + e.getStatus().getCode() + " "
                        + e.getStatus().getDescription(), e);
            }
        };
    }

    /**
     * Unpacks job {@code jobId}'s folder {@code digest} into {@code into}, fetching it first unless
     * this node already has it.
     *
     * @param owner the rank's user, who gets what is unpacked; null where that is the agent's own
     * @throws Unavailable when it cannot be fetched, does not match its digest, or is refused unpacking
     */
    WorkdirArchive.Unpacked unpack(long jobId, String digest, Path into, LocalUser owner) throws Unavailable {
        Path packed = cached(jobId, digest);
        try (InputStream in = new GZIPInputStream(Files.newInputStream(packed), 64 * 1024)) {
            return WorkdirArchive.unpack(in, into, owner);
        } catch (IOException e) {
            throw new Unavailable("cannot unpack the job's workdir " + digest.substring(0, 12) + ": " + e.getMessage());
        }
    }

    private Path cached(long jobId, String digest) throws Unavailable {
        if (!digest.matches("[0-9a-f]{64}")) {
            throw new Unavailable("the job's workdir '" + digest + "' is no sha256");
        }
        Path packed = cache.resolve(digest + ".tar.gz");
        // One fetch per folder at a time: the ranks of an array's tasks wait for the first and share it.
        synchronized (fetching.computeIfAbsent(digest, d -> new Object())) {
            if (Files.isRegularFile(packed)) {
                return packed;
            }
            Path partial = null;
            try {
                Files.createDirectories(cache);
                partial = Files.createTempFile(cache, digest, ".part");
                MessageDigest sha = MessageDigest.getInstance("SHA-256");
                try (OutputStream file = Files.newOutputStream(partial);
                     OutputStream out = new java.security.DigestOutputStream(file, sha)) {
                    source.fetch(jobId, digest, out);
                }
                String got = HexFormat.of().formatHex(sha.digest());
                if (!got.equals(digest)) {
                    throw new IOException("what came has sha256 " + got);
                }
                Files.move(partial, packed, StandardCopyOption.ATOMIC_MOVE);
                return packed;
            } catch (IOException e) {
                throw new Unavailable("cannot fetch the job's workdir " + digest.substring(0, 12) + ": "
                        + e.getMessage());
            } catch (NoSuchAlgorithmException e) {
                throw new IllegalStateException(e);
            } finally {
                if (partial != null) {
                    try {
                        Files.deleteIfExists(partial);
                    } catch (IOException ignored) {
                        // A leftover part is overwritten by no one and costs only its space.
                    }
                }
            }
        }
    }
}
