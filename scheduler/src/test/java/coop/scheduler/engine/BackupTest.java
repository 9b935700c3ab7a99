package coop.scheduler.engine;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import coop.scheduler.domain.CoopException;
import coop.scheduler.domain.Role;
import coop.scheduler.governance.TestMembers;
import coop.scheduler.ledger.LedgerVerifier;
import coop.scheduler.store.Store;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Backups of a running event loop on a real RocksDB store: where the cut falls, and what is refused. */
class BackupTest {
    @TempDir
    Path dir;
    private final FakeClock clock = new FakeClock();
    private final TestMembers keys = new TestMembers();
    private Path data;
    private Store store;
    private EventLoop loop;

    @BeforeEach
    void found() {
        data = dir.resolve("data");
        store = Store.open(data);
        ClusterState.found(store, List.of(
                keys.member("alice", List.of("lab-a")),
                keys.member("dave", List.of("lab-a"), EnumSet.of(Role.MEMBER, Role.RESEARCHER))),
                List.of("lab-a"), clock.millis());
        loop = new EventLoop(new ClusterState(store, clock, Duration.ofSeconds(5), Duration.ofSeconds(60)), store,
                Duration.ofMillis(20));
        loop.start();
    }

    @AfterEach
    void close() {
        loop.close();
        store.close();
    }

    private CompletableFuture<Long> submit(String command) {
        return loop.call((s, tx) -> s.submit("alice", new ClusterState.JobSpec("lab-a", 1, 1, "", 60, command, 0, "",
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
        Path to = dir.resolve("backups/first");
        CompletableFuture<Backup.Result> backup = Backup.take(loop, store, "alice", to.toString());
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
            ClusterState state = new ClusterState(restored, clock, Duration.ofSeconds(5), Duration.ofSeconds(60));
            assertThat(state.jobCount()).isEqualTo(50);
            assertThat(state.job(50).command()).isEqualTo("before 49");
            assertThat(state.ledgerHead().head()).isEqualTo(result.ledgerHead());
            Tx tx = new Tx(restored.batch());
            assertThat(state.submit("alice", new ClusterState.JobSpec("lab-a", 1, 1, "", 60, "next", 0, "", false,
                    false), tx)).isEqualTo(51);
        }
    }

    @Test
    void anEmptyDirectoryIsTakenAndMissingParentsAreCreated() throws Exception {
        Path empty = Files.createDirectories(dir.resolve("empty"));
        assertThat(get(Backup.take(loop, store, "alice", empty.toString())).path()).isEqualTo(empty);
        assertThat(Store.exists(empty)).isTrue();
        Path nested = dir.resolve("a/b/c");
        get(Backup.take(loop, store, "alice", nested.toString()));
        assertThat(Store.exists(nested)).isTrue();
    }

    @Test
    void badTargetsAreRefusedNamingToAndLeaveNothingBehind() throws Exception {
        Path full = Files.createDirectories(dir.resolve("full"));
        Files.writeString(full.resolve("keep.txt"), "mine");
        Path file = Files.writeString(dir.resolve("file"), "x");
        Path link = Files.createSymbolicLink(dir.resolve("link-to-data"), data);
        List<String> targets = List.of("", "relative/backup", full.toString(), file.toString(),
                data.toString(), data.resolve("inside").toString(), link.resolve("inside").toString(),
                dir.resolve("outside/../data/db/x").toString());
        for (String to : targets) {
            assertThatThrownBy(() -> get(Backup.take(loop, store, "alice", to))).as(to)
                    .isInstanceOfSatisfying(CoopException.class, e -> {
                        assertThat(e.kind()).isEqualTo(CoopException.Kind.INVALID_ARGUMENT);
                        assertThat(e.getMessage()).startsWith("to: ");
                    });
        }
        assertThat(Path.of("relative")).doesNotExist();
        assertThat(data.resolve("inside")).doesNotExist();
        assertThat(dir.resolve("outside")).doesNotExist();
        try (var entries = Files.list(full)) {
            assertThat(entries.toList()).containsExactly(full.resolve("keep.txt"));
        }
        assertThat(Files.readString(file)).isEqualTo("x");
        // The loop goes on after refusals between turns.
        assertThat(get(submit("still here"))).isEqualTo(1);
    }

    @Test
    void onlyAnOperatorMayBackUp() {
        Path to = dir.resolve("by-dave");
        assertThatThrownBy(() -> get(Backup.take(loop, store, "dave", to.toString())))
                .isInstanceOfSatisfying(CoopException.class,
                        e -> assertThat(e.kind()).isEqualTo(CoopException.Kind.PERMISSION_DENIED))
                .hasMessageContaining("operator");
        assertThatThrownBy(() -> get(Backup.take(loop, store, null, to.toString())))
                .isInstanceOfSatisfying(CoopException.class,
                        e -> assertThat(e.kind()).isEqualTo(CoopException.Kind.UNAUTHENTICATED));
        assertThat(to).doesNotExist();
    }
}
