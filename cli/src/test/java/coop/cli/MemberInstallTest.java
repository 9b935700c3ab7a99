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

    @Test
    void theIdentityCallsTheSchedulerThatSignedUnlessItNamesAnotherOfItsOwn() throws Exception {
        // keygen without --scheduler records none: the client would call 127.0.0.1:7070.
        for (String named : new String[] {null, ClientOptions.DEFAULT_SCHEDULER}) {
            Path identity = unpinnedCopy();
            Identity.read(identity).withScheduler(named).write(identity);
            CliRun run = install(certFile(alice.schedulerCertificate(), "10.0.0.5:7443"), identity);

            assertThat(run.exitCode()).as(run.err()).isZero();
            assertThat(Identity.read(identity).scheduler()).as("named %s", named).isEqualTo("10.0.0.5:7443");
            assertThat(run.out()).contains("it calls the scheduler at 10.0.0.5:7443");
        }

        Path own = unpinnedCopy();
        Identity.read(own).withScheduler("sched.example.org:7070").write(own);
        CliRun kept = install(certFile(alice.schedulerCertificate(), "127.0.0.1:40123"), own);
        assertThat(kept.exitCode()).as(kept.err()).isZero();
        assertThat(Identity.read(own).scheduler()).isEqualTo("sched.example.org:7070");

        Path bad = unpinnedCopy();
        Identity.read(bad).withScheduler(null).write(bad);
        String before = Files.readString(bad);
        CliRun refused = install(certFile(alice.schedulerCertificate(), "no-port"), bad);
        assertThat(refused.exitCode()).isEqualTo(1);
        assertThat(refused.err()).contains("'no-port' is not HOST:PORT");
        assertThat(Files.readString(bad)).isEqualTo(before);
    }

    /** Alice's identity as it was before coop recorded the scheduler's certificate. */
    private Path unpinnedCopy() throws Exception {
        Path copy = dir.resolve("alice.json");
        alice.withTls(alice.caCertificate(), alice.certificate(), alice.tlsKey(), null).write(copy);
        return copy;
    }

    /** A NAME.cert.json as coop member certify wrote it before it recorded the scheduler's address. */
    private Path certFile(String schedulerCertificate) throws Exception {
        return certFile(schedulerCertificate, null);
    }

    /** A NAME.cert.json as coop member certify writes it, with the given scheduler certificate and address. */
    private Path certFile(String schedulerCertificate, String signedBy) throws Exception {
        Map<String, String> fields = new LinkedHashMap<>();
        fields.put("member", "alice");
        if (signedBy != null) {
            fields.put("scheduler", signedBy);
        }
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
