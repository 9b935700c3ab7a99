package coop.cli;

import io.grpc.netty.shaded.io.netty.handler.ssl.OpenSsl;
import java.security.KeyFactory;
import java.security.cert.CertificateFactory;
import javax.net.ssl.SSLContext;

/**
 * Sets up the TLS machinery on a thread of its own while the main thread parses the command
 * line and reads the identity file, for a short-lived subcommand: most of them call the
 * scheduler over mutual TLS, and this is the set-up that call makes anyway, first thing. With
 * Netty's TLS library (when the launcher hands it over): loading BoringSSL and Netty's probe of
 * it, which takes in the JDK's TLS context too (the SunJSSE provider and its cipher-suite tables:
 * Netty asks it which protocols the JDK supports). With the JDK's TLS: the default TLS context,
 * which Netty creates to learn the default protocols and cipher suites. Then the X.509 and EC
 * key factories that {@link coop.agent.ClientTls} reads the identity's certificates and key
 * with. Done in a new JVM, that is some 100 ms of class initialisation; done here it overlaps
 * picocli's own and the main thread's reading of the identity. Nothing the call does not need
 * is set up: the key store and the JDK's trust manager over the CA are made only when a
 * scheduler presents a certificate other than the one pinned ({@link coop.agent.SchedulerTrust}).
 * It starts before picocli has looked at the arguments, since knowing the subcommand's class
 * costs as much as the head start; a subcommand that never dials has a spare core spend it.
 * Only classes whose initialisation is safe from any thread are touched; a failure here is
 * ignored, since the same step on the main thread then reports it.
 */
final class TlsWarmUp {

    private TlsWarmUp() {
    }

    /** Starts the warm-up on a daemon thread and returns at once. */
    static void start() {
        Thread thread = new Thread(TlsWarmUp::run, "coop-tls-warm-up");
        thread.setDaemon(true);
        thread.start();
    }

    private static void run() {
        try {
            // Without BoringSSL (not handed over, or failing to load) Netty falls back to the JDK's TLS.
            if (Boolean.getBoolean(Main.NO_OPENSSL) || !OpenSsl.isAvailable()) {
                SSLContext.getInstance("TLS").init(null, null, null);
            }
            CertificateFactory.getInstance("X.509");
            KeyFactory.getInstance("EC");
        } catch (Exception | LinkageError ignored) {
            // The main thread makes the same calls and reports what fails.
        }
    }
}
