package coop.cli;

import java.security.KeyFactory;
import java.security.KeyStore;
import java.security.cert.CertificateFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;

/**
 * Sets up the JDK's TLS machinery on a thread of its own while the main thread parses the
 * command line and reads the identity file, for a short-lived subcommand: most of them call the
 * scheduler over mutual TLS, and this is the set-up that call makes anyway, first thing: the SunJSSE provider
 * and its cipher-suite tables, the JDK's default TLS context (which Netty creates to learn the
 * default protocols and cipher suites, and which reads the JDK's trust store), and the X.509,
 * EC key, key store and trust manager factories that {@link coop.agent.ClientTls} uses. Done in
 * a new JVM, that is some 50 ms of class initialisation; done here it overlaps picocli's own.
 * It starts before picocli has looked at the arguments, since knowing the subcommand's class
 * costs as much as the head start; a subcommand that never dials has a spare core spend it.
 * Only JDK classes are touched, whose initialisation is safe from any thread; a failure here is
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
            SSLContext.getInstance("TLS").init(null, null, null);
            CertificateFactory.getInstance("X.509");
            KeyFactory.getInstance("EC");
            KeyStore.getInstance(KeyStore.getDefaultType()).load(null, null);
            TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        } catch (Exception | LinkageError ignored) {
            // The main thread makes the same calls and reports what fails.
        }
    }
}
