package coop.scheduler.store;

import java.util.ArrayList;
import java.util.List;

/**
 * The records one turn of the event loop changes, written together as one synced
 * WriteBatch. A later put (or delete) of the same key in the batch wins, as in RocksDB.
 */
public final class Batch {
    record Put(Store.Kind kind, byte[] key, Object value) {
    }

    private final List<Put> puts = new ArrayList<>();

    public Batch() {
    }

    public void put(Store.Kind kind, long id, Object value) {
        puts.add(new Put(kind, Store.key(id), value));
    }

    public void put(Store.Kind kind, String name, Object value) {
        puts.add(new Put(kind, Store.key(name), value));
    }

    /** Deletes a record (a put of nothing). */
    public void delete(Store.Kind kind, String name) {
        puts.add(new Put(kind, Store.key(name), null));
    }

    /** Deletes a record with a numeric key. */
    public void delete(Store.Kind kind, long id) {
        puts.add(new Put(kind, Store.key(id), null));
    }

    /** Puts bytes as they are, not as JSON. */
    public void putRaw(Store.Kind kind, long id, byte[] value) {
        puts.add(new Put(kind, Store.key(id), value));
    }

    /** Puts bytes as they are, not as JSON, under a name. */
    public void putRaw(Store.Kind kind, String name, byte[] value) {
        puts.add(new Put(kind, Store.key(name), value));
    }

    public boolean isEmpty() {
        return puts.isEmpty();
    }

    public int size() {
        return puts.size();
    }

    List<Put> puts() {
        return puts;
    }
}
