package coop.scheduler.trust;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.math.BigInteger;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFileAttributeView;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.SecureRandom;
import java.security.cert.CertificateException;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.security.spec.PKCS8EncodedKeySpec;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Date;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x500.X500NameBuilder;
import org.bouncycastle.asn1.x500.style.BCStyle;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.ExtendedKeyUsage;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.asn1.x509.KeyPurposeId;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.cert.X509v3CertificateBuilder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509ExtensionUtils;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.operator.ContentSigner;
import org.bouncycastle.operator.OperatorCreationException;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;

/**
 * The cooperative's certificate authority. {@code coop init} creates it in the data folder
 * ({@code tls/ca.key}, owner-only, and {@code tls/ca.crt}) together with the scheduler's own
 * certificate; the scheduler signs a certificate for every member and node it admits or enrolls.
 * Each leaf names its holder in a URI subject alternative name, {@code coop:member:alice} or
 * {@code coop:node:gpu-07}, which the rpc edge reads to know who is calling; the scheduler's
 * certificate names the host names and addresses clients dial.
 *
 * <p>Keys are ECDSA P-256, which every TLS stack that grpc-java uses (the JDK's and BoringSSL)
 * accepts; certificates are signed SHA256withECDSA.
 */
public final class Authority {

    /** The holder of a leaf certificate: a member or a node, by name. */
    public record Holder(String kind, String name) {
        public static final String MEMBER = "member";
        public static final String NODE = "node";

        public String uri() {
            return "coop:" + kind + ":" + name;
        }

        @Override
        public String toString() {
            return kind + " " + name;
        }
    }

    /** A certificate and its private key, PEM-encoded (the key as PKCS#8), as identity files hold them. */
    public record Issued(String certificatePem, String privateKeyPem) {
        @Override
        public String toString() {
            return "Issued[certificate, key=<redacted>]";
        }
    }

    /** Folder of the data directory the CA and the scheduler's certificate live in. */
    public static final String FOLDER = "tls";
    private static final Duration CA_LIFETIME = Duration.ofDays(3650);
    private static final Duration LEAF_LIFETIME = Duration.ofDays(1825);
    private static final String SIGNATURE = "SHA256withECDSA";

    private final Path dir;
    private final X509Certificate ca;
    private final PrivateKey caKey;
    private final SecureRandom random;

    private Authority(Path dir, X509Certificate ca, PrivateKey caKey, SecureRandom random) {
        this.dir = dir;
        this.ca = ca;
        this.caKey = caKey;
        this.random = random;
    }

    /** Whether the data directory holds a CA. */
    public static boolean exists(Path dataDir) {
        return Files.isRegularFile(dataDir.resolve(FOLDER).resolve("ca.crt"));
    }

    /**
     * Creates the cooperative's CA and the scheduler's certificate in {@code DATA/tls}. The
     * scheduler's certificate names {@code localhost}, 127.0.0.1 and ::1, and the extra host names
     * or addresses given, so that clients dialing any of them can check they reach this scheduler.
     */
    public static Authority create(Path dataDir, String cooperative, List<String> schedulerNames,
                                   SecureRandom random) {
        Path dir = dataDir.resolve(FOLDER);
        try {
            Files.createDirectories(dir);
            KeyPair kp = keyPair(random);
            Instant now = Instant.now();
            X500Name subject = new X500NameBuilder(BCStyle.INSTANCE).addRDN(BCStyle.O, "coop")
                    .addRDN(BCStyle.CN, cooperative + " cooperative CA").build();
            X509v3CertificateBuilder b = new JcaX509v3CertificateBuilder(subject, serial(random),
                    Date.from(now.minus(Duration.ofHours(1))), Date.from(now.plus(CA_LIFETIME)), subject, kp.getPublic());
            JcaX509ExtensionUtils ext = new JcaX509ExtensionUtils();
            b.addExtension(Extension.basicConstraints, true, new BasicConstraints(0));
            b.addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.keyCertSign | KeyUsage.cRLSign));
            b.addExtension(Extension.subjectKeyIdentifier, false, ext.createSubjectKeyIdentifier(kp.getPublic()));
            X509Certificate ca = new JcaX509CertificateConverter().getCertificate(b.build(signer(kp.getPrivate())));
            writePrivate(dir.resolve("ca.key"), pem(kp.getPrivate()));
            Files.writeString(dir.resolve("ca.crt"), pem(ca));
            Authority authority = new Authority(dir, ca, kp.getPrivate(), random);
            authority.issueScheduler(schedulerNames);
            return authority;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write the cooperative's CA to " + dir, e);
        } catch (GeneralSecurityException | OperatorCreationException e) {
            throw new IllegalStateException("cannot create the cooperative's CA: " + e.getMessage(), e);
        }
    }

    /** Loads the CA of a data directory. */
    public static Authority load(Path dataDir, SecureRandom random) {
        Path dir = dataDir.resolve(FOLDER);
        try {
            X509Certificate ca = certificate(Files.readString(dir.resolve("ca.crt")));
            PrivateKey key = privateKey(Files.readString(dir.resolve("ca.key")));
            return new Authority(dir, ca, key, random);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read the cooperative's CA in " + dir, e);
        }
    }

    /** The CA certificate, PEM: what every client and agent trusts. */
    public String caPem() {
        return pem(ca);
    }

    /**
     * The scheduler's own certificate (PEM), without the CA's after it: what clients may pin
     * ({@code coop init} and {@code coop member certify} hand it to members).
     */
    public String schedulerPem() {
        try {
            return pem(certificate(Files.readString(schedulerCertificate())));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read the scheduler's certificate " + schedulerCertificate(), e);
        }
    }

    /** The scheduler's certificate file (PEM: its own certificate, then the CA's). */
    public Path schedulerCertificate() {
        return dir.resolve("scheduler.crt");
    }

    /** The scheduler's private key file (PKCS#8 PEM, owner-only). */
    public Path schedulerKey() {
        return dir.resolve("scheduler.key");
    }

    /** The CA certificate file (PEM). */
    public Path caCertificate() {
        return dir.resolve("ca.crt");
    }

    /** A fresh key pair and a certificate for it naming the holder, for its identity file. */
    public Issued issue(Holder holder) {
        KeyPair kp = keyPair(random);
        return new Issued(pem(leaf(holder, kp.getPublic())), pem(kp.getPrivate()));
    }

    /** A certificate naming the holder for a public key it made itself (PEM). */
    public String certify(Holder holder, PublicKey key) {
        return pem(leaf(holder, key));
    }

    private X509Certificate leaf(Holder holder, PublicKey key) {
        X500Name subject = new X500NameBuilder(BCStyle.INSTANCE).addRDN(BCStyle.O, "coop")
                .addRDN(BCStyle.OU, holder.kind()).addRDN(BCStyle.CN, holder.name()).build();
        return sign(subject, key, new GeneralNames(new GeneralName(GeneralName.uniformResourceIdentifier,
                holder.uri())), KeyPurposeId.id_kp_clientAuth);
    }

    private void issueScheduler(List<String> names) throws IOException, GeneralSecurityException {
        Set<String> all = new LinkedHashSet<>(List.of("localhost", "127.0.0.1", "::1"));
        all.addAll(names);
        List<GeneralName> sans = new ArrayList<>();
        for (String n : all) {
            sans.add(isAddress(n) ? new GeneralName(GeneralName.iPAddress, n) : new GeneralName(GeneralName.dNSName, n));
        }
        KeyPair kp = keyPair(random);
        X500Name subject = new X500NameBuilder(BCStyle.INSTANCE).addRDN(BCStyle.O, "coop")
                .addRDN(BCStyle.CN, "coop scheduler").build();
        X509Certificate cert = sign(subject, kp.getPublic(), new GeneralNames(sans.toArray(GeneralName[]::new)),
                KeyPurposeId.id_kp_serverAuth);
        writePrivate(schedulerKey(), pem(kp.getPrivate()));
        Files.writeString(schedulerCertificate(), pem(cert) + pem(ca));
    }

    /**
     * Issues the certificate the scheduler's replicas show one another on their Raft connections,
     * in {@code DATA/tls/replica.crt} (with the CA after it) and {@code replica.key}: it names
     * {@code localhost}, 127.0.0.1, ::1 and the replicas' hosts, and serves both ends of a mutual
     * TLS connection, since each replica dials the others and is dialled by them.
     */
    public void issueReplica(List<String> hosts) {
        try {
            Set<String> all = new LinkedHashSet<>(List.of("localhost", "127.0.0.1", "::1"));
            all.addAll(hosts);
            List<GeneralName> sans = new ArrayList<>();
            for (String n : all) {
                sans.add(isAddress(n) ? new GeneralName(GeneralName.iPAddress, n)
                        : new GeneralName(GeneralName.dNSName, n));
            }
            KeyPair kp = keyPair(random);
            X500Name subject = new X500NameBuilder(BCStyle.INSTANCE).addRDN(BCStyle.O, "coop")
                    .addRDN(BCStyle.CN, "coop scheduler replica").build();
            X509Certificate cert = sign(subject, kp.getPublic(), new GeneralNames(sans.toArray(GeneralName[]::new)),
                    KeyPurposeId.id_kp_serverAuth, KeyPurposeId.id_kp_clientAuth);
            writePrivate(replicaKey(), pem(kp.getPrivate()));
            Files.writeString(replicaCertificate(), pem(cert) + pem(ca));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write the replicas' certificate to " + dir, e);
        }
    }

    /** The replicas' certificate chain (PEM), made by {@link #issueReplica}. */
    public Path replicaCertificate() {
        return dir.resolve("replica.crt");
    }

    /** The replicas' private key (PKCS#8 PEM). */
    public Path replicaKey() {
        return dir.resolve("replica.key");
    }

    private X509Certificate sign(X500Name subject, PublicKey key, GeneralNames sans, KeyPurposeId... purposes) {
        try {
            Instant now = Instant.now();
            X509v3CertificateBuilder b = new JcaX509v3CertificateBuilder(ca, serial(random),
                    Date.from(now.minus(Duration.ofHours(1))), Date.from(now.plus(LEAF_LIFETIME)), subject, key);
            JcaX509ExtensionUtils ext = new JcaX509ExtensionUtils();
            b.addExtension(Extension.basicConstraints, true, new BasicConstraints(false));
            b.addExtension(Extension.keyUsage, true, new KeyUsage(KeyUsage.digitalSignature));
            b.addExtension(Extension.extendedKeyUsage, false, new ExtendedKeyUsage(purposes));
            b.addExtension(Extension.subjectAlternativeName, false, sans);
            b.addExtension(Extension.authorityKeyIdentifier, false, ext.createAuthorityKeyIdentifier(ca));
            return new JcaX509CertificateConverter().getCertificate(b.build(signer(caKey)));
        } catch (GeneralSecurityException | OperatorCreationException | IOException e) {
            throw new IllegalStateException("cannot sign a certificate: " + e.getMessage(), e);
        }
    }

    /** Who a leaf certificate names, from its {@code coop:KIND:NAME} URI; empty if it names nobody. */
    public static Optional<Holder> holderOf(X509Certificate cert) {
        try {
            var sans = cert.getSubjectAlternativeNames();
            if (sans == null) {
                return Optional.empty();
            }
            for (List<?> san : sans) {
                if (san.size() == 2 && Integer.valueOf(6).equals(san.get(0)) && san.get(1) instanceof String uri) {
                    String[] parts = uri.split(":", 3);
                    if (parts.length == 3 && parts[0].equals("coop")
                            && (parts[1].equals(Holder.MEMBER) || parts[1].equals(Holder.NODE))) {
                        return Optional.of(new Holder(parts[1], parts[2]));
                    }
                }
            }
            return Optional.empty();
        } catch (CertificateException e) {
            return Optional.empty();
        }
    }

    // ------------------------------------------------------------------ PEM

    public static String pem(X509Certificate cert) {
        try {
            return pem("CERTIFICATE", cert.getEncoded());
        } catch (java.security.cert.CertificateEncodingException e) {
            throw new IllegalStateException(e);
        }
    }

    /** The serial number of a PEM certificate, in hexadecimal, as the ledger records it. */
    public static String serial(String certificatePem) {
        return certificate(certificatePem).getSerialNumber().toString(16);
    }

    /** A public key as X.509 SubjectPublicKeyInfo PEM. */
    public static String pem(PublicKey key) {
        return pem("PUBLIC KEY", key.getEncoded());
    }

    /** A private key as PKCS#8 PEM, the form Netty's TLS reads. */
    public static String pem(PrivateKey key) {
        return pem("PRIVATE KEY", key.getEncoded());
    }

    private static String pem(String type, byte[] der) {
        return "-----BEGIN " + type + "-----\n"
                + Base64.getMimeEncoder(64, "\n".getBytes(StandardCharsets.US_ASCII)).encodeToString(der)
                + "\n-----END " + type + "-----\n";
    }

    private static byte[] der(String pem, String type) {
        String begin = "-----BEGIN " + type + "-----";
        int from = pem.indexOf(begin);
        int to = pem.indexOf("-----END " + type + "-----");
        if (from < 0 || to < from) {
            throw new IllegalArgumentException("no " + type + " in PEM text");
        }
        return Base64.getMimeDecoder().decode(pem.substring(from + begin.length(), to));
    }

    /** The first certificate of a PEM text. */
    public static X509Certificate certificate(String pem) {
        try {
            return (X509Certificate) CertificateFactory.getInstance("X.509")
                    .generateCertificate(new ByteArrayInputStream(der(pem, "CERTIFICATE")));
        } catch (CertificateException e) {
            throw new IllegalArgumentException("not an X.509 certificate: " + e.getMessage(), e);
        }
    }

    /** An X.509 SubjectPublicKeyInfo PEM public key (EC). */
    public static PublicKey publicKey(String pem) {
        try {
            return KeyFactory.getInstance("EC").generatePublic(new java.security.spec.X509EncodedKeySpec(
                    der(pem, "PUBLIC KEY")));
        } catch (GeneralSecurityException e) {
            throw new IllegalArgumentException("not an EC public key: " + e.getMessage(), e);
        }
    }

    /** A PKCS#8 PEM private key (EC). */
    public static PrivateKey privateKey(String pem) {
        try {
            return KeyFactory.getInstance("EC").generatePrivate(new PKCS8EncodedKeySpec(der(pem, "PRIVATE KEY")));
        } catch (GeneralSecurityException e) {
            throw new IllegalArgumentException("not an EC private key: " + e.getMessage(), e);
        }
    }

    /** A fresh P-256 key pair. */
    public static KeyPair keyPair(SecureRandom random) {
        try {
            KeyPairGenerator g = KeyPairGenerator.getInstance("EC");
            g.initialize(new ECGenParameterSpec("secp256r1"), random);
            return g.generateKeyPair();
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("no P-256 key pairs in this JDK", e);
        }
    }

    private static ContentSigner signer(PrivateKey key) throws OperatorCreationException {
        return new JcaContentSignerBuilder(SIGNATURE).build(key);
    }

    private static BigInteger serial(SecureRandom random) {
        return new BigInteger(127, random).add(BigInteger.ONE);
    }

    private static boolean isAddress(String name) {
        if (name.contains(":")) {
            return true;
        }
        if (!name.matches("[0-9.]+")) {
            return false;
        }
        try {
            return InetAddress.getByName(name).getHostAddress().equals(name);
        } catch (IOException e) {
            return false;
        }
    }

    /**
     * Writes a credential file (a key, an identity): owner-only (0600) where the file system
     * supports POSIX permissions, and moved into place so that a reader never sees half a file.
     */
    public static void writePrivate(Path path, byte[] bytes) throws IOException {
        Path target = path.toAbsolutePath();
        Path dir = target.getParent();
        Files.createDirectories(dir);
        boolean posix = Files.getFileStore(dir).supportsFileAttributeView(PosixFileAttributeView.class);
        Path tmp = posix
                ? Files.createTempFile(dir, ".secret-", ".tmp",
                        PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")))
                : Files.createTempFile(dir, ".secret-", ".tmp");
        try {
            Files.write(tmp, bytes);
            try {
                Files.move(tmp, target, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
            } catch (AtomicMoveNotSupportedException e) {
                Files.move(tmp, target, StandardCopyOption.REPLACE_EXISTING);
            }
        } finally {
            Files.deleteIfExists(tmp);
        }
    }

    private static void writePrivate(Path path, String text) throws IOException {
        writePrivate(path, text.getBytes(StandardCharsets.US_ASCII));
    }
}
