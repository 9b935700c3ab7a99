package coop.scheduler.store;

import java.nio.ByteBuffer;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.List;

/**
 * Working folders shipped with jobs ({@code coop submit --workdir}), packed and named by the
 * sha256 of their bytes, in the store's {@code workdirs} column family: chunks of at most
 * {@link #CHUNK_BYTES} under {@code <digest>/<index>}, and under {@code <digest>} alone the size,
 * written last in the same synced batch, so a digest that is there is whole. Being in the store,
 * they are in its backups. A folder is immutable once stored and stored once, however many jobs
 * name it; nothing removes one yet.
 *
 * <p>Written outside the event loop: the engine never reads them, and a job may name a digest only
 * once it is here, so there is no order to keep with the loop's batches.
 */
public final class WorkdirBlobs {
    /** Largest chunk stored, and sent to an agent, at once. */
    public static final int CHUNK_BYTES = 1 << 20;

    private final Store store;

    public WorkdirBlobs(Store store) {
        this.store = store;
    }

    /** The stored folder's size in bytes, or -1 when it is not stored. */
    public long size(String digest) {
        byte[] v = store.getRaw(Store.Kind.WORKDIRS, Store.key(digest));
        return v == null ? -1 : ByteBuffer.wrap(v).getLong();
    }

    public boolean has(String digest) {
        return size(digest) >= 0;
    }

    /** How many chunks a stored folder of {@code size} bytes has. */
    public static int chunks(long size) {
        return (int) ((size + CHUNK_BYTES - 1) / CHUNK_BYTES);
    }

    /** One chunk of a stored folder, or null when there is none with that index. */
    public byte[] chunk(String digest, int index) {
        return store.getRaw(Store.Kind.WORKDIRS, Store.key(chunkKey(digest, index)));
    }

    /**
     * Stores a folder's bytes, given in pieces of any size, after checking that they are what
     * {@code digest} names; returns false, writing nothing, when it is already stored.
     *
     * @throws IllegalArgumentException when the bytes' sha256 is not {@code digest}
     */
    public boolean put(String digest, List<byte[]> pieces) {
        MessageDigest sha = sha256();
        long size = 0;
        for (byte[] p : pieces) {
            sha.update(p);
            size += p.length;
        }
        String actual = HexFormat.of().formatHex(sha.digest());
        if (!actual.equals(digest)) {
            throw new IllegalArgumentException("the bytes sent have sha256 " + actual + ", not " + digest);
        }
        if (has(digest)) {
            return false;
        }
        Batch batch = new Batch();
        ByteBuffer chunk = ByteBuffer.allocate((int) Math.min(CHUNK_BYTES, Math.max(1, size)));
        int index = 0;
        for (byte[] p : pieces) {
            int at = 0;
            while (at < p.length) {
                int n = Math.min(chunk.remaining(), p.length - at);
                chunk.put(p, at, n);
                at += n;
                if (!chunk.hasRemaining()) {
                    batch.putRaw(Store.Kind.WORKDIRS, chunkKey(digest, index++), chunk.array().clone());
                    chunk.clear();
                }
            }
        }
        if (chunk.position() > 0) {
            byte[] last = new byte[chunk.position()];
            System.arraycopy(chunk.array(), 0, last, 0, last.length);
            batch.putRaw(Store.Kind.WORKDIRS, chunkKey(digest, index), last);
        }
        batch.putRaw(Store.Kind.WORKDIRS, digest, ByteBuffer.allocate(Long.BYTES).putLong(size).array());
        store.commit(batch);
        return true;
    }

    private static String chunkKey(String digest, int index) {
        return digest + "/" + String.format("%08d", index);
    }

    public static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
