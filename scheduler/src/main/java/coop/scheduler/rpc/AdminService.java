package coop.scheduler.rpc;

import coop.scheduler.engine.Backup;
import coop.scheduler.engine.EventLoop;
import coop.scheduler.replica.Replica;
import coop.scheduler.store.Store;
import coop.v1.AdminGrpc;
import coop.v1.BackupRequest;
import coop.v1.BackupResponse;
import coop.v1.ReplicaStatus;
import coop.v1.ReplicasRequest;
import coop.v1.ReplicasResponse;
import io.grpc.stub.StreamObserver;
import java.util.List;
import java.util.function.Supplier;

/** The Admin service: backups of the running scheduler, for members with the operator role. */
final class AdminService extends AdminGrpc.AdminImplBase {
    private final EventLoop loop;
    private final Store store;
    private final Backup backups;
    /** The replicas' status on a replica; null when the cooperative has one scheduler. */
    private final Supplier<List<Replica.Status>> replicas;

    AdminService(EventLoop loop, Store store, Backup backups, Supplier<List<Replica.Status>> replicas) {
        this.loop = loop;
        this.store = store;
        this.backups = backups;
        this.replicas = replicas;
    }

    @Override
    public void replicas(ReplicasRequest r, StreamObserver<ReplicasResponse> out) {
        if (Caller.member() == null) {
            out.onError(io.grpc.Status.UNAUTHENTICATED.withDescription("the replicas are shown to members: call with "
                    + "a member identity (--identity FILE)").asRuntimeException());
            return;
        }
        ReplicasResponse.Builder b = ReplicasResponse.newBuilder().setReplicated(replicas != null);
        if (replicas == null) {
            out.onNext(b.build());
            out.onCompleted();
            return;
        }
        // Asking every replica waits on the network: off the transport's thread, and never on the event loop.
        java.util.concurrent.CompletableFuture.supplyAsync(replicas).whenComplete((list, error) -> {
            if (error != null) {
                out.onError(io.grpc.Status.UNAVAILABLE.withDescription(error.getMessage()).asRuntimeException());
                return;
            }
            long leaderCommit = list.stream().filter(s -> s.role().equals("leader")).mapToLong(Replica.Status::committed)
                    .max().orElse(0);
            for (Replica.Status s : list) {
                if (s.role().equals("leader")) {
                    b.setLeader(s.id());
                }
                b.addReplicas(ReplicaStatus.newBuilder().setId(s.id()).setAddress(s.address()).setRole(s.role())
                        .setTerm(s.term()).setCommitIndex(s.committed()).setAppliedIndex(s.applied())
                        .setSnapshotIndex(Math.max(0, s.snapshot()))
                        .setLag(s.role().equals("unreachable") ? 0 : Math.max(0, leaderCommit - s.applied()))
                        .setError(s.error()));
            }
            out.onNext(b.build());
            out.onCompleted();
        });
    }

    @Override
    public void backup(BackupRequest r, StreamObserver<BackupResponse> out) {
        long start = System.nanoTime();
        Replies.unary(backups.take(loop, store, Caller.member(), r.getTo()), out, b -> BackupResponse.newBuilder()
                .setPath(b.path().toString())
                .setLedgerHeadSeq(b.ledgerHeadSeq())
                .setLedgerHead(b.ledgerHead())
                .setJobs(b.jobs())
                .setBytes(b.bytes())
                .setElapsedMs((System.nanoTime() - start) / 1_000_000)
                .setPausedMs(b.pausedMs())
                .build());
    }
}
