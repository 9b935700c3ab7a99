package coop.scheduler.rpc;

import io.grpc.Context;
import io.grpc.Contexts;
import io.grpc.Grpc;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import java.net.InetSocketAddress;
import java.net.SocketAddress;

/**
 * Puts the host a call comes from into its context: an agent that does not say where its
 * peers reach it is reached where the scheduler sees it connect from.
 */
final class PeerAddress implements ServerInterceptor {
    private static final Context.Key<String> HOST = Context.key("coop-peer-host");

    /** The calling host, or 127.0.0.1 when the transport has no socket address (in-process). */
    static String current() {
        String host = HOST.get();
        return host == null ? "127.0.0.1" : host;
    }

    @Override
    public <Q, R> ServerCall.Listener<Q> interceptCall(ServerCall<Q, R> call, Metadata headers,
                                                       ServerCallHandler<Q, R> next) {
        SocketAddress remote = call.getAttributes().get(Grpc.TRANSPORT_ATTR_REMOTE_ADDR);
        String host = remote instanceof InetSocketAddress inet && inet.getAddress() != null
                ? inet.getAddress().getHostAddress() : null;
        return Contexts.interceptCall(Context.current().withValue(HOST, host), call, headers, next);
    }
}
