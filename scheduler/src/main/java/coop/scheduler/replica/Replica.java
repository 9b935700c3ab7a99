package coop.scheduler.replica;

import coop.scheduler.store.Batch;
import coop.scheduler.store.Store;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.apache.ratis.client.RaftClient;
import org.apache.ratis.client.RaftClientConfigKeys;
import org.apache.ratis.conf.Parameters;
import org.apache.ratis.conf.RaftProperties;
import org.apache.ratis.grpc.GrpcConfigKeys;
import org.apache.ratis.grpc.GrpcTlsConfig;
import org.apache.ratis.protocol.Message;
import org.apache.ratis.protocol.RaftClientReply;
import org.apache.ratis.protocol.RaftGroup;
import org.apache.ratis.protocol.RaftGroupId;
import org.apache.ratis.protocol.RaftPeer;
import org.apache.ratis.protocol.RaftPeerId;
import org.apache.ratis.retry.RetryPolicies;
import org.apache.ratis.server.RaftServer;
import org.apache.ratis.server.RaftServerConfigKeys;
import org.apache.ratis.server.storage.RaftStorage;
import org.apache.ratis.thirdparty.com.google.protobuf.ByteString;
import org.apache.ratis.util.TimeDuration;

/**
 * One replica of a replicated cooperative: a Raft member (Apache Ratis, over gRPC) whose state
 * machine is this replica's store ({@link ReplicaStateMachine}), and a client through which the
 * leader's event loop commits each turn's batch: {@link #commit} returns once a majority has the
 * batch in its log and this replica has applied it to its store.
 */
public final class Replica implements AutoCloseable {
    /** A member of the group: its id and host:port. */
    public record Peer(String id, String address) {
    }

    /**
     * The files of mutual TLS between replicas: this replica's key (PKCS#8 PEM) and certificate
     * chain, and the CA every replica's certificate must chain to.
     */
    public record Tls(Path key, Path certificateChain, Path trusted) {
    }

    /**
     * How often a replica snapshots its store (every {@code snapshotEvery} log entries applied),
     * after which its Raft log is purged up to the snapshot, and the size of the log's segments
     * (only closed segments are purged). A replica too far behind to catch up from the log gets
     * the latest snapshot instead.
     */
    public record Tuning(long snapshotEvery, long segmentBytes) {
        /** A snapshot every 100,000 turns; segments of 8 MB. */
        public static final Tuning DEFAULT = new Tuning(100_000, 8L << 20);
    }

    /** A replica as {@link #status} found it: role, last entry's term, commit, apply and snapshot index, or why not. */
    public record Status(String id, String address, String role, long term, long committed, long applied,
                         long snapshot, String error) {
    }

    private final RaftServer server;
    private final RaftClient client;
    private final RaftGroup group;
    private final Parameters parameters;
    private final ReplicaStateMachine machine;

    private Replica(RaftServer server, RaftClient client, RaftGroup group, Parameters parameters,
                    ReplicaStateMachine machine) {
        this.server = server;
        this.client = client;
        this.group = group;
        this.parameters = parameters;
        this.machine = machine;
    }

    /**
     * Every replica of the group as it reports itself, asked once each with no retry: one that
     * does not answer within the client's request timeout is listed as unreachable, with why.
     */
    public java.util.List<Status> status() {
        java.util.List<Status> out = new ArrayList<>();
        RaftProperties props = new RaftProperties();
        RaftClientConfigKeys.Rpc.setRequestTimeout(props, TimeDuration.valueOf(2, TimeUnit.SECONDS));
        try (RaftClient ask = RaftClient.newBuilder().setProperties(props).setRaftGroup(group)
                .setParameters(parameters).setRetryPolicy(RetryPolicies.noRetry()).build()) {
            for (RaftPeer p : group.getPeers()) {
                try {
                    var info = ask.getGroupManagementApi(p.getId()).info(group.getGroupId());
                    var log = info.getLogInfoProto();
                    out.add(new Status(p.getId().toString(), p.getAddress(),
                            info.getRoleInfoProto().getRole().name().toLowerCase(java.util.Locale.ROOT),
                            log.getLastEntry().getTerm(), log.getCommitted().getIndex(), log.getApplied().getIndex(),
                            log.getLastSnapshot().getIndex(), ""));
                } catch (IOException | RuntimeException e) {
                    out.add(new Status(p.getId().toString(), p.getAddress(), "unreachable", 0, 0, 0, 0,
                            String.valueOf(e.getMessage())));
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot ask the replicas: " + e.getMessage(), e);
        }
        return out;
    }

    /**
     * Starts replica {@code id} of the group {@code peers} (which names it), keeping its Raft log in
     * {@code dataDir/raft} and applying to {@code store}.
     */
    public static Replica start(String id, List<Peer> peers, UUID group, Path dataDir, Store store) {
        return start(id, peers, group, dataDir, store, null);
    }

    /**
     * As above, with every Raft connection over mutual TLS when {@code tls} is given: a replica
     * whose certificate the cooperative's CA did not sign is refused at the handshake.
     */
    public static Replica start(String id, List<Peer> peers, UUID group, Path dataDir, Store store, Tls tls) {
        return start(id, peers, group, dataDir, store, tls, Tuning.DEFAULT);
    }

    /** As above, snapshotting and purging its log as {@code tuning} says. */
    public static Replica start(String id, List<Peer> peers, UUID group, Path dataDir, Store store, Tls tls,
                                Tuning tuning) {
        List<RaftPeer> members = new ArrayList<>();
        Peer self = null;
        for (Peer p : peers) {
            members.add(RaftPeer.newBuilder().setId(p.id()).setAddress(p.address()).build());
            if (p.id().equals(id)) {
                self = p;
            }
        }
        if (self == null) {
            throw new IllegalArgumentException("replica " + id + " is not in the replica list " + peers);
        }
        RaftGroupId groupId = RaftGroupId.valueOf(group);
        RaftGroup raftGroup = RaftGroup.valueOf(groupId, members);
        RaftProperties props = properties();
        RaftServerConfigKeys.Snapshot.setAutoTriggerEnabled(props, true);
        RaftServerConfigKeys.Snapshot.setAutoTriggerThreshold(props, tuning.snapshotEvery());
        RaftServerConfigKeys.Snapshot.setCreationGap(props, tuning.snapshotEvery());
        RaftServerConfigKeys.Snapshot.setRetentionFileNum(props, 2);
        RaftServerConfigKeys.Log.setPurgeUptoSnapshotIndex(props, true);
        RaftServerConfigKeys.Log.setPurgeGap(props, (int) Math.max(1, Math.min(1024, tuning.snapshotEvery() / 2)));
        RaftServerConfigKeys.Log.setSegmentSizeMax(props, org.apache.ratis.util.SizeInBytes.valueOf(
                tuning.segmentBytes()));
        try {
            Path raftDir = dataDir.resolve("raft");
            Files.createDirectories(raftDir);
            RaftServerConfigKeys.setStorageDir(props, List.of(raftDir.toFile()));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create the Raft log folder in " + dataDir, e);
        }
        int colon = self.address().lastIndexOf(':');
        GrpcConfigKeys.Server.setHost(props, self.address().substring(0, colon));
        GrpcConfigKeys.Server.setPort(props, Integer.parseInt(self.address().substring(colon + 1)));
        ReplicaStateMachine machine = new ReplicaStateMachine(store);
        Parameters parameters = new Parameters();
        if (tls != null) {
            GrpcConfigKeys.TLS.setConf(parameters, new GrpcTlsConfig(tls.key().toFile(),
                    tls.certificateChain().toFile(), tls.trusted().toFile(), true));
        }
        try {
            RaftServer server = RaftServer.newBuilder()
                    .setServerId(RaftPeerId.valueOf(id))
                    .setGroup(raftGroup)
                    .setStateMachine(machine)
                    .setProperties(props)
                    .setParameters(parameters)
                    .setOption(RaftStorage.StartupOption.RECOVER)
                    .build();
            server.start();
            RaftProperties clientProps = new RaftProperties();
            RaftClientConfigKeys.Rpc.setRequestTimeout(clientProps, TimeDuration.valueOf(3, TimeUnit.SECONDS));
            RaftClient client = RaftClient.newBuilder()
                    .setProperties(clientProps)
                    .setRaftGroup(raftGroup)
                    .setParameters(parameters)
                    .setRetryPolicy(RetryPolicies.retryUpToMaximumCountWithFixedSleep(100,
                            TimeDuration.valueOf(100, TimeUnit.MILLISECONDS)))
                    .build();
            return new Replica(server, client, raftGroup, parameters, machine);
        } catch (IOException e) {
            throw new UncheckedIOException("replica " + id + " could not start: " + e.getMessage(), e);
        }
    }

    /** Election and heartbeat timing for fast failover on a few replicas. */
    private static RaftProperties properties() {
        RaftProperties p = new RaftProperties();
        RaftServerConfigKeys.Rpc.setTimeoutMin(p, TimeDuration.valueOf(400, TimeUnit.MILLISECONDS));
        RaftServerConfigKeys.Rpc.setTimeoutMax(p, TimeDuration.valueOf(800, TimeUnit.MILLISECONDS));
        RaftServerConfigKeys.Rpc.setRequestTimeout(p, TimeDuration.valueOf(3, TimeUnit.SECONDS));
        RaftServerConfigKeys.Log.Appender.setRetryPolicy(p, "1ms,10, 100ms,100, 500ms,1000");
        return p;
    }

    /**
     * Commits a turn's batch through the group, as the leader of {@code term}: it returns once
     * the batch is in the log of a majority and applied to this replica's store. A batch that a
     * later term's leader appended (this replica lost the lead meanwhile) is applied nowhere.
     *
     * @throws IllegalStateException when the group did not apply it: no leader within the
     *         client's retries, a replica refused it, or this replica no longer leads
     */
    public void commit(long term, Store store, Batch batch) {
        commit(term, store.encode(batch));
    }

    /** Commits an encoded batch ({@link Store#encode}) as the leader of {@code term}. */
    public void commit(long term, byte[] encoded) {
        RaftClientReply reply;
        try {
            reply = client.io().send(Message.valueOf(ByteString.copyFrom(
                    java.nio.ByteBuffer.allocate(Long.BYTES).putLong(term).array()).concat(ByteString.copyFrom(encoded))));
        } catch (IOException e) {
            throw new IllegalStateException("the replicas did not commit the batch: " + e.getMessage(), e);
        }
        if (!reply.isSuccess()) {
            throw new IllegalStateException("the replicas did not commit the batch: " + reply.getException());
        }
        if (!reply.getMessage().getContent().isEmpty()) {
            throw new IllegalStateException("the batch was not applied: " + reply.getMessage().getContent().toStringUtf8());
        }
    }

    /**
     * The term this replica leads, once it is leader and has applied every entry committed before
     * (Ratis's leader-ready); -1 otherwise.
     */
    public long readyTerm() {
        try {
            var info = server.getDivision(group.getGroupId()).getInfo();
            return info.isLeader() && info.isLeaderReady() ? info.getCurrentTerm() : -1;
        } catch (IOException e) {
            return -1;
        }
    }

    /** Whether this replica is the group's leader now. */
    public boolean isLeader() {
        try {
            return server.getDivision(group.getGroupId()).getInfo().isLeader();
        } catch (IOException e) {
            return false;
        }
    }

    public ReplicaStateMachine stateMachine() {
        return machine;
    }

    @Override
    public void close() {
        try {
            client.close();
        } catch (IOException e) {
            // closing anyway
        }
        try {
            server.close();
        } catch (IOException e) {
            throw new UncheckedIOException("replica did not close cleanly: " + e.getMessage(), e);
        }
    }
}
