package coop.scheduler.store;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.BiConsumer;
import org.rocksdb.Checkpoint;
import org.rocksdb.ColumnFamilyDescriptor;
import org.rocksdb.ColumnFamilyHandle;
import org.rocksdb.ColumnFamilyOptions;
import org.rocksdb.DBOptions;
import org.rocksdb.RocksDB;
import org.rocksdb.RocksDBException;
import org.rocksdb.RocksIterator;
import org.rocksdb.WriteBatch;
import org.rocksdb.WriteOptions;

/**
 * The scheduler's durable state in RocksDB: one column family per kind of record, values as
 * JSON. Every change goes through {@link #commit(Batch)}, one WriteBatch written with
 * {@code sync=true}, so a change is on disk before anyone is told it happened.
 */
public final class Store implements AutoCloseable {

    /** Kinds of record, one column family each. */
    public enum Kind {
        META, JOBS,
        /** Enrolled nodes, by name. */
        NODES,
        /** The hash-chained ledger, key = sequence number, value = the entry's canonical bytes. */
        LEDGER,
        /** Working folders shipped with jobs, by digest: see {@link WorkdirBlobs}. */
        WORKDIRS,
        /** The dashboard's usage samples, by time: a bounded view of the past, not state. */
        HISTORY,
        /**
         * Allocation cycles recorded for audit, by the sequence number of their ledger entry: the
         * allocator's snapshot and decisions as canonical JSON, whose hashes the entry holds.
         */
        CYCLES;

        byte[] familyName() {
            return name().toLowerCase().getBytes(StandardCharsets.UTF_8);
        }
    }

    static {
        RocksDB.loadLibrary();
    }

    /** The version of {@link #encode}'s format, first in every encoded batch. */
    private static final int BATCH_FORMAT = 0x436f4231;

    private final ObjectMapper json = new ObjectMapper()
            .configure(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES, false);
    private final DBOptions options;
    private final ColumnFamilyOptions familyOptions;
    private final RocksDB db;
    private final Map<Kind, ColumnFamilyHandle> families = new EnumMap<>(Kind.class);
    private final List<ColumnFamilyHandle> handles = new ArrayList<>();
    private final WriteOptions syncWrites = new WriteOptions().setSync(true);
    /** The data directory this store lives in (under {@code db/}). */
    private final Path dataDir;
    private final AtomicLong syncs = new AtomicLong();
    private final AtomicLong records = new AtomicLong();

    /** Synced WriteBatches written since the store opened, and the records they held: group commit at work. */
    public record Counters(long syncs, long records) {
    }

    /** Told of each synced WriteBatch {@link #commit} writes: its records, and the time to encode, write and fsync it. */
    @FunctionalInterface
    public interface CommitListener {
        void committed(int records, long nanos);
    }

    private volatile CommitListener commitListener = (records, nanos) -> {
    };
    /** Where commits go on a replica ({@link #replicateThrough}); null: written here. */
    private volatile java.util.function.Consumer<byte[]> replicated;

    private Store(Path dataDir, boolean readOnly) throws RocksDBException {
        this.dataDir = dataDir;
        Path dir = dataDir.resolve("db");
        familyOptions = new ColumnFamilyOptions();
        options = new DBOptions().setCreateIfMissing(!readOnly).setCreateMissingColumnFamilies(!readOnly);
        List<ColumnFamilyDescriptor> descriptors = new ArrayList<>();
        descriptors.add(new ColumnFamilyDescriptor(RocksDB.DEFAULT_COLUMN_FAMILY, familyOptions));
        List<Kind> opened = new ArrayList<>();
        List<String> present = new ArrayList<>();
        if (readOnly) {
            // A store written before a kind existed lacks its family, which a read-only open cannot add.
            try (org.rocksdb.Options listing = new org.rocksdb.Options()) {
                RocksDB.listColumnFamilies(listing, dir.toString())
                        .forEach(f -> present.add(new String(f, StandardCharsets.UTF_8)));
            }
        }
        for (Kind k : Kind.values()) {
            if (!readOnly || present.contains(new String(k.familyName(), StandardCharsets.UTF_8))) {
                descriptors.add(new ColumnFamilyDescriptor(k.familyName(), familyOptions));
                opened.add(k);
            }
        }
        if (readOnly) {
            db = RocksDB.openReadOnly(options, dir.toString(), descriptors, handles);
        } else {
            db = RocksDB.open(options, dir.toString(), descriptors, handles);
        }
        for (int i = 0; i < opened.size(); i++) {
            families.put(opened.get(i), handles.get(i + 1));
        }
    }

    /** Opens (creating if needed) the store under {@code dataDir/db}. */
    public static Store open(Path dataDir) {
        try {
            Files.createDirectories(dataDir.resolve("db"));
            return new Store(dataDir, false);
        } catch (RocksDBException e) {
            throw new IllegalStateException("cannot open the store in " + dataDir + ": " + e.getMessage(), e);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create " + dataDir, e);
        }
    }

    /**
     * Opens an existing store for reading only; works beside a running scheduler, and sees
     * what it had written when this opened.
     */
    public static Store openReadOnly(Path dataDir) {
        if (!exists(dataDir)) {
            throw new IllegalStateException(dataDir + " holds no coop data (no " + dataDir.resolve("db") + ")");
        }
        try {
            return new Store(dataDir, true);
        } catch (RocksDBException e) {
            throw new IllegalStateException("cannot open the store in " + dataDir + ": " + e.getMessage(), e);
        }
    }

    /** Whether {@code dataDir} holds a store. */
    public static boolean exists(Path dataDir) {
        return Files.isDirectory(dataDir.resolve("db")) && Files.exists(dataDir.resolve("db").resolve("CURRENT"));
    }

    /** The data directory this store was opened in. */
    public Path dataDir() {
        return dataDir;
    }

    /**
     * Writes a RocksDB checkpoint of the store as {@code target/db}, making {@code target} a data
     * directory of its own; {@code target/db} must not exist yet. RocksDB flushes the memtables and
     * hard-links the live files (it copies them when {@code target} is on another filesystem). A
     * batch is in the copy whole or not at all; a caller that wants the cut at a known point keeps
     * writers out while this runs.
     */
    public void checkpoint(Path target) {
        try (Checkpoint checkpoint = Checkpoint.create(db)) {
            checkpoint.createCheckpoint(target.resolve("db").toString());
        } catch (RocksDBException e) {
            throw new IllegalStateException("checkpoint into " + target + " failed: " + e.getMessage(), e);
        }
    }

    /** Who is told of each commit (metrics); called on the committing thread, so it must be quick. */
    public void onCommit(CommitListener listener) {
        this.commitListener = java.util.Objects.requireNonNull(listener, "listener");
    }

    public Batch batch() {
        return new Batch();
    }

    /**
     * Sends every batch {@link #commit} is given, encoded ({@link #encode}), through {@code log}
     * instead of writing it here: a replicated log that returns once a majority of replicas holds
     * the batch and it is applied to this store ({@link #apply}); it throws when it could not
     * (leadership lost, no majority), and then nothing was written here. Null writes here again.
     */
    public void replicateThrough(java.util.function.Consumer<byte[]> log) {
        this.replicated = log;
    }

    /**
     * Writes the batch atomically and fsyncs it before returning; on a replica, through the
     * replicated log ({@link #replicateThrough}).
     */
    public void commit(Batch batch) {
        if (batch.isEmpty()) {
            return;
        }
        java.util.function.Consumer<byte[]> log = replicated;
        if (log != null) {
            log.accept(encode(batch));
            return;
        }
        long started = System.nanoTime();
        try (WriteBatch wb = new WriteBatch()) {
            for (Batch.Put p : batch.puts()) {
                if (p.value() == null) {
                    wb.delete(families.get(p.kind()), p.key());
                    continue;
                }
                byte[] value = p.value() instanceof byte[] raw ? raw : json.writeValueAsBytes(p.value());
                wb.put(families.get(p.kind()), p.key(), value);
            }
            db.write(syncWrites, wb);
            syncs.incrementAndGet();
            records.addAndGet(batch.puts().size());
            commitListener.committed(batch.puts().size(), System.nanoTime() - started);
        } catch (RocksDBException | IOException e) {
            throw new IllegalStateException("store write failed: " + e.getMessage(), e);
        }
    }

    /** One record of an encoded batch: its kind, key, and value as stored (null: deleted). */
    public record Record(Kind kind, byte[] key, byte[] value) {
    }

    /**
     * The batch as bytes another replica can apply ({@link #apply}): each record's kind, key and
     * value as this store would write it (JSON, or raw bytes as given).
     */
    public byte[] encode(Batch batch) {
        try {
            java.io.ByteArrayOutputStream bytes = new java.io.ByteArrayOutputStream();
            java.io.DataOutputStream out = new java.io.DataOutputStream(bytes);
            out.writeInt(BATCH_FORMAT);
            out.writeInt(batch.puts().size());
            for (Batch.Put p : batch.puts()) {
                out.writeByte(p.kind().ordinal());
                out.writeInt(p.key().length);
                out.write(p.key());
                if (p.value() == null) {
                    out.writeInt(-1);
                } else {
                    byte[] value = p.value() instanceof byte[] raw ? raw : json.writeValueAsBytes(p.value());
                    out.writeInt(value.length);
                    out.write(value);
                }
            }
            out.flush();
            return bytes.toByteArray();
        } catch (IOException e) {
            throw new IllegalStateException("cannot encode a batch: " + e.getMessage(), e);
        }
    }

    /**
     * The records of an encoded batch, in order.
     *
     * @throws IllegalArgumentException when the bytes are not a batch this version wrote
     */
    public static List<Record> decode(byte[] encoded) {
        try {
            java.io.DataInputStream in = new java.io.DataInputStream(new java.io.ByteArrayInputStream(encoded));
            if (in.readInt() != BATCH_FORMAT) {
                throw new IllegalArgumentException("not an encoded batch of this version");
            }
            int n = in.readInt();
            if (n < 0 || n > encoded.length) {
                throw new IllegalArgumentException("an encoded batch of " + n + " records");
            }
            List<Record> out = new ArrayList<>(n);
            Kind[] kinds = Kind.values();
            for (int i = 0; i < n; i++) {
                int kind = in.readUnsignedByte();
                if (kind >= kinds.length) {
                    throw new IllegalArgumentException("record " + i + " has unknown kind " + kind);
                }
                byte[] key = new byte[length(in, encoded.length)];
                in.readFully(key);
                int len = in.readInt();
                byte[] value = null;
                if (len != -1) {
                    if (len < 0 || len > encoded.length) {
                        throw new IllegalArgumentException("record " + i + " has a value of " + len + " bytes");
                    }
                    value = new byte[len];
                    in.readFully(value);
                }
                out.add(new Record(kinds[kind], key, value));
            }
            if (in.available() > 0) {
                throw new IllegalArgumentException("bytes left after the last record");
            }
            return out;
        } catch (IOException e) {
            throw new IllegalArgumentException("a truncated batch: " + e.getMessage(), e);
        }
    }

    private static int length(java.io.DataInputStream in, int limit) throws IOException {
        int len = in.readInt();
        if (len < 0 || len > limit) {
            throw new IllegalArgumentException("a key of " + len + " bytes");
        }
        return len;
    }

    /** Writes decoded records atomically and fsyncs them, as {@link #commit} does a batch. */
    public void apply(List<Record> written) {
        if (written.isEmpty()) {
            return;
        }
        long started = System.nanoTime();
        try (WriteBatch wb = new WriteBatch()) {
            for (Record r : written) {
                if (r.value() == null) {
                    wb.delete(families.get(r.kind()), r.key());
                } else {
                    wb.put(families.get(r.kind()), r.key(), r.value());
                }
            }
            db.write(syncWrites, wb);
            syncs.incrementAndGet();
            records.addAndGet(written.size());
            commitListener.committed(written.size(), System.nanoTime() - started);
        } catch (RocksDBException e) {
            throw new IllegalStateException("store write failed: " + e.getMessage(), e);
        }
    }

    /**
     * Makes this store hold exactly what {@code source} holds, kind by kind: every record of its
     * own deleted and every record of the source written, in synced batches. Not atomic: a caller
     * marks the store as being replaced first, and finishes the replacement again after a crash.
     */
    public void replaceWith(Store source) {
        for (Kind kind : Kind.values()) {
            if (!families.containsKey(kind)) {
                continue;
            }
            List<Record> chunk = new ArrayList<>();
            try (RocksIterator it = db.newIterator(families.get(kind))) {
                for (it.seekToFirst(); it.isValid(); it.next()) {
                    chunk.add(new Record(kind, it.key(), null));
                    if (chunk.size() >= 10_000) {
                        apply(chunk);
                        chunk.clear();
                    }
                }
            }
            apply(chunk);
            chunk.clear();
            if (!source.families.containsKey(kind)) {
                continue;
            }
            try (RocksIterator it = source.db.newIterator(source.families.get(kind))) {
                for (it.seekToFirst(); it.isValid(); it.next()) {
                    chunk.add(new Record(kind, it.key(), it.value()));
                    if (chunk.size() >= 10_000) {
                        apply(chunk);
                        chunk.clear();
                    }
                }
            }
            apply(chunk);
        }
    }

    /** The key of the last record of a kind, or null when it has none. */
    public byte[] lastKey(Kind kind) {
        try (RocksIterator it = db.newIterator(families.get(kind))) {
            it.seekToLast();
            return it.isValid() ? it.key() : null;
        }
    }

    /** What {@link #commit} has written so far; safe to read from any thread. */
    public Counters counters() {
        return new Counters(syncs.get(), records.get());
    }

    /** Reads every record of a kind in key order. */
    public <T> void scan(Kind kind, Class<T> type, BiConsumer<byte[], T> each) {
        try (RocksIterator it = db.newIterator(families.get(kind))) {
            for (it.seekToFirst(); it.isValid(); it.next()) {
                each.accept(it.key(), json.readValue(it.value(), type));
            }
        } catch (IOException e) {
            throw new UncheckedIOException("corrupt " + kind + " record", e);
        }
    }

    /** Reads every record of a kind in key order, as the bytes stored. */
    public void scanRaw(Kind kind, BiConsumer<byte[], byte[]> each) {
        try (RocksIterator it = db.newIterator(families.get(kind))) {
            for (it.seekToFirst(); it.isValid(); it.next()) {
                each.accept(it.key(), it.value());
            }
        }
    }

    /** Reads records of a kind with numeric keys from {@code from} on, in order, while {@code each} returns true. */
    public void scanRaw(Kind kind, long from, java.util.function.BiPredicate<Long, byte[]> each) {
        try (RocksIterator it = db.newIterator(families.get(kind))) {
            for (it.seek(key(from)); it.isValid(); it.next()) {
                if (!each.test(ByteBuffer.wrap(it.key()).getLong(), it.value())) {
                    return;
                }
            }
        }
    }

    /** Overwrites one record's stored bytes without any check: for tests that tamper with a store. */
    public void putRawForTest(Kind kind, byte[] key, byte[] value) {
        try {
            db.put(families.get(kind), syncWrites, key, value);
        } catch (RocksDBException e) {
            throw new IllegalStateException(e);
        }
    }

    public <T> T get(Kind kind, byte[] key, Class<T> type) {
        try {
            byte[] v = db.get(families.get(kind), key);
            return v == null ? null : json.readValue(v, type);
        } catch (RocksDBException e) {
            throw new IllegalStateException("store read failed: " + e.getMessage(), e);
        } catch (IOException e) {
            throw new UncheckedIOException("corrupt " + kind + " record", e);
        }
    }

    /** The stored bytes of one record, or null. */
    public byte[] getRaw(Kind kind, byte[] key) {
        if (!families.containsKey(kind)) {
            return null;
        }
        try {
            return db.get(families.get(kind), key);
        } catch (RocksDBException e) {
            throw new IllegalStateException("store read failed: " + e.getMessage(), e);
        }
    }

    public static byte[] key(long id) {
        return ByteBuffer.allocate(Long.BYTES).putLong(id).array();
    }

    public static byte[] key(String name) {
        return name.getBytes(StandardCharsets.UTF_8);
    }

    @Override
    public void close() {
        for (ColumnFamilyHandle h : handles) {
            h.close();
        }
        db.close();
        options.close();
        familyOptions.close();
        syncWrites.close();
    }
}
