package coop.scheduler.rpc;

import io.grpc.ForwardingServerCall;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.Status;

/**
 * Keeps the description of every status the scheduler ends a call with short. Refusals name the
 * field and often quote the value ("account 'x' does not exist"), and a value may be megabytes
 * long; the description travels in the trailers, and a client's HTTP/2 stack refuses a header
 * block over its limit (8 KiB in grpc-java) by tearing down the whole connection, so one huge
 * echo would fail every other call the client had in flight on it with INTERNAL.
 */
final class ShortRefusals implements ServerInterceptor {
    /** Characters kept: percent-encoded as UTF-8, at most 9 bytes each, still well under 8 KiB. */
    static final int MAX_DESCRIPTION = 600;

    @Override
    public <Q, R> ServerCall.Listener<Q> interceptCall(ServerCall<Q, R> call, Metadata headers,
                                                       ServerCallHandler<Q, R> next) {
        return next.startCall(new ForwardingServerCall.SimpleForwardingServerCall<>(call) {
            @Override
            public void close(Status status, Metadata trailers) {
                super.close(shorten(status), trailers);
            }
        }, headers);
    }

    static Status shorten(Status status) {
        String d = status.getDescription();
        if (d == null || d.length() <= MAX_DESCRIPTION) {
            return status;
        }
        int keep = MAX_DESCRIPTION - 40;
        if (Character.isHighSurrogate(d.charAt(keep - 1))) {
            keep--;
        }
        return status.withDescription(d.substring(0, keep) + "... (" + (d.length() - keep) + " more characters)");
    }
}
