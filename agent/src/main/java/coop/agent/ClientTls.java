package coop.agent;

import io.grpc.ChannelCredentials;
import io.grpc.TlsChannelCredentials;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;

/**
 * How coop's clients, the CLI and the agents, present themselves to a scheduler that requires
 * mutual TLS: the cooperative's CA certificate (the only one trusted, so a client reaches only
 * its own cooperative's scheduler), and the holder's certificate and PKCS#8 private key, all PEM,
 * as the identity files hold them.
 */
public record ClientTls(String caPem, String certificatePem, String privateKeyPem) {

    public ClientTls {
        if (caPem == null || certificatePem == null || privateKeyPem == null) {
            throw new IllegalArgumentException("TLS needs the CA certificate, a certificate and its key");
        }
    }

    /** The credentials to dial with. */
    public ChannelCredentials credentials() {
        try {
            return TlsChannelCredentials.newBuilder()
                    .keyManager(stream(certificatePem), stream(privateKeyPem))
                    .trustManager(stream(caPem))
                    .build();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read the identity's TLS certificate or key", e);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("the identity's TLS certificate or key is malformed: "
                    + e.getMessage(), e);
        }
    }

    /** A channel builder for {@code target}: over TLS with {@code tls}, or plaintext when it is null. */
    public static NettyChannelBuilder channel(String target, ClientTls tls) {
        return tls == null ? NettyChannelBuilder.forTarget(target).usePlaintext()
                : NettyChannelBuilder.forTarget(target, tls.credentials());
    }

    private static ByteArrayInputStream stream(String pem) {
        return new ByteArrayInputStream(pem.getBytes(StandardCharsets.US_ASCII));
    }

    @Override
    public String toString() {
        return "ClientTls[ca, certificate, key=<redacted>]";
    }
}
