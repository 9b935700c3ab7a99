package coop.scheduler.trust;

import io.grpc.netty.shaded.io.netty.handler.ssl.OpenSsl;
import io.grpc.netty.shaded.io.netty.handler.ssl.OpenSslCertificateException;
import io.grpc.netty.shaded.io.netty.internal.tcnative.CertificateVerifier;
import java.net.Socket;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.cert.CertPathBuilderException;
import java.security.cert.CertPathValidatorException;
import java.security.cert.CertificateException;
import java.security.cert.CertificateExpiredException;
import java.security.cert.CertificateNotYetValidException;
import java.security.cert.CertificateRevokedException;
import java.security.cert.X509Certificate;
import java.util.Arrays;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.TrustManagerFactory;
import javax.net.ssl.X509ExtendedTrustManager;

/**
 * How the scheduler's TLS port checks a caller's certificate: the JDK's PKIX check against the
 * cooperative's CA alone, with each refusal labelled so that the caller gets a TLS alert that
 * says what is wrong. Under OpenSSL (BoringSSL), Netty turns a refusal it has no code for, such as
 * "no path to a trusted CA", into {@code X509_V_ERR_UNSPECIFIED}, which BoringSSL sends as
 * {@code internal_error}: the client then blames the scheduler for its own certificate. Here a
 * certificate no chain leads from to the CA gets {@code unknown_ca}, any other refusal
 * {@code bad_certificate}, and expired, not yet valid and revoked ones keep the alerts Netty
 * already gives them. Under the JDK's TLS, which chooses its own alerts, refusals pass unchanged.
 */
public final class CooperativeTrust extends X509ExtendedTrustManager {
    private final X509ExtendedTrustManager pkix;

    private CooperativeTrust(X509ExtendedTrustManager pkix) {
        this.pkix = pkix;
    }

    /** Trust in {@code ca} alone. */
    public static CooperativeTrust of(X509Certificate ca) {
        try {
            KeyStore trusted = KeyStore.getInstance(KeyStore.getDefaultType());
            trusted.load(null, null);
            trusted.setCertificateEntry("ca", ca);
            TrustManagerFactory factory = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
            factory.init(trusted);
            return new CooperativeTrust(Arrays.stream(factory.getTrustManagers())
                    .filter(X509ExtendedTrustManager.class::isInstance).map(X509ExtendedTrustManager.class::cast)
                    .findFirst().orElseThrow(() -> new GeneralSecurityException("the JDK offers no X.509 trust "
                            + "manager")));
        } catch (GeneralSecurityException | java.io.IOException e) {
            throw new IllegalStateException("cannot trust the cooperative's CA: " + e.getMessage(), e);
        }
    }

    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType, SSLEngine engine)
            throws CertificateException {
        try {
            pkix.checkClientTrusted(chain, authType, engine);
        } catch (CertificateException e) {
            throw labelled(e);
        }
    }

    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType, Socket socket)
            throws CertificateException {
        try {
            pkix.checkClientTrusted(chain, authType, socket);
        } catch (CertificateException e) {
            throw labelled(e);
        }
    }

    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType) throws CertificateException {
        try {
            pkix.checkClientTrusted(chain, authType);
        } catch (CertificateException e) {
            throw labelled(e);
        }
    }

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType, SSLEngine engine)
            throws CertificateException {
        pkix.checkServerTrusted(chain, authType, engine);
    }

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType, Socket socket)
            throws CertificateException {
        pkix.checkServerTrusted(chain, authType, socket);
    }

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType) throws CertificateException {
        pkix.checkServerTrusted(chain, authType);
    }

    @Override
    public X509Certificate[] getAcceptedIssuers() {
        return pkix.getAcceptedIssuers();
    }

    /** The refusal with the OpenSSL verification code its alert comes from, where Netty would give none. */
    static CertificateException labelled(CertificateException e) {
        if (e instanceof OpenSslCertificateException || e instanceof CertificateExpiredException
                || e instanceof CertificateNotYetValidException || e instanceof CertificateRevokedException
                || !OpenSsl.isAvailable()) {
            return e;
        }
        boolean noPath = false;
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof CertPathValidatorException v && (v.getReason()
                    == CertPathValidatorException.BasicReason.EXPIRED
                    || v.getReason() == CertPathValidatorException.BasicReason.NOT_YET_VALID
                    || v.getReason() == CertPathValidatorException.BasicReason.REVOKED)) {
                return e;
            }
            noPath |= t instanceof CertPathBuilderException;
        }
        // Read only here: the codes come from the native library, loaded once OpenSSL is available.
        int code = noPath ? CertificateVerifier.X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY
                : CertificateVerifier.X509_V_ERR_CERT_REJECTED;
        OpenSslCertificateException labelled = new OpenSslCertificateException(e.getMessage(), e, code);
        return labelled;
    }
}
