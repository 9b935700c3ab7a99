package coop.scheduler.rpc;

import io.grpc.Context;
import io.grpc.Contexts;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.Status;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.Map;

/**
 * Authenticates the calling member from the {@code coop-member} and {@code coop-token} headers
 * against the token digests the scheduler stores, and puts the member's name in the call's
 * context. A call without headers runs anonymously (read-only calls allow it); a wrong token is
 * refused with UNAUTHENTICATED.
 */
public final class Caller implements ServerInterceptor {
    public static final Metadata.Key<String> MEMBER = Metadata.Key.of("coop-member", Metadata.ASCII_STRING_MARSHALLER);
    public static final Metadata.Key<String> TOKEN = Metadata.Key.of("coop-token", Metadata.ASCII_STRING_MARSHALLER);
    private static final Context.Key<String> NAME = Context.key("coop-member");

    private final Map<String, String> digests;

    /** @param tokenDigestsByMember a live view: members admitted or removed by vote take effect at once */
    public Caller(Map<String, String> tokenDigestsByMember) {
        this.digests = tokenDigestsByMember;
    }

    /** The authenticated member of the current call, or null. */
    public static String member() {
        return NAME.get();
    }

    public static String sha256(String token) {
        return coop.scheduler.ledger.Entry.sha256(token);
    }

    @Override
    public <Q, R> ServerCall.Listener<Q> interceptCall(ServerCall<Q, R> call, Metadata headers,
                                                       ServerCallHandler<Q, R> next) {
        String member = headers.get(MEMBER);
        String token = headers.get(TOKEN);
        if (member == null && token == null) {
            return next.startCall(call, headers);
        }
        String expected = member == null ? null : digests.get(member);
        if (expected == null || token == null
                || !MessageDigest.isEqual(expected.getBytes(StandardCharsets.US_ASCII),
                sha256(token).getBytes(StandardCharsets.US_ASCII))) {
            call.close(Status.UNAUTHENTICATED.withDescription("unknown member or wrong token for '" + member
                    + "': check the identity file"), new Metadata());
            return new ServerCall.Listener<>() {
            };
        }
        return Contexts.interceptCall(Context.current().withValue(NAME, member), call, headers, next);
    }
}
