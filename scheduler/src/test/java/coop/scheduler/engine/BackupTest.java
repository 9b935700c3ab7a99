package coop.scheduler.engine;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import coop.scheduler.audit.LedgerVerifier;
import coop.scheduler.domain.CoopException;
import coop.scheduler.domain.JobSpec;
import coop.scheduler.domain.Role;
import coop.scheduler.governance.TestMembers;
import coop.scheduler.store.Store;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Backups of a running event loop on a real RocksDB store: where the cut falls, what is refused
 * (anything that would land outside the backup root), and that one runs at a time.
 */
class BackupTest {
    @TempDir
    Path dir;
    private final FakeClock clock = new FakeClock();
    private final TestMembers keys = new TestMembers();
    private Path data;
    private Path root;
    private Backup backups;
    private EngineFixture engine;
    private Store store;
    private EventLoop loop;

    @BeforeEach
    void found() {
        data = dir.resolve("data");
        engine = EngineFixture.found(data, clock, List.of(
                keys.member("alice", List.of("lab-a")),
                keys.member("dave", List.of("lab-a"), EnumSet.of(Role.MEMBER, Role.RESEARCHER))),
                List.of("lab-a"));
        store = engine.store();
        loop = engine.loop();
        backups = Backup.under(dir.resolve("backups"), data);
        root = backups.root();
    }

    @AfterEach
    void close() {
        engine.close();
    }

    private CompletableFuture<Long> submit(String command) {
        return loop.call((s, tx) -> s.submit("alice", new JobSpec("lab-a", 1, 1, "", 60, command, 0, "",
                false, false), tx));
    }

    private static <T> T get(CompletableFuture<T> f) throws Exception {
        try {
            return f.get(30, TimeUnit.SECONDS);
        } catch (ExecutionException e) {
            throw (Exception) e.getCause();
        }
    }

    @Test
    void aBackupQueuedAmongSubmitsHoldsExactlyThoseQueuedBeforeItThoughAllArriveInOneTurn() throws Exception {
        // Hold the loop so that everything below is queued before it drains the queue again: the
        // 101 tasks then arrive together, and only the split at the backup keeps the 50 submits
        // after it out of the turn whose commit the checkpoint sees.
        CountDownLatch release = new CountDownLatch(1);
        CompletableFuture<Object> held = loop.call((s, tx) -> {
            try {
                release.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            return null;
        });
        List<CompletableFuture<Long>> before = new ArrayList<>();
        for (int i = 0; i < 50; i++) {
            before.add(submit("before " + i));
        }
        Path to = root.resolve("first");
        CompletableFuture<Backup.Result> backup = backups.take(loop, store, "alice", "first");
        List<CompletableFuture<Long>> after = new ArrayList<>();
        for (int i = 0; i < 50; i++) {
            after.add(submit("after " + i));
        }
        release.countDown();
        get(held);
        Backup.Result result = get(backup);
        for (int i = 0; i < 50; i++) {
            assertThat(get(before.get(i))).isEqualTo(i + 1L);
            assertThat(get(after.get(i))).isEqualTo(i + 51L);
        }

        assertThat(result.path()).isEqualTo(to);
        assertThat(result.jobs()).isEqualTo(50);
        assertThat(result.bytes()).isPositive();
        List<Long> ids = new ArrayList<>();
        try (Store copy = Store.openReadOnly(to)) {
            copy.scanRaw(Store.Kind.JOBS, (k, v) -> ids.add(java.nio.ByteBuffer.wrap(k).getLong()));
            LedgerVerifier.Report ledger = LedgerVerifier.verify(copy);
            assertThat(ledger.ok()).as(ledger.problem()).isTrue();
            assertThat(ledger.entries()).isEqualTo(result.ledgerEntries());
            assertThat(ledger.head()).isEqualTo(result.ledgerHead());
        }
        assertThat(ids).hasSize(50).allSatisfy(id -> assertThat(id).isBetween(1L, 50L));

        // Restoring is starting on it: the state recovers, and job ids go on from where the backup stopped.
        try (Store restored = Store.open(to)) {
            ClusterState state = ClusterState.recover(restored, clock, Duration.ofSeconds(5), Duration.ofSeconds(60));
            assertThat(state.jobCount()).isEqualTo(50);
            assertThat(state.job(50).command()).isEqualTo("before 49");
            assertThat(state.ledgerHead().head()).isEqualTo(result.ledgerHead());
            Tx tx = new Tx(restored.batch());
            assertThat(state.submit("alice", new JobSpec("lab-a", 1, 1, "", 60, "next", 0, "", false,
                    false), tx)).isEqualTo(51);
        }
    }

    @Test
    void anEmptyDirectoryIsTakenAndMissingParentsAreCreated() throws Exception {
        Path empty = Files.createDirectories(root.resolve("empty"));
        assertThat(get(backups.take(loop, store, "alice", "empty")).path()).isEqualTo(empty);
        assertThat(Store.exists(empty)).isTrue();
        Path nested = root.resolve("a/b-2/c_3.d");
        assertThat(get(backups.take(loop, store, "alice", "a/b-2/c_3.d")).path()).isEqualTo(nested);
        assertThat(Store.exists(nested)).isTrue();
        // An absolute path inside the root is the same as its name there.
        Path absolute = root.resolve("absolute");
        assertThat(get(backups.take(loop, store, "alice", absolute.toString())).path()).isEqualTo(absolute);
        // A link inside the root to a folder inside it stays inside.
        Path within = Files.createDirectories(root.resolve("weekly"));
        Files.createSymbolicLink(root.resolve("latest-week"), within);
        assertThat(get(backups.take(loop, store, "alice", "latest-week/23")).path()).isEqualTo(root.resolve(
                "latest-week/23"));
        assertThat(Store.exists(within.resolve("23"))).isTrue();
    }

    @Test
    void badTargetsAreRefusedNamingToAndLeaveNothingBehind() throws Exception {
        Path full = Files.createDirectories(root.resolve("full"));
        Files.writeString(full.resolve("keep.txt"), "mine");
        Path file = Files.writeString(root.resolve("file"), "x");
        Path outside = Files.createDirectories(dir.resolve("outside"));
        Files.createSymbolicLink(root.resolve("link-to-data"), data);
        Files.createSymbolicLink(root.resolve("link-out"), outside);
        Files.createSymbolicLink(root.resolve("link-to-nowhere"), dir.resolve("nowhere"));
        Files.createSymbolicLink(root.resolve("link-up"), dir);
        // Each target, and what its refusal must say after "to: ".
        Map<String, String> refusals = new LinkedHashMap<>();
        refusals.put("", "required: a folder name under the backup root");
        refusals.put(" ", "required: a folder name under the backup root");
        refusals.put("../escaped", "must not contain '..'");
        refusals.put("a/../../escaped", "must not contain '..'");
        refusals.put("a/..", "must not contain '..'");
        refusals.put("nul\0", "not a path");
        refusals.put(dir.resolve("elsewhere").toString(), "is outside the backup root " + root);
        refusals.put(data.resolve("inside").toString(), "is outside the backup root " + root);
        refusals.put("/etc/coop-backup", "is outside the backup root " + root);
        refusals.put(root.toString(), "names the backup root itself");
        refusals.put(".", "names the backup root itself");
        refusals.put("2025 06 02", "'2025 06 02' must be up to 100 letters, digits, '.', '_' or '-'");
        refusals.put("weekly/r\u00e9sum\u00e9", "'r\u00e9sum\u00e9' must be up to 100 letters, digits");
        refusals.put("\ud84d\udf32x", "must be up to 100 letters, digits");
        refusals.put(".hidden", "'.hidden' must be up to 100 letters");
        refusals.put("x".repeat(101), "must be up to 100 letters");
        refusals.put("full", "exists and is not empty");
        refusals.put("file", "exists and is not a directory");
        refusals.put("link-to-data/inside", "leads outside the backup root " + root + " through a symbolic link");
        refusals.put("link-out/inside", "leads outside the backup root " + root + " through a symbolic link");
        refusals.put("link-out", "leads outside the backup root " + root + " through a symbolic link");
        refusals.put("link-up/elsewhere", "leads outside the backup root " + root + " through a symbolic link");
        refusals.put("link-to-nowhere", "leads through a symbolic link that points nowhere");
        refusals.put("link-to-nowhere/inside", "leads through a symbolic link that points nowhere");
        for (var refusal : refusals.entrySet()) {
            assertThatThrownBy(() -> get(backups.take(loop, store, "alice", refusal.getKey()))).as(refusal.getKey())
                    .isInstanceOfSatisfying(CoopException.class, e -> {
                        assertThat(e.kind()).isEqualTo(CoopException.Kind.INVALID_ARGUMENT);
                        assertThat(e.getMessage()).startsWith("to: ").contains(refusal.getValue());
                    });
        }
        assertThat(dir.resolve("escaped")).doesNotExist();
        assertThat(dir.resolve("elsewhere")).doesNotExist();
        assertThat(dir.resolve("nowhere")).doesNotExist();
        assertThat(data.resolve("inside")).doesNotExist();
        try (var entries = Files.list(outside)) {
            assertThat(entries.toList()).isEmpty();
        }
        try (var entries = Files.list(full)) {
            assertThat(entries.toList()).containsExactly(full.resolve("keep.txt"));
        }
        try (var entries = Files.list(root)) {
            assertThat(entries.map(p -> p.getFileName().toString()).toList()).containsExactlyInAnyOrder("full",
                    "file", "link-to-data", "link-out", "link-to-nowhere", "link-up");
        }
        assertThat(Files.readString(file)).isEqualTo("x");
        // The loop goes on after refusals between turns.
        assertThat(get(submit("still here"))).isEqualTo(1);
    }

    @Test
    void aSchedulerWithoutABackupRootRefusesNamingTheFlag() {
        Path to = dir.resolve("anywhere");
        assertThatThrownBy(() -> get(Backup.refused().take(loop, store, "alice", to.toString())))
                .isInstanceOfSatisfying(CoopException.class,
                        e -> assertThat(e.kind()).isEqualTo(CoopException.Kind.FAILED_PRECONDITION))
                .hasMessage("this scheduler takes no backups: start it with --backup-root DIR to name the folder "
                        + "they go under");
        // Whoever may not back up learns only that.
        assertThatThrownBy(() -> get(Backup.refused().take(loop, store, "dave", to.toString())))
                .isInstanceOfSatisfying(CoopException.class,
                        e -> assertThat(e.kind()).isEqualTo(CoopException.Kind.PERMISSION_DENIED));
        assertThat(to).doesNotExist();
    }

    @Test
    void theRootMustBeAFolderOutsideTheDataDirectory() throws Exception {
        assertThatThrownBy(() -> Backup.under(data.resolve("backups"), data))
                .isInstanceOf(IllegalArgumentException.class).hasMessageStartingWith("--backup-root: ")
                .hasMessageContaining("is inside the data directory");
        assertThat(data.resolve("backups")).doesNotExist();
        Path file = Files.writeString(dir.resolve("a-file"), "x");
        assertThatThrownBy(() -> Backup.under(file, data)).isInstanceOf(IllegalArgumentException.class)
                .hasMessage("--backup-root: " + file + " is not a directory");
        Path made = Backup.under(dir.resolve("new/root"), data).root();
        assertThat(made).isDirectory();
        assertThat(java.nio.file.attribute.PosixFilePermissions.toString(Files.getPosixFilePermissions(made)))
                .as("backups hold the CA's key").isEqualTo("rwx------");
    }

    @Test
    void oneBackupRunsAtATimeAndASecondIsRefusedNotQueued() throws Exception {
        // The first backup's files are counted only when the test says: it is under way until then.
        CountDownLatch sized = new CountDownLatch(1);
        java.util.concurrent.ExecutorService sizing = java.util.concurrent.Executors.newSingleThreadExecutor();
        try {
            Backup gated = Backup.under(root, data, task -> sizing.execute(() -> {
                try {
                    sized.await();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
                task.run();
            }));
            CompletableFuture<Backup.Result> first = gated.take(loop, store, "alice", "first");
            assertThatThrownBy(() -> get(gated.take(loop, store, "alice", "second")))
                    .isInstanceOfSatisfying(CoopException.class, e -> {
                        assertThat(e.kind()).isEqualTo(CoopException.Kind.FAILED_PRECONDITION);
                        assertThat(e.getMessage()).isEqualTo("a backup to " + root.resolve("first") + " is under "
                                + "way, and one runs at a time: try again when it has finished");
                    });
            assertThat(root.resolve("second")).doesNotExist();
            // Whoever may not back up, or asks for a bad target, is refused for that, not for the backup under way.
            assertThatThrownBy(() -> get(gated.take(loop, store, "dave", "by-dave")))
                    .isInstanceOfSatisfying(CoopException.class,
                            e -> assertThat(e.kind()).isEqualTo(CoopException.Kind.PERMISSION_DENIED));
            assertThatThrownBy(() -> get(gated.take(loop, store, "alice", "../x")))
                    .isInstanceOfSatisfying(CoopException.class,
                            e -> assertThat(e.kind()).isEqualTo(CoopException.Kind.INVALID_ARGUMENT));
            assertThat(first).isNotDone();
            sized.countDown();
            assertThat(get(first).path()).isEqualTo(root.resolve("first"));
            // Once the first has finished, the next one runs.
            assertThat(get(gated.take(loop, store, "alice", "second")).path()).isEqualTo(root.resolve("second"));
            // A refused or failed backup does not hold the slot either.
            assertThatThrownBy(() -> get(gated.take(loop, store, "alice", "second"))).isInstanceOf(CoopException.class);
            assertThat(get(gated.take(loop, store, "alice", "third")).path()).isEqualTo(root.resolve("third"));
        } finally {
            sized.countDown();
            sizing.shutdownNow();
        }
    }

    @Test
    void onlyAnOperatorMayBackUp() {
        Path to = root.resolve("by-dave");
        assertThatThrownBy(() -> get(backups.take(loop, store, "dave", "by-dave")))
                .isInstanceOfSatisfying(CoopException.class,
                        e -> assertThat(e.kind()).isEqualTo(CoopException.Kind.PERMISSION_DENIED))
                .hasMessageContaining("operator");
        assertThatThrownBy(() -> get(backups.take(loop, store, null, "by-dave")))
                .isInstanceOfSatisfying(CoopException.class,
                        e -> assertThat(e.kind()).isEqualTo(CoopException.Kind.UNAUTHENTICATED));
        assertThat(to).doesNotExist();
    }
}
