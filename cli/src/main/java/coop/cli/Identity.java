package coop.cli;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.Objects;

/**
 * Who the caller is to the scheduler: a member name and the secret token that proves
 * it, the member's Ed25519 key pair that signs its proposals, ballots, delegations and
 * reviews, its TLS certificate and key with the cooperative's CA certificate (mutual TLS),
 * plus the scheduler the member normally talks to and that scheduler's own certificate. Stored
 * as a small JSON file ({@code {"member":"alice","token":"…","public_key":"…","private_key":"…",
 * "scheduler":"…","ca_certificate":"…","certificate":"…","tls_key":"…",
 * "scheduler_certificate":"…"}}) written by {@code coop init} or {@code coop member keygen};
 * the token and private keys are credentials, so the file is written owner-only.
 *
 * @param member        member name, sent as the {@code coop-member} header
 * @param token         secret, sent as the {@code coop-token} header
 * @param scheduler     the scheduler's {@code HOST:PORT}, or {@code null} when not recorded
 * @param publicKey     Ed25519 public key (base64 of X.509), or {@code null}
 * @param privateKey    Ed25519 private key (base64 of PKCS#8), or {@code null}
 * @param caCertificate the cooperative's CA certificate (PEM), or {@code null}
 * @param certificate   the member's TLS certificate (PEM), or {@code null} until it is certified
 * @param tlsKey        the TLS certificate's private key (PKCS#8 PEM), or {@code null}
 * @param schedulerCertificate the scheduler's own TLS certificate (PEM), which the client then
 *                      accepts without checking the CA's signature on it again
 *                      ({@link coop.agent.ClientTls}), or {@code null} to trust the CA's word alone
 */
public record Identity(String member, String token, String scheduler, String publicKey, String privateKey,
                       String caCertificate, String certificate, String tlsKey, String schedulerCertificate) {

    public Identity(String member, String token, String scheduler) {
        this(member, token, scheduler, null, null, null, null, null, null);
    }

    public Identity(String member, String token, String scheduler, String publicKey, String privateKey) {
        this(member, token, scheduler, publicKey, privateKey, null, null, null, null);
    }

    /** The mutual-TLS material to dial with, or {@code null} when the file holds no certificate (plaintext). */
    public coop.agent.ClientTls tls() {
        return caCertificate == null || certificate == null || tlsKey == null ? null
                : new coop.agent.ClientTls(caCertificate, certificate, tlsKey, schedulerCertificate);
    }

    /**
     * The same identity with a TLS certificate (and its key) signed by the cooperative's CA, and
     * the scheduler's certificate ({@code null} if not known).
     */
    public Identity withTls(String ca, String cert, String key, String schedulerCert) {
        return new Identity(member, token, scheduler, publicKey, privateKey, ca, cert, key, schedulerCert);
    }

    /** The same identity calling {@code address} ({@code HOST:PORT}), or none recorded when {@code null}. */
    public Identity withScheduler(String address) {
        return new Identity(member, token, address, publicKey, privateKey, caCertificate, certificate, tlsKey,
                schedulerCertificate);
    }

    /** A new identity: a fresh secret token (32 random bytes) and a fresh key pair. */
    public static Identity fresh(String member, String scheduler, java.security.SecureRandom random) {
        byte[] secret = new byte[32];
        random.nextBytes(secret);
        return generate(member, java.util.Base64.getUrlEncoder().withoutPadding().encodeToString(secret), scheduler);
    }

    /** A new identity with the given token and a fresh key pair. */
    public static Identity generate(String member, String token, String scheduler) {
        java.security.KeyPair kp = coop.scheduler.ledger.Keys.generate();
        return new Identity(member, token, scheduler, coop.scheduler.ledger.Keys.encode(kp.getPublic()),
                coop.scheduler.ledger.Keys.encode(kp.getPrivate()));
    }

    /**
     * The key that signs this member's statements.
     *
     * @throws CliException when the file holds none
     */
    public java.security.PrivateKey signingKey() {
        if (privateKey == null) {
            throw new CliException("identity of " + member + " holds no signing key (\"private_key\"); "
                    + "make a new one with coop member keygen");
        }
        try {
            return coop.scheduler.ledger.Keys.privateKey(privateKey);
        } catch (IllegalArgumentException e) {
            throw new CliException("identity of " + member + ": \"private_key\" " + e.getMessage());
        }
    }

    /**
     * Reads identity files with jackson-core's streaming parser alone: every client call reads
     * one, and building an {@link ObjectMapper} costs a short-lived {@code coop submit} more
     * than reading the file. Writing (rare) uses the mapper, built on first use.
     */
    private static final JsonFactory JSON = new JsonFactory();

    /** The mapper that writes identity files, built on first use ({@link #JSON} reads them). */
    private static final class Mapper {
        static final ObjectMapper MAPPER = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
    }

    /** Stands for a field whose value is not a string (a number, object, array or boolean). */
    private static final Object NOT_TEXT = new Object();

    public Identity {
        if (member == null || member.isBlank()) {
            throw new IllegalArgumentException("identity needs a member name");
        }
        if (token == null || token.isBlank()) {
            throw new IllegalArgumentException("identity needs a token");
        }
        if (scheduler != null && scheduler.isBlank()) {
            scheduler = null;
        }
    }

    /**
     * Reads an identity file.
     *
     * @throws CliException naming the file when it is missing, unreadable or malformed
     */
    public static Identity read(Path path) {
        Objects.requireNonNull(path, "path");
        Map<String, Object> root = new HashMap<>();
        try (JsonParser json = JSON.createParser(Files.readAllBytes(path))) {
            if (json.nextToken() != JsonToken.START_OBJECT) {
                throw new CliException("identity file " + path + " must hold a JSON object with \"member\" and \"token\"");
            }
            while (json.nextToken() == JsonToken.FIELD_NAME) {
                String field = json.currentName();
                JsonToken value = json.nextToken();
                if (value == JsonToken.VALUE_STRING) {
                    root.put(field, json.getText());
                } else if (value == JsonToken.VALUE_NULL) {
                    root.remove(field);
                } else {
                    root.put(field, NOT_TEXT);
                    json.skipChildren();
                }
            }
        } catch (NoSuchFileException e) {
            throw new CliException("identity file " + path + " does not exist (create one with coop init)");
        } catch (JsonProcessingException e) {
            throw new CliException("identity file " + path + " is not valid JSON: " + e.getOriginalMessage());
        } catch (IOException e) {
            throw new CliException("cannot read identity file " + path + ": " + e, e);
        }
        String member = text(root, "member", path, true);
        String token = text(root, "token", path, true);
        String scheduler = text(root, "scheduler", path, false);
        return new Identity(member, token, scheduler, text(root, "public_key", path, false),
                text(root, "private_key", path, false), text(root, "ca_certificate", path, false),
                text(root, "certificate", path, false), text(root, "tls_key", path, false),
                text(root, "scheduler_certificate", path, false));
    }

    private static String text(Map<String, Object> root, String field, Path path, boolean required) {
        Object value = root.get(field);
        if (value == null) {
            if (required) {
                throw new CliException("identity file " + path + " lacks \"" + field + "\"");
            }
            return null;
        }
        if (value == NOT_TEXT || (required && ((String) value).isBlank())) {
            throw new CliException("identity file " + path + ": \"" + field + "\" must be a non-empty string");
        }
        return (String) value;
    }

    /**
     * Writes this identity to {@code path}, replacing any file there. The file is
     * created with permissions 0600 where the file system supports POSIX permissions,
     * and moved into place so that a reader never sees half a file.
     */
    public void write(Path path) throws IOException {
        ObjectNode json = Mapper.MAPPER.createObjectNode().put("member", member).put("token", token);
        if (scheduler != null) {
            json.put("scheduler", scheduler);
        }
        if (publicKey != null) {
            json.put("public_key", publicKey);
        }
        if (privateKey != null) {
            json.put("private_key", privateKey);
        }
        if (caCertificate != null) {
            json.put("ca_certificate", caCertificate);
        }
        if (certificate != null) {
            json.put("certificate", certificate);
        }
        if (tlsKey != null) {
            json.put("tls_key", tlsKey);
        }
        if (schedulerCertificate != null) {
            json.put("scheduler_certificate", schedulerCertificate);
        }
        writePrivate(path, (Mapper.MAPPER.writeValueAsString(json) + "\n").getBytes(StandardCharsets.UTF_8));
    }

    /** Writes a credential file owner-only, whole or not at all ({@link coop.scheduler.trust.Authority#writePrivate}). */
    static void writePrivate(Path path, byte[] bytes) throws IOException {
        coop.scheduler.trust.Authority.writePrivate(path, bytes);
    }

    /** Like the record's, but never shows the token or the private key. */
    @Override
    public String toString() {
        return "Identity[member=" + member + ", token=<redacted>, scheduler=" + scheduler + ", public_key="
                + publicKey + ", tls=" + (tls() == null ? "none" : "certificate") + "]";
    }
}
