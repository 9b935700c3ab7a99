package coop.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;

/**
 * A node's identity, written by {@code coop node enroll} and read by {@code coop agent
 * --identity}: the node's name and site, the account it serves, its secret token, the
 * scheduler it dials, and its TLS certificate and key with the cooperative's CA certificate
 * ({@code {"node":"n1","site":"north","account":"lab-a","token":"…","scheduler":"…",
 * "ca_certificate":"…","certificate":"…","tls_key":"…"}}). The token and key are credentials, so
 * the file is written owner-only.
 *
 * @param tls the node's mutual-TLS material, or {@code null} for a scheduler without TLS
 */
public record NodeIdentity(String node, String site, String account, String token, String scheduler,
                           coop.agent.ClientTls tls) {

    public NodeIdentity(String node, String site, String account, String token, String scheduler) {
        this(node, site, account, token, scheduler, null);
    }

    /** The identity an enrollment answer makes, for a node that dials {@code scheduler}. */
    public static NodeIdentity enrolled(coop.v1.EnrollResponse r, String scheduler) {
        return new NodeIdentity(r.getName(), r.getSite(), r.getAccount(), r.getToken(), scheduler, tls(r));
    }

    /** The TLS material of an enrollment answer; null from a scheduler without TLS. */
    public static coop.agent.ClientTls tls(coop.v1.EnrollResponse r) {
        return r.getCaCertificate().isEmpty() ? null
                : new coop.agent.ClientTls(r.getCaCertificate(), r.getCertificate(), r.getPrivateKey());
    }
    private static final ObjectMapper MAPPER = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    public static NodeIdentity read(Path path) {
        JsonNode root;
        try {
            root = MAPPER.readTree(Files.readAllBytes(path));
        } catch (NoSuchFileException e) {
            throw new CliException("node identity file " + path + " does not exist (make one with coop node enroll)");
        } catch (IOException e) {
            throw new CliException("cannot read node identity file " + path + ": " + e.getMessage());
        }
        if (root == null || !root.isObject()) {
            throw new CliException("node identity file " + path + " must hold a JSON object");
        }
        String node = root.path("node").asText("");
        String site = root.path("site").asText("");
        String token = root.path("token").asText("");
        if (node.isEmpty() || site.isEmpty() || token.isEmpty()) {
            throw new CliException("node identity file " + path + " must name \"node\", \"site\" and \"token\""
                    + (root.has("member") ? " (this looks like a member's identity, not a node's)" : ""));
        }
        String scheduler = root.path("scheduler").asText("");
        String ca = root.path("ca_certificate").asText("");
        String cert = root.path("certificate").asText("");
        String key = root.path("tls_key").asText("");
        if (ca.isEmpty() != cert.isEmpty() || cert.isEmpty() != key.isEmpty()) {
            throw new CliException("node identity file " + path + " must hold all of \"ca_certificate\", "
                    + "\"certificate\" and \"tls_key\", or none");
        }
        return new NodeIdentity(node, site, root.path("account").asText(""), token,
                scheduler.isEmpty() ? null : scheduler, ca.isEmpty() ? null : new coop.agent.ClientTls(ca, cert, key));
    }

    public void write(Path path) throws IOException {
        ObjectNode json = MAPPER.createObjectNode().put("node", node).put("site", site).put("account", account)
                .put("token", token);
        if (scheduler != null) {
            json.put("scheduler", scheduler);
        }
        if (tls != null) {
            json.put("ca_certificate", tls.caPem()).put("certificate", tls.certificatePem())
                    .put("tls_key", tls.privateKeyPem());
        }
        Identity.writePrivate(path, (MAPPER.writeValueAsString(json) + "\n").getBytes(StandardCharsets.UTF_8));
    }

    @Override
    public String toString() {
        return "NodeIdentity[node=" + node + ", site=" + site + ", account=" + account + ", token=<redacted>]";
    }
}
