package coop.scheduler.store;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.rocksdb.ColumnFamilyDescriptor;
import org.rocksdb.ColumnFamilyHandle;
import org.rocksdb.ColumnFamilyOptions;
import org.rocksdb.DBOptions;
import org.rocksdb.RocksDB;

/**
 * A store written before the workdirs family existed (an earlier release's data, or its backup)
 * still opens read-only, as {@code coop ledger verify --data} opens it, with no folders in it; and
 * opened for writing, it gains the family.
 */
class StoreFamiliesTest {
    @TempDir
    Path dir;

    @Test
    void aStoreWithoutTheWorkdirsFamilyOpensReadOnlyAndGainsItWhenOpenedForWriting() throws Exception {
        Path db = Files.createDirectories(dir.resolve("db"));
        List<ColumnFamilyDescriptor> earlier = new ArrayList<>();
        earlier.add(new ColumnFamilyDescriptor(RocksDB.DEFAULT_COLUMN_FAMILY));
        for (String name : List.of("meta", "jobs", "nodes", "ledger")) {
            earlier.add(new ColumnFamilyDescriptor(name.getBytes(StandardCharsets.UTF_8), new ColumnFamilyOptions()));
        }
        List<ColumnFamilyHandle> handles = new ArrayList<>();
        try (DBOptions options = new DBOptions().setCreateIfMissing(true).setCreateMissingColumnFamilies(true);
             RocksDB old = RocksDB.open(options, db.toString(), earlier, handles)) {
            old.put(handles.get(2), Store.key(7), "{\"id\":7}".getBytes(StandardCharsets.UTF_8));
            handles.forEach(ColumnFamilyHandle::close);
        }
        String digest = "ab".repeat(32);
        try (Store readOnly = Store.openReadOnly(dir)) {
            assertThat(readOnly.getRaw(Store.Kind.JOBS, Store.key(7))).isNotNull();
            assertThat(new WorkdirBlobs(readOnly).has(digest)).isFalse();
        }
        String empty = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
        try (Store store = Store.open(dir)) {
            assertThat(new WorkdirBlobs(store).put(empty, List.of())).isTrue();
        }
        try (Store readOnly = Store.openReadOnly(dir)) {
            assertThat(new WorkdirBlobs(readOnly).size(empty)).isZero();
        }
    }
}
