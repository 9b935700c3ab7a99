package coop.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code coop member install-certificate} takes the scheduler's certificate (which the identity
 * then trusts without asking the CA again) only when the CA in the same file signed it, and
 * leaves the identity as it was when it refuses.
 */
class MemberInstallTest {
    @TempDir
    Path dir;

    private Identity alice;
    private Identity stranger;

    @BeforeEach
    void twoCooperatives() throws Exception {
        for (String coop : new String[] {"ours", "theirs"}) {
            CliRun init = CliRun.of("init", "--data", dir.resolve(coop).toString(), "--founders", "alice:lab-a",
                    "--accounts", "lab-a");
            assertThat(init.exitCode()).as(init.err()).isZero();
        }
        alice = Identity.read(dir.resolve("ours/identities/alice.json"));
        stranger = Identity.read(dir.resolve("theirs/identities/alice.json"));
        assertThat(alice.schedulerCertificate()).isNotEqualTo(stranger.schedulerCertificate());
    }

    @Test
    void aSchedulerCertificateItsCaSignedIsInstalledAsThePin() throws Exception {
        Path identity = unpinnedCopy();
        CliRun run = install(certFile(alice.schedulerCertificate()), identity);

        assertThat(run.err()).isEmpty();
        assertThat(run.exitCode()).isZero();
        assertThat(Identity.read(identity).schedulerCertificate()).isEqualTo(alice.schedulerCertificate());
    }

    @Test
    void aSchedulerCertificateAnotherCaSignedIsRefusedAndTheIdentityKept() throws Exception {
        Path identity = unpinnedCopy();
        String before = Files.readString(identity);
        Path cert = certFile(stranger.schedulerCertificate());
        CliRun run = install(cert, identity);

        assertThat(run.exitCode()).isEqualTo(1);
        assertThat(run.err()).isEqualTo("error: " + cert + ": \"scheduler_certificate\" is not signed by its "
                + "\"ca_certificate\"" + System.lineSeparator());
        assertThat(Files.readString(identity)).isEqualTo(before);
    }

    /** Alice's identity as it was before coop recorded the scheduler's certificate. */
    private Path unpinnedCopy() throws Exception {
        Path copy = dir.resolve("alice.json");
        alice.withTls(alice.caCertificate(), alice.certificate(), alice.tlsKey(), null).write(copy);
        return copy;
    }

    /** A NAME.cert.json as coop member certify writes it, with the given scheduler certificate. */
    private Path certFile(String schedulerCertificate) throws Exception {
        Map<String, String> fields = new LinkedHashMap<>();
        fields.put("member", "alice");
        fields.put("certificate", alice.certificate());
        fields.put("ca_certificate", alice.caCertificate());
        fields.put("scheduler_certificate", schedulerCertificate);
        Path file = dir.resolve("alice.cert.json");
        new ObjectMapper().writeValue(file.toFile(), fields);
        return file;
    }

    private static CliRun install(Path cert, Path identity) {
        return CliRun.of("member", "install-certificate", cert.toString(), "--identity", identity.toString());
    }
}
