package coop.scheduler.rpc;

import coop.scheduler.trust.Authority;
import io.grpc.Attributes;
import io.grpc.Context;
import io.grpc.Contexts;
import io.grpc.Grpc;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.ServerTransportFilter;
import io.grpc.Status;
import java.io.ByteArrayInputStream;
import java.security.cert.Certificate;
import java.security.cert.CertificateException;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import javax.net.ssl.SSLPeerUnverifiedException;
import javax.net.ssl.SSLSession;

/**
 * Who the caller's TLS certificate says it is. The handshake has already checked the certificate
 * against the cooperative's CA; this checks that it names a member or node that is still part of
 * the cooperative (a removed member's or node's certificate is refused at once, without waiting
 * for it to expire), and that the headers of the call speak for that same member or node, so one
 * holder's certificate never carries another's token. Plaintext calls (a scheduler started
 * without TLS) pass unchanged.
 */
final class PeerCertificate implements ServerInterceptor {
    private static final Context.Key<Authority.Holder> HOLDER = Context.key("coop-certificate-holder");
    /** The connection's certificate holder, read once by {@link #readAtHandshake()}. */
    private static final Attributes.Key<Optional<Authority.Holder>> READ_AT_HANDSHAKE =
            Attributes.Key.create("coop-certificate-holder");

    private final Map<String, String> members;
    private final Set<String> nodes;

    /**
     * @param activeMembers a live view of the members (removed ones drop out)
     * @param enrolledNodes a live view of the enrolled nodes
     */
    PeerCertificate(Map<String, String> activeMembers, Set<String> enrolledNodes) {
        this.members = activeMembers;
        this.nodes = enrolledNodes;
    }

    /** The certificate holder of the current call, or null over plaintext. */
    static Authority.Holder holder() {
        return HOLDER.get();
    }

    @Override
    public <Q, R> ServerCall.Listener<Q> interceptCall(ServerCall<Q, R> call, Metadata headers,
                                                       ServerCallHandler<Q, R> next) {
        SSLSession session = call.getAttributes().get(Grpc.TRANSPORT_ATTR_SSL_SESSION);
        if (session == null) {
            return next.startCall(call, headers);
        }
        Optional<Authority.Holder> holder = call.getAttributes().get(READ_AT_HANDSHAKE);
        if (holder == null) {
            holder = holderOf(session);
        }
        String refusal = holder.isEmpty() ? "the client certificate names no member or node of this cooperative"
                : refusal(holder.get(), headers);
        if (refusal != null) {
            Status status = holder.isPresent() && isStillPart(holder.get())
                    ? Status.PERMISSION_DENIED : Status.UNAUTHENTICATED;
            call.close(status.withDescription(refusal), new Metadata());
            return new ServerCall.Listener<>() {
            };
        }
        return Contexts.interceptCall(Context.current().withValue(HOLDER, holder.get()), call, headers, next);
    }

    /**
     * Reads each connection's certificate once, when its handshake is done, rather than on every
     * call: the certificate cannot change on a connection, and parsing it (the JDK's X.509 parser
     * and its extensions) cost about as much as the rest of a submit's handling. Whether its holder
     * is still part of the cooperative is checked on every call all the same.
     */
    ServerTransportFilter readAtHandshake() {
        return new ServerTransportFilter() {
            @Override
            public Attributes transportReady(Attributes transport) {
                SSLSession session = transport.get(Grpc.TRANSPORT_ATTR_SSL_SESSION);
                return session == null ? transport
                        : transport.toBuilder().set(READ_AT_HANDSHAKE, holderOf(session)).build();
            }
        };
    }

    private static Optional<Authority.Holder> holderOf(SSLSession session) {
        try {
            Certificate[] chain = session.getPeerCertificates();
            if (chain.length == 0) {
                return Optional.empty();
            }
            // Parsed again by the JDK: the TLS engine's own certificate objects do not all read extensions.
            X509Certificate leaf = (X509Certificate) CertificateFactory.getInstance("X.509")
                    .generateCertificate(new ByteArrayInputStream(chain[0].getEncoded()));
            return Authority.holderOf(leaf);
        } catch (SSLPeerUnverifiedException | CertificateException e) {
            return Optional.empty();
        }
    }

    private boolean isStillPart(Authority.Holder h) {
        return h.kind().equals(Authority.Holder.MEMBER) ? members.containsKey(h.name()) : nodes.contains(h.name());
    }

    /** Why the call is refused, or null. */
    private String refusal(Authority.Holder h, Metadata headers) {
        if (!isStillPart(h)) {
            return "the certificate of " + h + " is revoked: " + (h.kind().equals(Authority.Holder.MEMBER)
                    ? "no longer a member" : "the node is not enrolled (removed?)");
        }
        String member = headers.get(Caller.MEMBER);
        String node = headers.get(PeerAddress.NODE);
        if (member != null && !new Authority.Holder(Authority.Holder.MEMBER, member).equals(h)) {
            return "the call speaks for member " + member + " but its certificate is that of " + h;
        }
        if (node != null && !new Authority.Holder(Authority.Holder.NODE, node).equals(h)) {
            return "the call speaks for node " + node + " but its certificate is that of " + h;
        }
        return null;
    }
}
