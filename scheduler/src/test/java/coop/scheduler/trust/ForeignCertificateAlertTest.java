package coop.scheduler.trust;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import coop.scheduler.SchedulerServer;
import coop.scheduler.engine.ClusterState;
import coop.scheduler.governance.TestMembers;
import coop.scheduler.store.Store;
import io.grpc.netty.shaded.io.netty.handler.ssl.OpenSslCertificateException;
import io.grpc.netty.shaded.io.netty.internal.tcnative.CertificateVerifier;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.security.Principal;
import java.security.PrivateKey;
import java.security.SecureRandom;
import java.security.cert.CertPathBuilderException;
import java.security.cert.CertPathValidatorException;
import java.security.cert.CertificateException;
import java.security.cert.CertificateExpiredException;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.InstantSource;
import java.util.List;
import javax.net.ssl.KeyManager;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLException;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManagerFactory;
import javax.net.ssl.X509ExtendedKeyManager;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The TLS alert a client gets from the scheduler's port for a certificate its CA did not sign:
 * {@code unknown_ca}, which says what is wrong, where the TLS library's default for a failed
 * check is {@code internal_error}, which reads as the scheduler's fault. Checked with the JDK's
 * own TLS client over TLS 1.3, where the client has sent all it will before the server answers,
 * so the alert is read whole rather than lost to a reset connection.
 */
class ForeignCertificateAlertTest {
    @TempDir
    Path dir;
    private SchedulerServer server;
    private Authority ours;
    private Authority theirs;

    @BeforeEach
    void start() throws Exception {
        Path data = dir.resolve("data");
        Files.createDirectories(data);
        TestMembers keys = new TestMembers();
        try (Store store = Store.open(data)) {
            ClusterState.found(store, List.of(keys.member("alice", List.of("lab-a"))), List.of("lab-a"),
                    System.currentTimeMillis());
        }
        ours = Authority.create(data, "ours", List.of(), new SecureRandom());
        theirs = Authority.create(dir.resolve("other"), "theirs", List.of(), new SecureRandom());
        server = SchedulerServer.start(new SchedulerServer.Config(data, "127.0.0.1", 0, Duration.ofSeconds(5), null),
                InstantSource.system());
    }

    @AfterEach
    void stop() {
        if (server != null) {
            server.close();
        }
    }

    @Test
    void aCertificateOfAnotherCaGetsUnknownCa() throws Exception {
        try (SSLSocket socket = handshake(theirs.issue(new Authority.Holder(Authority.Holder.MEMBER, "mallory")))) {
            // TLS 1.3: the client's handshake ends before the server has checked its certificate,
            // so the server's verdict is the first thing there is to read.
            SSLException refused = catchThrowableOfType(() -> socket.getInputStream().read(), SSLException.class);
            assertThat(refused).as("another CA's certificate is refused").isNotNull();
            assertThat(refused.getMessage()).isEqualTo("Received fatal alert: unknown_ca");
        }
    }

    @Test
    void eachRefusalGetsTheVerificationCodeOfItsAlert() {
        // No chain to the CA: unknown_ca.
        CertificateException noPath = new CertificateException("PKIX path building failed",
                new CertPathBuilderException("unable to find valid certification path to requested target"));
        assertThat(CooperativeTrust.labelled(noPath)).isInstanceOfSatisfying(OpenSslCertificateException.class,
                e -> assertThat(e.errorCode()).isEqualTo(CertificateVerifier.X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY))
                .hasCause(noPath);
        // Anything else wrong with it: bad_certificate.
        CertificateException other = new CertificateException("signature does not verify");
        assertThat(CooperativeTrust.labelled(other)).isInstanceOfSatisfying(OpenSslCertificateException.class,
                e -> assertThat(e.errorCode()).isEqualTo(CertificateVerifier.X509_V_ERR_CERT_REJECTED));
        // What Netty already names keeps its own alert (certificate_expired, certificate_revoked, ...).
        CertificateException expired = new CertificateExpiredException("expired");
        assertThat(CooperativeTrust.labelled(expired)).isSameAs(expired);
        CertificateException revoked = new CertificateException("revoked", new CertPathValidatorException("revoked",
                null, null, -1, CertPathValidatorException.BasicReason.REVOKED));
        assertThat(CooperativeTrust.labelled(revoked)).isSameAs(revoked);
    }

    @Test
    void aCertificateOfTheCooperativesCaIsTaken() throws Exception {
        // The same client with the cooperative's own certificate: the port answers HTTP/2's preface.
        try (SSLSocket socket = handshake(ours.issue(new Authority.Holder(Authority.Holder.MEMBER, "alice")))) {
            socket.getOutputStream().write("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".getBytes(
                    java.nio.charset.StandardCharsets.US_ASCII));
            socket.getOutputStream().write(new byte[] {0, 0, 0, 4, 0, 0, 0, 0, 0});
            socket.getOutputStream().flush();
            assertThat(socket.getInputStream().read()).as("the first byte of the server's SETTINGS frame").isZero();
        }
    }

    /** A TLS 1.3 connection to the scheduler's port as the holder of {@code client}, its handshake done. */
    private SSLSocket handshake(Authority.Issued client) throws Exception {
        // Shown whatever CAs the server asks for, as coop's own clients show theirs: the JDK's key
        // manager would send none at all for a CA the server does not name.
        X509ExtendedKeyManager key = new OneKey(Authority.privateKey(client.privateKeyPem()),
                Authority.certificate(client.certificatePem()));
        KeyStore trusted = KeyStore.getInstance("PKCS12");
        trusted.load(null, null);
        trusted.setCertificateEntry("ca", Authority.certificate(ours.caPem()));
        TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        tmf.init(trusted);
        SSLContext context = SSLContext.getInstance("TLSv1.3");
        context.init(new KeyManager[] {key}, tmf.getTrustManagers(), new SecureRandom());
        SSLSocket socket = (SSLSocket) context.getSocketFactory().createSocket("localhost", server.port());
        try {
            socket.setSoTimeout(10_000);
            SSLParameters parameters = socket.getSSLParameters();
            parameters.setProtocols(new String[] {"TLSv1.3"});
            parameters.setApplicationProtocols(new String[] {"h2"});
            socket.setSSLParameters(parameters);
            socket.startHandshake();
            return socket;
        } catch (Exception e) {
            socket.close();
            throw e;
        }
    }

    /** One key and its certificate, chosen for every request. */
    private static final class OneKey extends X509ExtendedKeyManager {
        private final PrivateKey key;
        private final X509Certificate certificate;

        OneKey(PrivateKey key, X509Certificate certificate) {
            this.key = key;
            this.certificate = certificate;
        }

        @Override
        public String[] getClientAliases(String keyType, Principal[] issuers) {
            return new String[] {"client"};
        }

        @Override
        public String chooseClientAlias(String[] keyType, Principal[] issuers, Socket socket) {
            return "client";
        }

        @Override
        public String[] getServerAliases(String keyType, Principal[] issuers) {
            return null;
        }

        @Override
        public String chooseServerAlias(String keyType, Principal[] issuers, Socket socket) {
            return null;
        }

        @Override
        public X509Certificate[] getCertificateChain(String alias) {
            return new X509Certificate[] {certificate};
        }

        @Override
        public PrivateKey getPrivateKey(String alias) {
            return key;
        }
    }
}
