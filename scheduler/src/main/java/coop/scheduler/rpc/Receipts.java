package coop.scheduler.rpc;

import coop.scheduler.engine.EventLoop;
import coop.scheduler.ledger.SignedHead;
import io.grpc.ForwardingServerCall;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.Status;
import java.util.Set;

/**
 * Hands a receipt with every reply that changed the cooperative's state: the scheduler's signed
 * head ({@link SignedHead}) as committed when the reply goes out, in the {@value #TRAILER}
 * trailer as {@code SEQ HEAD SIGNATURE}. The change the call made is at or before that
 * sequence number, so a member who keeps the receipt can later show what the ledger held then.
 */
public final class Receipts implements ServerInterceptor {
    public static final String TRAILER = "coop-receipt";
    static final Metadata.Key<String> KEY = Metadata.Key.of(TRAILER, Metadata.ASCII_STRING_MARSHALLER);

    /** The calls that change state, by full method name. */
    private static final Set<String> CHANGING = Set.of(
            coop.v1.JobsGrpc.getSubmitMethod().getFullMethodName(),
            coop.v1.JobsGrpc.getCancelMethod().getFullMethodName(),
            coop.v1.JobsGrpc.getCancelArrayMethod().getFullMethodName(),
            coop.v1.GovernanceGrpc.getProposeMethod().getFullMethodName(),
            coop.v1.GovernanceGrpc.getVoteMethod().getFullMethodName(),
            coop.v1.GovernanceGrpc.getDelegateMethod().getFullMethodName(),
            coop.v1.GovernanceGrpc.getReviewMethod().getFullMethodName(),
            coop.v1.GovernanceGrpc.getResignMethod().getFullMethodName(),
            coop.v1.GovernanceGrpc.getRespondMethod().getFullMethodName(),
            coop.v1.GovernanceGrpc.getReportMethod().getFullMethodName(),
            coop.v1.GovernanceGrpc.getCertifyMethod().getFullMethodName(),
            coop.v1.NodesGrpc.getEnrollMethod().getFullMethodName(),
            coop.v1.NodesGrpc.getDrainMethod().getFullMethodName(),
            coop.v1.NodesGrpc.getSetTermsMethod().getFullMethodName(),
            coop.v1.NodesGrpc.getRemoveMethod().getFullMethodName(),
            coop.v1.LedgerGrpc.getWitnessMethod().getFullMethodName());

    private final EventLoop loop;

    Receipts(EventLoop loop) {
        this.loop = loop;
    }

    /** A receipt as the trailer carries it. */
    public static String format(SignedHead h) {
        return h.seq() + " " + h.head() + " " + h.signature();
    }

    /** Reads a trailer's receipt. @throws IllegalArgumentException when it is not one */
    public static SignedHead parse(String text) {
        String[] parts = text.strip().split(" ");
        if (parts.length != 3) {
            throw new IllegalArgumentException("a receipt is SEQ HEAD SIGNATURE");
        }
        try {
            return new SignedHead(Long.parseLong(parts[0]), parts[1], parts[2]);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("a receipt's sequence number is a number");
        }
    }

    @Override
    public <Q, R> ServerCall.Listener<Q> interceptCall(ServerCall<Q, R> call, Metadata headers,
                                                      ServerCallHandler<Q, R> next) {
        if (!CHANGING.contains(call.getMethodDescriptor().getFullMethodName())) {
            return next.startCall(call, headers);
        }
        return next.startCall(new ForwardingServerCall.SimpleForwardingServerCall<>(call) {
            @Override
            public void close(Status status, Metadata trailers) {
                if (status.isOk()) {
                    SignedHead h = loop.signedHead();
                    if (h != null) {
                        trailers.put(KEY, format(h));
                    }
                }
                super.close(status, trailers);
            }
        }, headers);
    }
}
