package coop.agent;

import io.grpc.ChannelCredentials;
import io.grpc.TlsChannelCredentials;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.KeyStore;
import java.security.Principal;
import java.security.PrivateKey;
import java.security.cert.Certificate;
import java.security.cert.CertificateException;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.security.spec.InvalidKeySpecException;
import java.security.spec.PKCS8EncodedKeySpec;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.List;
import javax.net.ssl.KeyManager;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.TrustManagerFactory;
import javax.net.ssl.X509ExtendedKeyManager;
import javax.net.ssl.X509ExtendedTrustManager;

/**
 * How coop's clients, the CLI and the agents, present themselves to a scheduler that requires
 * mutual TLS: the cooperative's CA certificate (the only one trusted, so a client reaches only
 * its own cooperative's scheduler), the holder's certificate and PKCS#8 private key, and, where
 * the identity records it, the scheduler's own certificate, which is accepted as it is
 * ({@link SchedulerTrust}); all PEM, as the identity files hold them.
 *
 * @param schedulerPem the scheduler's certificate, or {@code null} to trust the CA's word alone
 */
public record ClientTls(String caPem, String certificatePem, String privateKeyPem, String schedulerPem) {

    public ClientTls {
        if (caPem == null || certificatePem == null || privateKeyPem == null) {
            throw new IllegalArgumentException("TLS needs the CA certificate, a certificate and its key");
        }
    }

    /** TLS that trusts the scheduler on the CA's word alone. */
    public ClientTls(String caPem, String certificatePem, String privateKeyPem) {
        this(caPem, certificatePem, privateKeyPem, null);
    }

    /**
     * The credentials to dial with. The key and trust managers are built here by the JDK
     * rather than handed to Netty as PEM streams: given streams, Netty parses keys with
     * BouncyCastle whenever it is on the class path, as it is in the coop jar, and
     * registering BouncyCastle's provider costs a short-lived {@code coop submit} more than
     * its whole call to the scheduler. The one key is handed over as it is ({@link OneKey}),
     * not through a PKCS#12 key store, which would encrypt it with thousands of PBKDF2 rounds
     * only to decrypt it again. The scheduler's certificate is checked by {@link SchedulerTrust},
     * which builds the JDK's trust manager over the CA only when a certificate other than the
     * pinned one calls for it (some 5 ms of a short call).
     */
    public ChannelCredentials credentials() {
        try {
            List<X509Certificate> chain = certificates(certificatePem);
            if (chain.isEmpty()) {
                throw new IllegalArgumentException("no certificate in PEM text");
            }
            KeyManager key = new OneKey(privateKey(privateKeyPem), chain.toArray(X509Certificate[]::new));

            List<X509Certificate> cas = certificates(caPem);
            if (cas.isEmpty()) {
                throw new IllegalArgumentException("no CA certificate in PEM text");
            }
            X509Certificate scheduler = null;
            if (schedulerPem != null) {
                List<X509Certificate> pinned = certificates(schedulerPem);
                if (pinned.isEmpty()) {
                    throw new IllegalArgumentException("no scheduler certificate in PEM text");
                }
                scheduler = pinned.get(0);
            }
            return TlsChannelCredentials.newBuilder()
                    .keyManager(key)
                    .trustManager(new SchedulerTrust(() -> caTrust(cas), cas, scheduler))
                    .build();
        } catch (GeneralSecurityException | IllegalArgumentException e) {
            throw new IllegalArgumentException("the identity's TLS certificate or key is malformed: "
                    + e.getMessage(), e);
        }
    }

    /** The JDK's PKIX trust manager over {@code cas} alone. */
    private static X509ExtendedTrustManager caTrust(List<X509Certificate> cas) throws GeneralSecurityException {
        KeyStore trusted = KeyStore.getInstance(KeyStore.getDefaultType());
        try {
            trusted.load(null, null);
        } catch (IOException e) {
            throw new GeneralSecurityException("cannot make an empty key store", e);
        }
        int n = 0;
        for (X509Certificate ca : cas) {
            trusted.setCertificateEntry("ca-" + n++, ca);
        }
        TrustManagerFactory trustManagers = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        trustManagers.init(trusted);
        return Arrays.stream(trustManagers.getTrustManagers())
                .filter(X509ExtendedTrustManager.class::isInstance).map(X509ExtendedTrustManager.class::cast)
                .findFirst().orElseThrow(() -> new GeneralSecurityException("the JDK offers no X.509 trust manager"));
    }

    /** A channel builder for {@code target}: over TLS with {@code tls}, or plaintext when it is null. */
    public static NettyChannelBuilder channel(String target, ClientTls tls) {
        // Several addresses (a replicated cooperative's schedulers): dial them in order, keep the one that answers.
        String t = SchedulerAddresses.isList(target) ? SchedulerAddresses.uri(target) : target;
        return tls == null ? NettyChannelBuilder.forTarget(t).usePlaintext()
                : NettyChannelBuilder.forTarget(t, tls.credentials());
    }

    /**
     * A channel builder for one fixed address, which gRPC dials without a name resolver: over
     * TLS with {@code tls} (the certificate must name the address's host string), or plaintext
     * when it is null.
     */
    public static NettyChannelBuilder channel(InetSocketAddress address, ClientTls tls) {
        return tls == null ? NettyChannelBuilder.forAddress(address).usePlaintext()
                : NettyChannelBuilder.forAddress(address, tls.credentials());
    }

    /** The certificates of a PEM text, in order (the JDK's X.509 factory reads PEM). */
    private static List<X509Certificate> certificates(String pem) throws CertificateException {
        List<X509Certificate> out = new ArrayList<>();
        for (Certificate c : CertificateFactory.getInstance("X.509").generateCertificates(
                new ByteArrayInputStream(pem.getBytes(StandardCharsets.US_ASCII)))) {
            out.add((X509Certificate) c);
        }
        return out;
    }

    /** An unencrypted PKCS#8 PEM private key: EC as coop's CA issues, or RSA. */
    private static PrivateKey privateKey(String pem) throws GeneralSecurityException {
        String begin = "-----BEGIN PRIVATE KEY-----";
        int from = pem.indexOf(begin);
        int to = pem.indexOf("-----END PRIVATE KEY-----");
        if (from < 0 || to < from) {
            throw new IllegalArgumentException("no PKCS#8 PRIVATE KEY in PEM text");
        }
        PKCS8EncodedKeySpec spec = new PKCS8EncodedKeySpec(
                Base64.getMimeDecoder().decode(pem.substring(from + begin.length(), to)));
        try {
            return KeyFactory.getInstance("EC").generatePrivate(spec);
        } catch (InvalidKeySpecException notEc) {
            return KeyFactory.getInstance("RSA").generatePrivate(spec);
        }
    }

    /** A key manager holding exactly one client key and its certificate chain. */
    private static final class OneKey extends X509ExtendedKeyManager {
        private static final String ALIAS = "coop";
        private final PrivateKey key;
        private final X509Certificate[] chain;

        OneKey(PrivateKey key, X509Certificate[] chain) {
            this.key = key;
            this.chain = chain;
        }

        private String aliasFor(String[] keyTypes) {
            return keyTypes != null && Arrays.asList(keyTypes).contains(key.getAlgorithm()) ? ALIAS : null;
        }

        @Override
        public String chooseClientAlias(String[] keyTypes, Principal[] issuers, Socket socket) {
            return aliasFor(keyTypes);
        }

        @Override
        public String chooseEngineClientAlias(String[] keyTypes, Principal[] issuers, SSLEngine engine) {
            return aliasFor(keyTypes);
        }

        @Override
        public String[] getClientAliases(String keyType, Principal[] issuers) {
            return key.getAlgorithm().equals(keyType) ? new String[] {ALIAS} : null;
        }

        @Override
        public X509Certificate[] getCertificateChain(String alias) {
            return ALIAS.equals(alias) ? chain.clone() : null;
        }

        @Override
        public PrivateKey getPrivateKey(String alias) {
            return ALIAS.equals(alias) ? key : null;
        }

        /** A client key only: never offered as a server's. */
        @Override
        public String chooseServerAlias(String keyType, Principal[] issuers, Socket socket) {
            return null;
        }

        @Override
        public String[] getServerAliases(String keyType, Principal[] issuers) {
            return null;
        }
    }

    @Override
    public String toString() {
        return "ClientTls[ca, certificate, key=<redacted>]";
    }
}
