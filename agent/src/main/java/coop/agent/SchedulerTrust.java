package coop.agent;

import com.google.common.net.InetAddresses;
import java.net.InetAddress;
import java.net.Socket;
import java.security.cert.CertificateException;
import java.security.cert.CertificateParsingException;
import java.security.cert.X509Certificate;
import java.util.Collection;
import java.util.List;
import java.util.Locale;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLSession;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.X509ExtendedTrustManager;

/**
 * How a client decides that it reaches its cooperative's scheduler: the chain must pass the
 * JDK's PKIX checks against the cooperative's CA alone, as a TLS server's chain (so the leaf
 * must allow server authentication, which members' and nodes' certificates do not), and the
 * leaf must name the host the client dialled among its subject alternative names: an IP
 * address literal as an iPAddress entry of the same address, any other host as a dNSName entry
 * spelt the same but for case and a final dot. Wildcards are not honoured (coop's CA issues
 * none) and the subject's common name is never consulted.
 *
 * <p>The JDK's trust manager checks the name itself when the connection asks for "HTTPS"
 * endpoint identification, as gRPC's does; this one does the check here instead and has the
 * JDK validate the chain alone. The JDK's name check first asks whether the root is one of the
 * JDK's own public CAs, and to answer that, once per process, parses every certificate of the
 * JDK's {@code cacerts}: some 60 ms in a new JVM, on the path of a researcher's every
 * {@code coop submit}. A chain that ends at the cooperative's CA never has a public root.
 */
final class SchedulerTrust extends X509ExtendedTrustManager {

    private static final int DNS_NAME = 2;
    private static final int IP_ADDRESS = 7;

    private final X509ExtendedTrustManager chains;

    /** {@code chains}: the JDK's PKIX trust manager over the cooperative's CA certificate alone. */
    SchedulerTrust(X509ExtendedTrustManager chains) {
        this.chains = chains;
    }

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType, SSLEngine engine)
            throws CertificateException {
        check(chain, authType, engine == null ? null : engine.getPeerHost());
    }

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType, Socket socket)
            throws CertificateException {
        SSLSession session = socket instanceof SSLSocket tls ? tls.getHandshakeSession() : null;
        check(chain, authType, session == null ? null : session.getPeerHost());
    }

    /** Refused: without the connection, there is no host name to check the certificate against. */
    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType) throws CertificateException {
        check(chain, authType, null);
    }

    private void check(X509Certificate[] chain, String authType, String host) throws CertificateException {
        if (host == null || host.isEmpty()) {
            throw new CertificateException("no host name to check the scheduler's certificate against");
        }
        chains.checkServerTrusted(chain, authType);
        if (!names(chain[0], host)) {
            throw new CertificateException("the scheduler's certificate does not name " + host + " (it names "
                    + String.join(", ", alternativeNames(chain[0])) + ")");
        }
    }

    /** Whether {@code leaf} names {@code host}, as the class comment says. */
    static boolean names(X509Certificate leaf, String host) throws CertificateParsingException {
        String bare = host.startsWith("[") && host.endsWith("]") ? host.substring(1, host.length() - 1) : host;
        Collection<List<?>> sans = leaf.getSubjectAlternativeNames();
        if (sans == null) {
            return false;
        }
        if (InetAddresses.isInetAddress(bare)) {
            InetAddress address = InetAddresses.forString(bare);
            for (List<?> san : sans) {
                if ((Integer) san.get(0) == IP_ADDRESS && InetAddresses.isInetAddress((String) san.get(1))
                        && InetAddresses.forString((String) san.get(1)).equals(address)) {
                    return true;
                }
            }
            return false;
        }
        String name = dnsForm(bare);
        for (List<?> san : sans) {
            if ((Integer) san.get(0) == DNS_NAME && dnsForm((String) san.get(1)).equals(name)) {
                return true;
            }
        }
        return false;
    }

    private static String dnsForm(String name) {
        String lower = name.toLowerCase(Locale.ROOT);
        return lower.endsWith(".") ? lower.substring(0, lower.length() - 1) : lower;
    }

    private static List<String> alternativeNames(X509Certificate leaf) throws CertificateParsingException {
        Collection<List<?>> sans = leaf.getSubjectAlternativeNames();
        return sans == null ? List.of("nothing") : sans.stream().map(san -> String.valueOf(san.get(1))).toList();
    }

    /** A client never checks clients. */
    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType, SSLEngine engine)
            throws CertificateException {
        throw new CertificateException("a client does not accept client certificates");
    }

    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType, Socket socket)
            throws CertificateException {
        throw new CertificateException("a client does not accept client certificates");
    }

    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType) throws CertificateException {
        throw new CertificateException("a client does not accept client certificates");
    }

    @Override
    public X509Certificate[] getAcceptedIssuers() {
        return chains.getAcceptedIssuers();
    }
}
