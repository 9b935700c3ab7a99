package coop.scheduler.replica;

import coop.scheduler.store.Store.Kind;
import coop.scheduler.store.Store.Record;
import coop.scheduler.store.Store;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.apache.ratis.proto.RaftProtos.LogEntryProto;
import org.apache.ratis.protocol.Message;
import org.apache.ratis.protocol.RaftGroupId;
import org.apache.ratis.protocol.RaftGroupMemberId;
import org.apache.ratis.protocol.RaftPeerId;
import org.apache.ratis.server.RaftServer;
import org.apache.ratis.server.protocol.TermIndex;
import org.apache.ratis.server.storage.RaftStorage;
import org.apache.ratis.statemachine.TransactionContext;
import org.apache.ratis.statemachine.impl.BaseStateMachine;
import org.apache.ratis.statemachine.impl.SimpleStateMachineStorage;
import org.apache.ratis.statemachine.impl.SingleFileSnapshotInfo;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A replica's store as a Raft state machine: each committed log entry is one turn's batch
 * ({@link Store#encode}), applied in log order to this replica's RocksDB in one synced write
 * together with the log index it came from, so a replica that restarts skips what it already
 * applied. Before applying, the {@link ChainGuard} checks that the batch's ledger entries extend
 * the chain this replica holds; a batch that does not is refused and this replica stops (Raft
 * closes a member whose state machine fails), rather than apply a rewritten history.
 */
public final class ReplicaStateMachine extends BaseStateMachine {
    private static final Logger log = LoggerFactory.getLogger(ReplicaStateMachine.class);
    /** The META key of the last log entry applied: term and index. */
    static final String APPLIED_KEY = "raft_applied";

    private final Store store;
    private final SimpleStateMachineStorage storage = new SimpleStateMachineStorage();
    private ChainGuard chain;
    private long appliedIndex = -1;
    private volatile String refused;
    private volatile RaftPeerId leader;
    /** The file that says a snapshot's install is under way (outside the store it replaces). */
    private java.nio.file.Path installing;
    private volatile int installs;

    public ReplicaStateMachine(Store store) {
        this.store = store;
    }

    @Override
    public void initialize(RaftServer server, RaftGroupId groupId, RaftStorage raftStorage) throws IOException {
        super.initialize(server, groupId, raftStorage);
        getLifeCycle().transition(org.apache.ratis.util.LifeCycle.State.STARTING);
        storage.init(raftStorage);
        installing = raftStorage.getStorageDir().getRoot().toPath().resolve("installing-snapshot");
        if (java.nio.file.Files.exists(installing)) {
            // A snapshot's install was cut short: the store is half replaced until it is finished.
            log.warn("finishing the install of a snapshot that was cut short");
            installLatest(true);
        }
        loadApplied();
        installLatest(false);
        SingleFileSnapshotInfo snap = storage.getLatestSnapshot();
        if (snap != null) {
            applied(snap.getTerm(), snap.getIndex());
        }
        getLifeCycle().transition(org.apache.ratis.util.LifeCycle.State.RUNNING);
    }

    /** Before a snapshot from the leader replaces the snapshot folder: nothing is applied meanwhile. */
    @Override
    public synchronized void pause() {
        getLifeCycle().transition(org.apache.ratis.util.LifeCycle.State.PAUSING);
        getLifeCycle().transition(org.apache.ratis.util.LifeCycle.State.PAUSED);
    }

    /** Moves the last applied entry on (Raft replays from the latest snapshot; the store may be further on). */
    private void applied(long term, long index) {
        TermIndex last = getLastAppliedTermIndex();
        if (last == null || index > last.getIndex()) {
            updateLastAppliedTermIndex(term, index);
        }
    }

    /** Reads where the store is: the last log entry applied, and its ledger's end. */
    private void loadApplied() {
        chain = new ChainGuard(store);
        byte[] applied = store.getRaw(Kind.META, Store.key(APPLIED_KEY));
        if (applied != null) {
            ByteBuffer b = ByteBuffer.wrap(applied);
            long term = b.getLong();
            appliedIndex = b.getLong();
            // Raft replays its log from its latest snapshot: entries up to here are already in the store.
            log.info("replica store has applied up to log index {} (term {}), ledger {} entries", appliedIndex, term,
                    chain.size());
        }
    }

    @Override
    public synchronized void reinitialize() throws IOException {
        // After a snapshot was installed from the leader: the store takes the snapshot's state.
        installLatest(false);
        if (getLifeCycleState() == org.apache.ratis.util.LifeCycle.State.PAUSED) {
            getLifeCycle().transition(org.apache.ratis.util.LifeCycle.State.STARTING);
            getLifeCycle().transition(org.apache.ratis.util.LifeCycle.State.RUNNING);
        }
    }

    /**
     * Makes the store hold the latest snapshot's state when the snapshot is ahead of it (or
     * {@code force}): the snapshot is a zipped RocksDB checkpoint of another replica's store.
     */
    private void installLatest(boolean force) throws IOException {
        SingleFileSnapshotInfo snap = storage.loadLatestSnapshot();
        if (snap == null || (!force && snap.getIndex() <= appliedIndex)) {
            return;
        }
        java.nio.file.Path file = snap.getFile().getPath();
        if (snap.getFile().getFileDigest() != null) {
            org.apache.ratis.util.MD5FileUtil.verifySavedMD5(file.toFile(), snap.getFile().getFileDigest());
        }
        java.nio.file.Path unpacked = java.nio.file.Files.createTempDirectory(file.getParent(), "install-");
        try {
            SnapshotFiles.unzip(file, unpacked);
            java.nio.file.Files.writeString(installing, Long.toString(snap.getIndex()));
            try (Store source = Store.openReadOnly(unpacked)) {
                store.replaceWith(source);
            }
            java.nio.file.Files.delete(installing);
        } finally {
            SnapshotFiles.delete(unpacked);
        }
        log.info("installed the snapshot at log index {} (term {})", snap.getIndex(), snap.getTerm());
        installs++;
        loadApplied();
        applied(snap.getTerm(), snap.getIndex());
    }

    /**
     * A snapshot of the store at the last applied entry: a RocksDB checkpoint, zipped into the
     * one file Ratis keeps and sends to a replica whose log is too far behind.
     */
    @Override
    public long takeSnapshot() throws IOException {
        TermIndex last = getLastAppliedTermIndex();
        if (last == null || last.getIndex() < 0) {
            return -1;
        }
        java.io.File target = storage.getSnapshotFile(last.getTerm(), last.getIndex());
        java.nio.file.Path checkpoint = java.nio.file.Files.createTempDirectory(target.getParentFile().toPath(),
                "checkpoint-");
        java.nio.file.Path tmp = target.toPath().resolveSibling(target.getName() + ".tmp");
        try {
            store.checkpoint(checkpoint);
            SnapshotFiles.zip(checkpoint, tmp);
            java.nio.file.Files.move(tmp, target.toPath(), java.nio.file.StandardCopyOption.ATOMIC_MOVE);
        } finally {
            SnapshotFiles.delete(checkpoint);
            java.nio.file.Files.deleteIfExists(tmp);
        }
        org.apache.ratis.io.MD5Hash md5 = org.apache.ratis.util.MD5FileUtil.computeAndSaveMd5ForFile(target);
        storage.updateLatestSnapshot(new SingleFileSnapshotInfo(
                new org.apache.ratis.server.storage.FileInfo(target.toPath(), md5), last));
        return last.getIndex();
    }

    /** How many snapshots this replica installed from another. */
    public int installs() {
        return installs;
    }

    @Override
    public SimpleStateMachineStorage getStateMachineStorage() {
        return storage;
    }

    @Override
    public CompletableFuture<Message> applyTransaction(TransactionContext trx) {
        LogEntryProto entry = trx.getLogEntry();
        long index = entry.getIndex();
        if (index <= appliedIndex) {
            applied(entry.getTerm(), index);
            return CompletableFuture.completedFuture(Message.EMPTY);
        }
        if (refused != null) {
            throw new IllegalStateException("this replica refused an earlier batch and applies nothing more: " + refused);
        }
        byte[] message = entry.getStateMachineLogEntry().getLogData().toByteArray();
        if (message.length < Long.BYTES) {
            return refuse(index, new IllegalArgumentException("the log entry holds no batch"));
        }
        long proposedIn = ByteBuffer.wrap(message).getLong();
        if (proposedIn != entry.getTerm()) {
            // Proposed by the leader of an earlier term, appended by a later one: the proposer has
            // lost the lead, and its loop's state may be behind. Every replica skips it alike.
            store.apply(List.of(appliedRecord(entry.getTerm(), index)));
            appliedIndex = index;
            applied(entry.getTerm(), index);
            return CompletableFuture.completedFuture(Message.valueOf("proposed by the leader of term " + proposedIn
                    + ", appended in term " + entry.getTerm() + ": that leader no longer leads"));
        }
        byte[] bytes = java.util.Arrays.copyOfRange(message, Long.BYTES, message.length);
        List<Record> records;
        try {
            records = new ArrayList<>(Store.decode(bytes));
            chain.admit(records);
        } catch (IllegalArgumentException e) {
            return refuse(index, e);
        }
        records.add(appliedRecord(entry.getTerm(), index));
        store.apply(records);
        appliedIndex = index;
        updateLastAppliedTermIndex(entry.getTerm(), index);
        return CompletableFuture.completedFuture(Message.EMPTY);
    }

    /** The META record of the last log entry applied. */
    private static Record appliedRecord(long term, long index) {
        return new Record(Kind.META, APPLIED_KEY.getBytes(StandardCharsets.UTF_8),
                ByteBuffer.allocate(2 * Long.BYTES).putLong(term).putLong(index).array());
    }

    /** Refuses the entry at {@code index}: this replica stops (Raft closes a member whose state machine throws). */
    private CompletableFuture<Message> refuse(long index, IllegalArgumentException why) {
        refused = "log index " + index + ": " + why.getMessage();
        log.error("REFUSED: the committed batch at log index {} does not extend this replica's ledger ({}); this "
                + "replica stops applying and serving", index, why.getMessage());
        throw new IllegalStateException("refused log index " + index + ": " + why.getMessage(), why);
    }

    @Override
    public void notifyLeaderChanged(RaftGroupMemberId member, RaftPeerId newLeader) {
        leader = newLeader;
    }

    /** Why this replica refused a batch and stopped, or null while it applies. */
    public String refused() {
        return refused;
    }

    /** The leader this replica heard of last, or null. */
    public RaftPeerId leader() {
        return leader;
    }

    /** The ledger's length and head as applied here. */
    public long ledgerSize() {
        return chain == null ? 0 : chain.size();
    }

    public String ledgerHead() {
        return chain == null ? null : chain.head();
    }

    /** The last log entry applied to the store. */
    public TermIndex applied() {
        return getLastAppliedTermIndex();
    }
}
