package coop.scheduler.rpc;

import com.google.protobuf.ByteString;
import coop.scheduler.engine.EventLoop;
import coop.scheduler.store.Store;
import coop.scheduler.view.Reads;
import coop.v1.LedgerEntriesRequest;
import coop.v1.LedgerEntry;
import coop.v1.LedgerGrpc;
import coop.v1.LedgerHead;
import coop.v1.LedgerHeadRequest;
import io.grpc.Status;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;

/**
 * The Ledger service: anyone may read the ledger, to verify it. Entries are read from the
 * store up to the head as the event loop last committed it, so a reader never sees an entry
 * the scheduler has not acknowledged.
 */
final class LedgerService extends LedgerGrpc.LedgerImplBase {
    private final EventLoop loop;
    private final Store store;

    LedgerService(EventLoop loop, Store store) {
        this.loop = loop;
        this.store = store;
    }

    @Override
    public void head(LedgerHeadRequest r, StreamObserver<LedgerHead> out) {
        Replies.unary(Reads.ledgerHead(loop), out, this::signed);
    }

    /** The head with the scheduler's signature of its committed end, when it signs. */
    private LedgerHead signed(LedgerHead h) {
        coop.scheduler.ledger.SignedHead s = loop.signedHead();
        return s == null ? h : h.toBuilder().setSignedSeq(s.seq()).setSignedHead(s.head())
                .setSignature(s.signature()).setSchedulerKey(loop.schedulerKey()).build();
    }

    @Override
    public void witness(coop.v1.WitnessRequest r, StreamObserver<LedgerHead> out) {
        String member = Caller.member();
        if (member == null) {
            out.onError(Status.UNAUTHENTICATED.withDescription("a witness needs a member identity (--identity FILE)")
                    .asRuntimeException());
            return;
        }
        if (Fields.refused(out, () -> {
            Fields.maxLength("head", r.getHead(), 64);
            Fields.maxLength("signature", r.getSignature(), Fields.MAX_SIGNATURE);
            if (r.getSeq() < 0) {
                throw coop.scheduler.domain.CoopException.invalid("seq", "must not be negative");
            }
        })) {
            return;
        }
        var statement = new coop.scheduler.ledger.SignedHead.Witness(member, r.getSeq(), r.getHead(),
                r.getSignedAtMs()).statement();
        Replies.unary(loop.call((s, tx) -> {
            s.witness(member, statement, r.getSignature(), tx);
            return s.ledgerHead();
        }), out, h -> LedgerHead.newBuilder().setSize(h.size()).setHead(h.head()).build());
    }

    @Override
    public void entries(LedgerEntriesRequest r, StreamObserver<LedgerEntry> out) {
        if (r.getFromSeq() < 0) {
            out.onError(Status.INVALID_ARGUMENT.withDescription("from_seq: must not be negative").asRuntimeException());
            return;
        }
        loop.call((s, tx) -> s.ledgerHead()).whenCompleteAsync((head, error) -> {
            if (error != null) {
                out.onError(Replies.status(error));
                return;
            }
            ServerCallStreamObserver<LedgerEntry> call = (ServerCallStreamObserver<LedgerEntry>) out;
            try {
                store.scanRaw(Store.Kind.LEDGER, r.getFromSeq(), (seq, bytes) -> {
                    if (seq >= head.size() || call.isCancelled()) {
                        return false;
                    }
                    out.onNext(LedgerEntry.newBuilder().setCanonical(ByteString.copyFrom(bytes)).build());
                    return true;
                });
                out.onCompleted();
            } catch (RuntimeException e) {
                out.onError(Replies.status(e));
            }
        });
    }

}
