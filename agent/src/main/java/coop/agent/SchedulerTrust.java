package coop.agent;

import com.google.common.net.InetAddresses;
import java.net.InetAddress;
import java.net.Socket;
import java.security.GeneralSecurityException;
import java.security.cert.CertificateEncodingException;
import java.security.cert.CertificateException;
import java.security.cert.CertificateParsingException;
import java.security.cert.X509Certificate;
import java.time.InstantSource;
import java.util.Arrays;
import java.util.Collection;
import java.util.Date;
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
 *
 * <p>A client whose identity names the scheduler's own certificate ({@code coop init} and
 * {@code coop member install-certificate} record it) accepts that very certificate, byte for
 * byte, without the CA's signature on it being checked again: it must still be within its
 * validity period, allow digital signatures and server authentication, and name the host
 * dialled. Checking the CA's ECDSA signature in a new JVM's cold Java code is some 30 ms of
 * every short call, and a pinned certificate proves no less than one the pinned CA vouches for
 * (the identity file, which names both, is where the client's trust starts). Any other
 * certificate, a renewed one say, goes the CA's way.
 */
final class SchedulerTrust extends X509ExtendedTrustManager {

    private static final int DNS_NAME = 2;
    private static final int IP_ADDRESS = 7;

    /** Extended key usage of a TLS server's certificate (RFC 5280, 4.2.1.12). */
    private static final String SERVER_AUTH = "1.3.6.1.5.5.7.3.1";
    private static final String ANY_EXTENDED_KEY_USAGE = "2.5.29.37.0";

    /** Makes the JDK's PKIX trust manager over the cooperative's CA certificates alone. */
    interface CaTrust {
        X509ExtendedTrustManager make() throws GeneralSecurityException;
    }

    private final CaTrust caTrust;
    private final X509Certificate[] cas;
    private final byte[] pinned;
    private final InstantSource clock;
    /** Made by {@link #caTrust} on first need. */
    private volatile X509ExtendedTrustManager chains;

    /**
     * @param caTrust makes the trust manager that checks certificates other than the pinned one
     * @param cas     the cooperative's CA certificates, which it trusts
     * @param pinned  the scheduler's own certificate, accepted as it is; {@code null} when the
     *                identity names none
     */
    SchedulerTrust(CaTrust caTrust, List<X509Certificate> cas, X509Certificate pinned)
            throws CertificateEncodingException {
        this(caTrust, cas, pinned, InstantSource.system());
    }

    /** As above, reading the time a pinned certificate must be valid at from {@code clock}. */
    SchedulerTrust(CaTrust caTrust, List<X509Certificate> cas, X509Certificate pinned, InstantSource clock)
            throws CertificateEncodingException {
        this.caTrust = caTrust;
        this.cas = cas.toArray(X509Certificate[]::new);
        this.pinned = pinned == null ? null : pinned.getEncoded();
        this.clock = clock;
    }

    private X509ExtendedTrustManager chains() throws CertificateException {
        X509ExtendedTrustManager made = chains;
        if (made == null) {
            try {
                made = caTrust.make();
            } catch (GeneralSecurityException e) {
                throw new CertificateException("cannot check certificates against the cooperative's CA: "
                        + e.getMessage(), e);
            }
            chains = made;
        }
        return made;
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
        if (chain == null || chain.length == 0) {
            throw new CertificateException("the scheduler sent no certificate");
        }
        if (pinned != null && Arrays.equals(chain[0].getEncoded(), pinned)) {
            chain[0].checkValidity(Date.from(clock.instant()));
            boolean[] keyUsage = chain[0].getKeyUsage();
            if (keyUsage != null && !keyUsage[0]) {
                throw new CertificateException("the scheduler's certificate does not allow digital signatures");
            }
            List<String> usages = chain[0].getExtendedKeyUsage();
            if (usages != null && !usages.contains(SERVER_AUTH) && !usages.contains(ANY_EXTENDED_KEY_USAGE)) {
                throw new CertificateException("the scheduler's certificate does not allow server authentication");
            }
        } else {
            chains().checkServerTrusted(chain, authType);
        }
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
        return cas.clone();
    }
}
