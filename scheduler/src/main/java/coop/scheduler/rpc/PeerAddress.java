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
 * Puts what the Nodes service needs to know about an agent's call into its context: the host
 * it comes from (an agent that does not say where its peers reach it is reached there), and
 * the node identity it presents ({@code coop-node}, {@code coop-node-token}), checked against
 * the enrolled nodes when its Hello arrives.
 */
final class PeerAddress implements ServerInterceptor {
    public static final Metadata.Key<String> NODE = Metadata.Key.of("coop-node", Metadata.ASCII_STRING_MARSHALLER);
    public static final Metadata.Key<String> NODE_TOKEN =
            Metadata.Key.of("coop-node-token", Metadata.ASCII_STRING_MARSHALLER);
    private static final Context.Key<String> HOST = Context.key("coop-peer-host");
    private static final Context.Key<String> NODE_NAME = Context.key("coop-node");
    private static final Context.Key<String> TOKEN = Context.key("coop-node-token");

    /** The node the call presents itself as, or null. */
    static String node() {
        return NODE_NAME.get();
    }

    /** The node's token, or null. */
    static String token() {
        return TOKEN.get();
    }

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
        Context ctx = Context.current().withValue(HOST, host).withValue(NODE_NAME, headers.get(NODE))
                .withValue(TOKEN, headers.get(NODE_TOKEN));
        return Contexts.interceptCall(ctx, call, headers, next);
    }
}
