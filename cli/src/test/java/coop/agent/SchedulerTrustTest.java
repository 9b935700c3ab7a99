package coop.agent;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import static org.awaitility.Awaitility.await;

import coop.cli.Main;
import coop.scheduler.SchedulerServer;
import coop.scheduler.trust.Authority;
import io.grpc.ConnectivityState;
import io.grpc.ManagedChannel;
import io.grpc.TlsChannelCredentials;
import io.grpc.netty.shaded.io.grpc.netty.GrpcSslContexts;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.netty.shaded.io.netty.handler.ssl.OpenSsl;
import io.grpc.netty.shaded.io.netty.handler.ssl.SslContext;
import io.grpc.netty.shaded.io.netty.handler.ssl.SslContextBuilder;
import io.grpc.netty.shaded.io.netty.handler.ssl.SslProvider;
import java.net.InetSocketAddress;
import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.security.cert.CertificateException;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.InstantSource;
import java.util.List;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.X509ExtendedTrustManager;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The trust manager a client's TLS credentials carry ({@link ClientTls#credentials()}): the
 * cooperative's scheduler, and only it, under each name its certificate gives and no other.
 */
class SchedulerTrustTest {

    @TempDir
    Path dir;

    private final SecureRandom random = new SecureRandom();
    private Authority ca;
    private Authority.Issued alice;
    /** Trusts the cooperative's CA alone. */
    private X509ExtendedTrustManager trust;
    /** Also names the scheduler's own certificate, as identities from coop init do. */
    private X509ExtendedTrustManager pinned;
    private X509Certificate[] scheduler;

    @BeforeEach
    void setUp() throws Exception {
        ca = Authority.create(dir.resolve("coop"), "test", List.of("sched.example.org", "10.1.2.3"), random);
        alice = ca.issue(new Authority.Holder(Authority.Holder.MEMBER, "alice"));
        trust = trustOf(new ClientTls(ca.caPem(), alice.certificatePem(), alice.privateKeyPem()));
        pinned = trustOf(new ClientTls(ca.caPem(), alice.certificatePem(), alice.privateKeyPem(), ca.schedulerPem()));
        scheduler = chain(Files.readString(ca.schedulerCertificate()));
    }

    private static X509ExtendedTrustManager trustOf(ClientTls tls) {
        var credentials = (TlsChannelCredentials) tls.credentials();
        assertThat(credentials.getTrustManagers()).hasSize(1);
        return (X509ExtendedTrustManager) credentials.getTrustManagers().get(0);
    }

    @ParameterizedTest
    @ValueSource(strings = {"127.0.0.1", "localhost", "LocalHost", "localhost.", "sched.example.org",
        "SCHED.example.org.", "10.1.2.3", "::1", "[::1]", "0:0:0:0:0:0:0:1"})
    void theSchedulerIsTrustedUnderEveryNameItsCertificateGives(String host) {
        for (var t : List.of(trust, pinned)) {
            for (String authType : List.of("UNKNOWN", "ECDHE_ECDSA")) {
                assertThatCode(() -> t.checkServerTrusted(scheduler.clone(), authType, engine(host)))
                        .as(host + " " + authType).doesNotThrowAnyException();
            }
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"10.1.2.4", "127.0.0.2", "::2", "example.org", "other.example.org",
        "sched.example.org.evil", "xsched.example.org", "coop scheduler", "*.example.org"})
    void theSchedulerIsRefusedUnderANameItsCertificateDoesNotGive(String host) {
        for (var t : List.of(trust, pinned)) {
            assertThatThrownBy(() -> t.checkServerTrusted(scheduler.clone(), "UNKNOWN", engine(host)))
                    .isInstanceOf(CertificateException.class)
                    .hasMessage("the scheduler's certificate does not name " + host
                            + " (it names localhost, 127.0.0.1, 0:0:0:0:0:0:0:1, sched.example.org, 10.1.2.3)");
        }
    }

    @Test
    void thePinnedCertificateIsAcceptedWithoutTheCaBeingAsked() throws Exception {
        // The CA named beside the pin is another cooperative's: only the pin can let the scheduler in.
        Authority other = Authority.create(dir.resolve("other"), "other", List.of(), random);
        var pinOnly = trustOf(new ClientTls(other.caPem(), alice.certificatePem(), alice.privateKeyPem(),
                ca.schedulerPem()));
        assertThatCode(() -> pinOnly.checkServerTrusted(scheduler.clone(), "UNKNOWN", engine("127.0.0.1")))
                .doesNotThrowAnyException();
        // The leaf alone, as a server may send it, is the same certificate.
        assertThatCode(() -> pinOnly.checkServerTrusted(new X509Certificate[] {scheduler[0]}, "UNKNOWN",
                engine("localhost"))).doesNotThrowAnyException();
        // Any other certificate is the CA's to judge, and that CA vouches for none of ours.
        assertThatThrownBy(() -> trustOf(new ClientTls(other.caPem(), alice.certificatePem(), alice.privateKeyPem(),
                Files.readString(other.schedulerCertificate()))).checkServerTrusted(scheduler.clone(), "UNKNOWN",
                engine("127.0.0.1"))).isInstanceOf(CertificateException.class).hasMessageContaining("PKIX path");
    }

    @Test
    void theCasTrustManagerIsMadeOnlyForACertificateOtherThanThePinnedOne() throws Exception {
        int[] made = {0};
        SchedulerTrust.CaTrust unavailable = () -> {
            made[0]++;
            throw new java.security.KeyStoreException("no key store here");
        };
        var lazy = new SchedulerTrust(unavailable, List.of(scheduler[1]), scheduler[0]);
        assertThatCode(() -> lazy.checkServerTrusted(scheduler.clone(), "UNKNOWN", engine("127.0.0.1")))
                .doesNotThrowAnyException();
        assertThat(lazy.getAcceptedIssuers()).containsExactly(scheduler[1]);
        assertThat(made[0]).isZero();
        X509Certificate[] other = chain(Files.readString(Authority.create(dir.resolve("other"), "other", List.of(),
                random).schedulerCertificate()));
        assertThatThrownBy(() -> lazy.checkServerTrusted(other, "UNKNOWN", engine("127.0.0.1")))
                .isInstanceOf(CertificateException.class)
                .hasMessage("cannot check certificates against the cooperative's CA: no key store here");
        assertThat(made[0]).isOne();
    }

    @Test
    void aCertificateOtherThanThePinnedOneGoesTheCasWay() throws Exception {
        // Pinned: another cooperative's scheduler (a renewed certificate looks the same from here).
        Authority other = Authority.create(dir.resolve("other"), "other", List.of(), random);
        String otherScheduler = Files.readString(other.schedulerCertificate());
        var stale = trustOf(new ClientTls(ca.caPem(), alice.certificatePem(), alice.privateKeyPem(), otherScheduler));
        assertThatCode(() -> stale.checkServerTrusted(scheduler.clone(), "UNKNOWN", engine("127.0.0.1")))
                .doesNotThrowAnyException();
    }

    @Test
    void aPinnedCertificateMustBeValidNowAndAServersCertificate() throws Exception {
        X509ExtendedTrustManager jdk = trustOf(new ClientTls(ca.caPem(), alice.certificatePem(),
                alice.privateKeyPem()));
        X509Certificate leaf = scheduler[0];
        List<X509Certificate> cas = List.of(scheduler[1]);
        var later = new SchedulerTrust(() -> jdk, cas, leaf, () -> leaf.getNotAfter().toInstant().plusSeconds(1));
        assertThatThrownBy(() -> later.checkServerTrusted(scheduler.clone(), "UNKNOWN", engine("127.0.0.1")))
                .isInstanceOf(java.security.cert.CertificateExpiredException.class);
        var earlier = new SchedulerTrust(() -> jdk, cas, leaf, () -> leaf.getNotBefore().toInstant().minusSeconds(1));
        assertThatThrownBy(() -> earlier.checkServerTrusted(scheduler.clone(), "UNKNOWN", engine("127.0.0.1")))
                .isInstanceOf(java.security.cert.CertificateNotYetValidException.class);

        // A member's certificate, pinned, still cannot pass for a server's.
        X509Certificate[] member = chain(alice.certificatePem() + ca.caPem());
        var memberPinned = new SchedulerTrust(() -> jdk, cas, member[0]);
        assertThatThrownBy(() -> memberPinned.checkServerTrusted(member, "UNKNOWN", engine("127.0.0.1")))
                .isInstanceOf(CertificateException.class)
                .hasMessage("the scheduler's certificate does not allow server authentication");
        assertThatThrownBy(() -> pinned.checkServerTrusted(new X509Certificate[0], "UNKNOWN", engine("127.0.0.1")))
                .isInstanceOf(CertificateException.class).hasMessage("the scheduler sent no certificate");
    }

    @Test
    void aMembersOrANodesCertificateFromTheSameCaCannotPassForTheScheduler() throws Exception {
        for (var holder : List.of(new Authority.Holder(Authority.Holder.MEMBER, "mallory"),
                new Authority.Holder(Authority.Holder.NODE, "gpu-01"))) {
            X509Certificate[] impostor = chain(ca.issue(holder).certificatePem() + ca.caPem());
            for (var t : List.of(trust, pinned)) {
                assertThatThrownBy(() -> t.checkServerTrusted(impostor, "UNKNOWN", engine("127.0.0.1")))
                        .as(holder.toString()).isInstanceOf(CertificateException.class)
                        .hasMessageContaining("Extended key usage does not permit use for TLS server authentication");
            }
        }
    }

    @Test
    void anotherCooperativesSchedulerIsRefusedThoughItNamesTheHost() throws Exception {
        Authority other = Authority.create(dir.resolve("other"), "other", List.of(), random);
        X509Certificate[] foreign = chain(Files.readString(other.schedulerCertificate()));
        for (var t : List.of(trust, pinned)) {
            assertThatThrownBy(() -> t.checkServerTrusted(foreign, "UNKNOWN", engine("127.0.0.1")))
                    .isInstanceOf(CertificateException.class)
                    .hasMessageContaining("PKIX path");
        }
    }

    @Test
    void withoutAConnectionThereIsNoHostToCheckAndNothingIsTrusted() {
        assertThatThrownBy(() -> trust.checkServerTrusted(scheduler.clone(), "UNKNOWN"))
                .isInstanceOf(CertificateException.class)
                .hasMessage("no host name to check the scheduler's certificate against");
        assertThatThrownBy(() -> trust.checkServerTrusted(scheduler.clone(), "UNKNOWN", (SSLEngine) null))
                .isInstanceOf(CertificateException.class);
        assertThatThrownBy(() -> trust.checkClientTrusted(scheduler.clone(), "UNKNOWN", engine("127.0.0.1")))
                .isInstanceOf(CertificateException.class)
                .hasMessage("a client does not accept client certificates");
        assertThat(trust.getAcceptedIssuers()).extracting(X509Certificate::getSubjectX500Principal)
                .containsExactly(scheduler[1].getSubjectX500Principal());
    }

    /**
     * A real handshake with a real scheduler over 127.0.0.1, under each of Netty's TLS providers:
     * the JDK's, and OpenSSL, which short CLI calls use and which calls the trust manager from
     * native code. Only names the certificate gives get a connection.
     */
    @Test
    void aHandshakeWithTheSchedulerSucceedsOnlyUnderANameItsCertificateGives() throws Exception {
        assertThat(OpenSsl.isAvailable()).as("OpenSSL: %s", OpenSsl.unavailabilityCause()).isTrue();
        Path data = dir.resolve("data");
        assertThat(Main.commandLine("init", "--data", data.toString(), "--founders", "alice", "--accounts", "lab")
                .execute("init", "--data", data.toString(), "--founders", "alice", "--accounts", "lab")).isZero();
        ClientTls identity = coop.cli.Identity.read(data.resolve("identities/alice.json")).tls();
        assertThat(identity.schedulerPem()).as("coop init pins the scheduler's certificate").isNotNull();
        // As the identity has it (the scheduler's certificate pinned), and trusting the CA alone.
        var caOnly = new ClientTls(identity.caPem(), identity.certificatePem(), identity.privateKeyPem());
        try (SchedulerServer scheduler = SchedulerServer.start(SchedulerServer.Config.of(data, "127.0.0.1", 0),
                InstantSource.system())) {
            var address = new InetSocketAddress("127.0.0.1", scheduler.port());
            for (var client : List.of(identity, caOnly)) {
                for (SslProvider provider : List.of(SslProvider.JDK, SslProvider.OPENSSL)) {
                    var credentials = (TlsChannelCredentials) client.credentials();
                    String as = provider.name() + (client.schedulerPem() == null ? ", CA only" : ", pinned");
                    SslContext tls = GrpcSslContexts.configure(SslContextBuilder.forClient(), provider)
                            .keyManager(credentials.getKeyManagers().get(0))
                            .trustManager(credentials.getTrustManagers().get(0))
                            .build();
                    assertThat(state(address, null, tls)).as(as).isEqualTo(ConnectivityState.READY);
                    assertThat(state(address, "localhost:7070", tls)).as(as)
                            .isEqualTo(ConnectivityState.READY);
                    assertThat(state(address, "sched.example.org:7070", tls)).as(as)
                            .isEqualTo(ConnectivityState.TRANSIENT_FAILURE);
                    assertThat(state(address, "10.9.9.9:7070", tls)).as(as)
                            .isEqualTo(ConnectivityState.TRANSIENT_FAILURE);
                }
            }
        }
    }

    /** The state a new channel to {@code address} (under {@code authority} if not null) settles in. */
    private static ConnectivityState state(InetSocketAddress address, String authority, SslContext tls)
            throws InterruptedException {
        NettyChannelBuilder builder = NettyChannelBuilder.forAddress(address).sslContext(tls);
        if (authority != null) {
            builder.overrideAuthority(authority);
        }
        ManagedChannel channel = builder.build();
        try {
            channel.getState(true);
            return await().atMost(Duration.ofSeconds(20)).until(() -> channel.getState(false),
                    s -> s == ConnectivityState.READY || s == ConnectivityState.TRANSIENT_FAILURE);
        } finally {
            // Closed before the scheduler, whose shutdown would wait for the connection.
            channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
        }
    }

    private static SSLEngine engine(String host) throws Exception {
        SSLContext context = SSLContext.getInstance("TLS");
        context.init(null, null, null);
        return context.createSSLEngine(host, 7070);
    }

    private static X509Certificate[] chain(String pem) throws Exception {
        return CertificateFactory.getInstance("X.509")
                .generateCertificates(new ByteArrayInputStream(pem.getBytes(StandardCharsets.US_ASCII)))
                .stream().map(X509Certificate.class::cast).toArray(X509Certificate[]::new);
    }
}
