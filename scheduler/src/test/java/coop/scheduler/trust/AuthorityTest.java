package coop.scheduler.trust;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.security.SignatureException;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class AuthorityTest {
    @TempDir
    Path data;

    private final SecureRandom random = new SecureRandom();

    @Test
    void leavesNameTheirHolderAndVerifyOnlyAgainstTheirOwnCa() throws Exception {
        Authority ca = Authority.create(data, "test", List.of(), random);
        Authority.Holder alice = new Authority.Holder(Authority.Holder.MEMBER, "alice");
        Authority.Issued issued = ca.issue(alice);
        X509Certificate cert = Authority.certificate(issued.certificatePem());
        X509Certificate root = Authority.certificate(ca.caPem());

        cert.verify(root.getPublicKey());
        assertThat(Authority.holderOf(cert)).contains(alice);
        assertThat(cert.getExtendedKeyUsage()).containsExactly("1.3.6.1.5.5.7.3.2");
        assertThat(cert.getBasicConstraints()).isEqualTo(-1);
        assertThat(root.getBasicConstraints()).isZero();
        // The key handed out belongs to the certificate.
        var sign = java.security.Signature.getInstance("SHA256withECDSA");
        sign.initSign(Authority.privateKey(issued.privateKeyPem()));
        sign.update(new byte[] {1, 2, 3});
        var verify = java.security.Signature.getInstance("SHA256withECDSA");
        verify.initVerify(cert.getPublicKey());
        verify.update(new byte[] {1, 2, 3});
        assertThat(verify.verify(sign.sign())).isTrue();

        Authority stranger = Authority.create(data.resolve("other"), "other", List.of(), random);
        X509Certificate foreign = Authority.certificate(stranger.issue(alice).certificatePem());
        assertThatThrownBy(() -> foreign.verify(root.getPublicKey())).isInstanceOf(SignatureException.class);
    }

    @Test
    void theSchedulersCertificateNamesLoopbackAndTheGivenHostsAndKeysAreOwnerOnly() throws Exception {
        Authority ca = Authority.create(data, "test", List.of("sched.example.org", "10.1.2.3"), random);
        X509Certificate server = Authority.certificate(Files.readString(ca.schedulerCertificate()));
        List<String> names = new ArrayList<>();
        server.getSubjectAlternativeNames().forEach(san -> names.add(san.get(1).toString()));
        assertThat(names).contains("localhost", "127.0.0.1", "sched.example.org", "10.1.2.3");
        assertThat(server.getExtendedKeyUsage()).containsExactly("1.3.6.1.5.5.7.3.1");
        assertThat(Authority.holderOf(server)).isEmpty();
        for (Path key : List.of(data.resolve("tls/ca.key"), ca.schedulerKey())) {
            assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(key))).isEqualTo("rw-------");
        }
        // Loaded again, the CA signs certificates its earlier certificate verifies.
        Authority again = Authority.load(data, random);
        Authority.Holder node = new Authority.Holder(Authority.Holder.NODE, "gpu-07");
        X509Certificate leaf = Authority.certificate(again.certify(node,
                Authority.keyPair(random).getPublic()));
        leaf.verify(Authority.certificate(ca.caPem()).getPublicKey());
        assertThat(Authority.holderOf(leaf)).contains(node);
    }
}
