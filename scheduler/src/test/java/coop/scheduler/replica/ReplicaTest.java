package coop.scheduler.replica;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import coop.scheduler.ledger.Entry;
import coop.scheduler.ledger.Event;
import coop.scheduler.ledger.EventType;
import coop.scheduler.ledger.Ledger;
import coop.scheduler.store.Batch;
import coop.scheduler.store.Store;
import java.io.IOException;
import java.net.ServerSocket;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Three replicas on loopback, each with its own RocksDB store and Raft log: batches committed
 * through the group reach every store in the same order, a replica that was down catches up
 * without applying anything twice, and a batch whose ledger entries do not extend the chain is
 * refused by every replica rather than applied.
 */
class ReplicaTest {
    @TempDir
    Path dir;
    final UUID group = UUID.randomUUID();
    final List<Replica.Peer> peers = new ArrayList<>();
    final Store[] stores = new Store[3];
    final Replica[] replicas = new Replica[3];
    final Ledger ledger = new Ledger();
    long now = 1_700_000_000_000L;

    @BeforeEach
    void start() throws IOException {
        for (int i = 0; i < 3; i++) {
            try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
                peers.add(new Replica.Peer("r" + i, "127.0.0.1:" + s.getLocalPort()));
            }
        }
        for (int i = 0; i < 3; i++) {
            stores[i] = Store.open(dir.resolve("r" + i));
            replicas[i] = start(i);
        }
    }

    /** Replicas that snapshot every 20 entries, with 16 KB log segments: small enough to purge in a test. */
    private Replica start(int i) {
        return Replica.start("r" + i, peers, group, dir.resolve("r" + i), stores[i], null,
                new Replica.Tuning(20, 16 << 10));
    }

    @AfterEach
    void stop() {
        for (int i = 0; i < 3; i++) {
            if (replicas[i] != null) {
                replicas[i].close();
            }
            stores[i].close();
        }
    }

    /** A turn's batch: {@code entries} ledger entries and the job counter. */
    private Batch turn(int entries) {
        Batch b = stores[0].batch();
        for (int i = 0; i < entries; i++) {
            now += 10;
            ledger.append(now, Event.of(EventType.CYCLE, Map.of("n", ledger.size())), b);
        }
        b.put(Store.Kind.META, "next_job_id", ledger.size());
        return b;
    }

    /** The replica that leads, once it has applied everything committed before its term. */
    private Replica leader() {
        Replica[] found = new Replica[1];
        await().atMost(Duration.ofSeconds(20)).until(() -> {
            for (Replica r : replicas) {
                if (r != null && r.readyTerm() > 0) {
                    found[0] = r;
                    return true;
                }
            }
            return false;
        });
        return found[0];
    }

    /** Commits a batch as the leader does. */
    private void commit(Batch b) {
        Replica r = leader();
        r.commit(r.readyTerm(), stores[0], b);
    }

    private void awaitAll(long size, int... which) {
        await().atMost(Duration.ofSeconds(20)).untilAsserted(() -> {
            for (int i : which) {
                assertThat(replicas[i].stateMachine().ledgerSize()).as("r%d", i).isEqualTo(size);
                assertThat(replicas[i].stateMachine().ledgerHead()).as("r%d", i).isEqualTo(ledger.head());
            }
        });
        for (int i : which) {
            assertThat(stores[i].get(Store.Kind.META, Store.key("next_job_id"), Long.class)).isEqualTo(size);
            assertThat(Ledger.rawEntries(stores[i])).hasSize((int) size);
        }
    }

    @Test
    void everyCommittedBatchReachesEveryStoreInOrder() {
        for (int t = 0; t < 20; t++) {
            commit(turn(3));
        }
        awaitAll(60, 0, 1, 2);
        assertThat(List.of(replicas[0].isLeader(), replicas[1].isLeader(), replicas[2].isLeader()))
                .filteredOn(b -> b).hasSize(1);
    }

    @Test
    void whenTheLeaderStopsTheOthersGoOnAndItCatchesUpOnReturnWithoutApplyingAnythingTwice() {
        for (int t = 0; t < 5; t++) {
            commit(turn(2));
        }
        awaitAll(10, 0, 1, 2);
        Replica led = leader();
        int leader = led == replicas[0] ? 0 : led == replicas[1] ? 1 : 2;
        int other = (leader + 1) % 3;
        replicas[leader].close();
        replicas[leader] = null;
        for (int t = 0; t < 5; t++) {
            commit(turn(2));
        }
        int third = 3 - leader - other;
        awaitAll(20, other, third);
        assertThat(Ledger.rawEntries(stores[leader])).hasSize(10);
        // Back with the same store and Raft log: it replays its log, skips what its store has, and takes the rest.
        replicas[leader] = start(leader);
        awaitAll(20, 0, 1, 2);
        assertThat(replicas[leader].stateMachine().refused()).isNull();
    }

    @Test
    void aReplicaDownWhileTheOthersPurgedTheirLogCatchesUpFromASnapshot() {
        commit(turn(1));
        awaitAll(1, 0, 1, 2);
        int down = replicas[0] == leader() ? 2 : 0;
        replicas[down].close();
        replicas[down] = null;
        for (int t = 0; t < 150; t++) {
            commit(turn(3));
        }
        int up = (down + 1) % 3;
        awaitAll(451, up, 3 - down - up);
        await().atMost(Duration.ofSeconds(20)).until(() -> snapshots(up) > 0);
        replicas[down] = start(down);
        awaitAll(451, 0, 1, 2);
        assertThat(replicas[down].stateMachine().installs()).isPositive();
        assertThat(replicas[down].stateMachine().refused()).isNull();
        // It goes on from there like the others.
        commit(turn(2));
        awaitAll(453, 0, 1, 2);
    }

    /** Snapshot files a replica keeps. */
    private long snapshots(int i) throws IOException {
        try (var files = java.nio.file.Files.walk(dir.resolve("r" + i).resolve("raft"))) {
            return files.filter(p -> p.getFileName().toString().matches("snapshot\\.\\d+_\\d+")).count();
        }
    }

    @Test
    void aBatchProposedAsTheLeaderOfAnEarlierTermIsAppliedNowhere() {
        commit(turn(2));
        awaitAll(2, 0, 1, 2);
        Replica r = leader();
        long term = r.readyTerm();
        Batch late = turn(2);
        assertThatThrownBy(() -> r.commit(term - 1, stores[0], late)).hasMessageContaining("no longer leads");
        for (Store s : stores) {
            assertThat(Ledger.rawEntries(s)).hasSize(2);
        }
    }

    @Test
    void aBatchThatDoesNotExtendTheChainIsRefusedByEveryReplica() {
        for (int t = 0; t < 5; t++) {
            commit(turn(3));
        }
        awaitAll(15, 0, 1, 2);
        // Entry 15, linked to another head than entry 14's: a rewritten history.
        Batch forged = stores[0].batch();
        Entry e = Entry.make(15, now + 10, EventType.CYCLE, Map.of("n", 15L), Entry.sha256("another chain"));
        forged.putRaw(Store.Kind.LEDGER, 15, e.bytes());
        assertThatThrownBy(() -> commit(forged)).isInstanceOf(IllegalStateException.class);
        await().atMost(Duration.ofSeconds(20)).untilAsserted(() -> {
            for (Replica r : replicas) {
                assertThat(r.stateMachine().refused()).contains("log index").contains("does not extend");
            }
        });
        for (Store s : stores) {
            assertThat(Ledger.rawEntries(s)).hasSize(15);
        }
    }
}
