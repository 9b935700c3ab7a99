package coop.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.grpc.Status;
import org.junit.jupiter.api.Test;

class ErrorsTest {

    @Test
    void namesTheSchedulerWhenItCannotBeReached() {
        assertThat(Errors.message(Status.UNAVAILABLE.withDescription("io exception").asRuntimeException(), () -> "h:1"))
                .isEqualTo("cannot reach scheduler at h:1 (is it running?)");
        assertThat(Errors.message(Status.DEADLINE_EXCEEDED.asRuntimeException(), () -> "h:1"))
                .isEqualTo("scheduler at h:1 did not answer within 30s");
    }

    @Test
    void saysWhenTlsIsWhyTheSchedulerCannotBeReached() {
        var handshake = new javax.net.ssl.SSLHandshakeException("PKIX path validation failed");
        assertThat(Errors.message(Status.UNAVAILABLE.withDescription("io exception")
                .withCause(new RuntimeException(handshake)).asRuntimeException(), () -> "h:1"))
                .isEqualTo("cannot talk TLS with scheduler at h:1: PKIX path validation failed (it requires mutual "
                        + "TLS: --identity FILE must hold a certificate of its cooperative)");
    }

    @Test
    void showsTheSchedulersDescriptionForRefusals() {
        assertThat(Errors.message(Status.NOT_FOUND.withDescription("job 9 does not exist").asRuntimeException(), () -> "x"))
                .isEqualTo("job 9 does not exist");
        assertThat(Errors.message(Status.UNAUTHENTICATED.asRuntimeException(), () -> "x")).isEqualTo("unauthenticated");
        assertThat(Errors.message(new RuntimeException("wrapped", Status.ALREADY_EXISTS
                .withDescription("node-a is enrolled").asException()), () -> "x")).isEqualTo("node-a is enrolled");
    }

    @Test
    void otherFailuresShowTheirMessageOnOneLine() {
        assertThat(Errors.message(new IllegalStateException("two\n  lines"), () -> "x")).isEqualTo("two lines");
        assertThat(Errors.message(new NullPointerException(), () -> "x")).isEqualTo("NullPointerException");
    }

    @Test
    void aBadSchedulerAddressIsOneLine() {
        CliRun run = CliRun.of("nodes", "--scheduler", "nohost");
        assertThat(run.exitCode()).isEqualTo(1);
        assertThat(run.err().lines()).containsExactly("error: scheduler address 'nohost' is not HOST:PORT");
    }
}
