package coop.scheduler.rpc;

import coop.scheduler.engine.Backup;
import coop.scheduler.engine.EventLoop;
import coop.scheduler.store.Store;
import coop.v1.AdminGrpc;
import coop.v1.BackupRequest;
import coop.v1.BackupResponse;
import io.grpc.stub.StreamObserver;

/** The Admin service: backups of the running scheduler, for members with the operator role. */
final class AdminService extends AdminGrpc.AdminImplBase {
    private final EventLoop loop;
    private final Store store;
    private final Backup backups;

    AdminService(EventLoop loop, Store store, Backup backups) {
        this.loop = loop;
        this.store = store;
        this.backups = backups;
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
