package coop.scheduler.replica;

import coop.scheduler.store.Store;
import coop.scheduler.store.Store.Kind;
import coop.scheduler.store.Store.Record;
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

    public ReplicaStateMachine(Store store) {
        this.store = store;
    }

    @Override
    public void initialize(RaftServer server, RaftGroupId groupId, RaftStorage raftStorage) throws IOException {
        super.initialize(server, groupId, raftStorage);
        storage.init(raftStorage);
        chain = new ChainGuard(store);
        byte[] applied = store.getRaw(Kind.META, Store.key(APPLIED_KEY));
        if (applied != null) {
            ByteBuffer b = ByteBuffer.wrap(applied);
            long term = b.getLong();
            appliedIndex = b.getLong();
            // Raft replays its log from the start (no snapshot yet): entries up to here are skipped.
            log.info("replica store has applied up to log index {} (term {}), ledger {} entries", appliedIndex, term,
                    chain.size());
        }
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
            updateLastAppliedTermIndex(entry.getTerm(), index);
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
            updateLastAppliedTermIndex(entry.getTerm(), index);
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
        records.add(new Record(Kind.META, APPLIED_KEY.getBytes(StandardCharsets.UTF_8),
                ByteBuffer.allocate(2 * Long.BYTES).putLong(entry.getTerm()).putLong(index).array()));
        store.apply(records);
        appliedIndex = index;
        updateLastAppliedTermIndex(entry.getTerm(), index);
        return CompletableFuture.completedFuture(Message.EMPTY);
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
