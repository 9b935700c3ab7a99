package coop.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ObjectNode;
import coop.scheduler.domain.Names;
import coop.scheduler.ledger.Entry;
import coop.v1.Delegation;
import coop.v1.ListMembersRequest;
import coop.v1.MemberInfo;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code coop member keygen|certify|install-certificate|list|set|show}: a newcomer's identity, its
 * TLS certificate once admitted, who the members are, and a member's own settings.
 */
@Command(name = "member", mixinStandardHelpOptions = true,
        description = {"Member identities: make one to be admitted, have its TLS certificate signed once it is "
                + "admitted (coop member certify), install that certificate, list the members, or set and show "
                + "your own settings."},
        subcommands = {MemberCommand.Keygen.class, MemberCommand.Certify.class, MemberCommand.Install.class,
                MemberCommand.Remove.class, MemberCommand.List.class, MemberCommand.Set.class,
                MemberCommand.Show.class, MemberCommand.Resign.class})
final class MemberCommand implements Runnable {
    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    @Spec
    CommandSpec spec;

    @Override
    public void run() {
        throw new ParameterException(spec.commandLine(), "Missing a subcommand: keygen, certify, install-certificate, "
                + "remove, resign, list, set or show");
    }

    /** Reads the public file keygen writes: member, public_key, token_sha256. */
    static Map<String, String> readPublic(Path file) {
        try {
            JsonNode n = JSON.readTree(Files.readAllBytes(file));
            String member = n.path("member").asText("");
            String key = n.path("public_key").asText("");
            String digest = n.path("token_sha256").asText("");
            if (member.isEmpty() || key.isEmpty() || digest.isEmpty()) {
                throw new CliException(file + " must hold member, public_key and token_sha256 (from coop member keygen)");
            }
            return Map.of("member", member, "public_key", key, "token_sha256", digest);
        } catch (IOException e) {
            throw new CliException("cannot read " + file + ": " + e.getMessage());
        }
    }

    @Command(name = "keygen", mixinStandardHelpOptions = true,
            description = {"Make a newcomer's identity: a secret token, an Ed25519 key pair and a TLS key.",
                    "Keeps NAME.json (secret, owner-only) and writes NAME.pub.json to hand to a member, who "
                            + "proposes: coop propose admit --from NAME.pub.json --accounts ...",
                    "Once admitted, the member runs coop member certify --from NAME.pub.json and hands back "
                            + "NAME.cert.json, which the newcomer installs: coop member install-certificate "
                            + "NAME.cert.json --identity NAME.json"})
    static final class Keygen implements Callable<Integer> {
        @Spec
        CommandSpec spec;

        @Option(names = "--name", required = true, paramLabel = "NAME", description = "The newcomer's member name.")
        String name;

        @Option(names = "--dir", paramLabel = "DIR", defaultValue = ".", description = "Where to write the files.")
        Path dir;

        @Option(names = "--scheduler", paramLabel = "HOST:PORT",
                description = "Scheduler to record in the identity (default: the one that certifies it, which "
                        + "install-certificate records).")
        String scheduler;

        @Override
        public Integer call() throws IOException {
            if (!Names.valid(name)) {
                throw new CliException("--name: '" + name + "' must match [a-z][a-z0-9_-]{0,62}");
            }
            SecureRandom random = new SecureRandom();
            java.security.KeyPair tls = coop.scheduler.trust.Authority.keyPair(random);
            Identity id = Identity.fresh(name, scheduler, random)
                    .withTls(null, null, coop.scheduler.trust.Authority.pem(tls.getPrivate()), null);
            Path secretFile = dir.resolve(name + ".json");
            if (Files.exists(secretFile)) {
                throw new CliException(secretFile + " already exists; not overwriting an identity");
            }
            id.write(secretFile);
            // The certificate request is signed now, so whoever passes it on cannot swap the key.
            String tlsPublic = coop.scheduler.trust.Authority.pem(tls.getPublic());
            long signedAt = System.currentTimeMillis();
            String signature = coop.scheduler.rpc.SignedStatements.sign(id.signingKey(),
                    coop.scheduler.governance.Statements.certify(name, signedAt, tlsPublic));
            ObjectNode pub = JSON.createObjectNode().put("member", name).put("public_key", id.publicKey())
                    .put("token_sha256", Entry.sha256(id.token())).put("tls_public_key", tlsPublic)
                    .put("certify_signed_at_ms", signedAt).put("certify_signature", signature);
            Path pubFile = dir.resolve(name + ".pub.json");
            Files.writeString(pubFile, JSON.writeValueAsString(pub) + "\n");
            var out = spec.commandLine().getOut();
            out.println("wrote " + secretFile + " (keep it secret) and " + pubFile + " (give it to a member)");
            out.println("a member proposes: coop propose admit --from " + pubFile + " --accounts ACCOUNT");
            out.flush();
            return 0;
        }
    }

    @Command(name = "certify", mixinStandardHelpOptions = true,
            description = {"Have the scheduler sign an admitted member's TLS certificate and write NAME.cert.json to "
                    + "hand back.",
                    "It is made from the NAME.pub.json the member made with coop member keygen (the request in it is "
                            + "signed by that member's key), and holds no secret."})
    static final class Certify extends ClientCommand {
        @Option(names = "--from", required = true, paramLabel = "FILE",
                description = "The newcomer's NAME.pub.json.")
        Path from;

        @Option(names = "--out", paramLabel = "FILE", description = "Where to write (default: NAME.cert.json "
                + "beside --from).")
        Path outFile;

        @Override
        int run() throws IOException {
            JsonNode n = JSON.readTree(Files.readAllBytes(from));
            String member = n.path("member").asText("");
            String key = n.path("tls_public_key").asText("");
            String signature = n.path("certify_signature").asText("");
            if (member.isEmpty() || key.isEmpty() || signature.isEmpty()) {
                throw new CliException(from + " must hold member, tls_public_key and certify_signature (from coop "
                        + "member keygen)");
            }
            coop.v1.CertifyResponse r;
            String target;
            try (Client c = client.connect()) {
                r = c.governance().certify(coop.v1.CertifyRequest.newBuilder().setMember(member).setPublicKey(key)
                        .setSignedAtMs(n.path("certify_signed_at_ms").asLong()).setSignature(signature).build());
                target = c.target();
            }
            Path file = outFile != null ? outFile : from.resolveSibling(member + ".cert.json");
            // The scheduler that signed is the one the newcomer will call: install-certificate records it.
            ObjectNode cert = JSON.createObjectNode().put("member", member).put("scheduler", target)
                    .put("ca_certificate", r.getCaCertificate()).put("certificate", r.getCertificate());
            if (!r.getSchedulerCertificate().isEmpty()) {
                cert.put("scheduler_certificate", r.getSchedulerCertificate());
            }
            Files.writeString(file, JSON.writeValueAsString(cert) + "\n");
            out().println("wrote " + file + ": hand it to " + member + ", who runs: coop member install-certificate "
                    + file.getFileName() + " --identity " + member + ".json");
            return 0;
        }
    }

    @Command(name = "install-certificate", mixinStandardHelpOptions = true,
            description = {"Put the certificate coop member certify wrote into your identity file.",
                    "The identity then calls the scheduler that signed it, unless it already names another "
                            + "(coop member keygen --scheduler)."})
    static final class Install implements Callable<Integer> {
        @Spec
        CommandSpec spec;

        @Parameters(paramLabel = "CERT_FILE", description = "NAME.cert.json from coop member certify.")
        Path certFile;

        @Option(names = "--identity", required = true, paramLabel = "FILE", description = "Your identity file.")
        Path identityFile;

        @Override
        public Integer call() throws IOException {
            Identity id = Identity.read(identityFile);
            JsonNode n = JSON.readTree(Files.readAllBytes(certFile));
            String member = n.path("member").asText("");
            if (!member.equals(id.member())) {
                throw new CliException(certFile + " is for member '" + member + "', not " + id.member());
            }
            if (id.tlsKey() == null) {
                throw new CliException(identityFile + " holds no TLS key (\"tls_key\"): make it with coop member "
                        + "keygen");
            }
            String cert = n.path("certificate").asText("");
            String ca = n.path("ca_certificate").asText("");
            String scheduler = n.path("scheduler_certificate").asText("");
            java.security.PublicKey certified;
            try {
                certified = coop.scheduler.trust.Authority.certificate(cert).getPublicKey();
                java.security.cert.X509Certificate authority = coop.scheduler.trust.Authority.certificate(ca);
                // The identity will accept this certificate as the scheduler's without asking the CA
                // again, so it must be one the CA signed.
                if (!scheduler.isEmpty()) {
                    coop.scheduler.trust.Authority.certificate(scheduler).verify(authority.getPublicKey());
                }
            } catch (java.security.GeneralSecurityException e) {
                throw new CliException(certFile + ": \"scheduler_certificate\" is not signed by its \"ca_certificate\"");
            } catch (IllegalArgumentException e) {
                throw new CliException(certFile + ": " + e.getMessage());
            }
            if (!pairs(id.tlsKey(), certified)) {
                throw new CliException(certFile + " certifies another key than the one in " + identityFile);
            }
            String signedBy = n.path("scheduler").asText("");
            String calls = calls(id.scheduler(), signedBy);
            id.withTls(ca, cert, id.tlsKey(), scheduler.isEmpty() ? null : scheduler).withScheduler(calls)
                    .write(identityFile);
            var out = spec.commandLine().getOut();
            out.println("installed the certificate of " + member + " in " + identityFile
                    + (calls == null ? "" : "; it calls the scheduler at " + calls));
            out.flush();
            return 0;
        }

        /**
         * The scheduler the identity calls once certified: the one it names, unless that is none or
         * the default {@value ClientOptions#DEFAULT_SCHEDULER} (what keygen without
         * {@code --scheduler} leaves it calling), in which case the one that signed the certificate.
         */
        static String calls(String named, String signedBy) {
            boolean unnamed = named == null || named.equals(ClientOptions.DEFAULT_SCHEDULER);
            return unnamed && !signedBy.isBlank() ? ClientOptions.resolveScheduler(signedBy, null) : named;
        }

        /** Whether the private key belongs to the certified public key: what one signs, the other verifies. */
        private static boolean pairs(String privatePem, java.security.PublicKey certified) {
            try {
                byte[] probe = "coop: does this key pair?".getBytes(java.nio.charset.StandardCharsets.US_ASCII);
                java.security.Signature sign = java.security.Signature.getInstance("SHA256withECDSA");
                sign.initSign(coop.scheduler.trust.Authority.privateKey(privatePem));
                sign.update(probe);
                byte[] sig = sign.sign();
                java.security.Signature verify = java.security.Signature.getInstance("SHA256withECDSA");
                verify.initVerify(certified);
                verify.update(probe);
                return verify.verify(sig);
            } catch (IllegalArgumentException | java.security.GeneralSecurityException e) {
                throw new CliException("\"tls_key\": " + e.getMessage());
            }
        }
    }

    /** Members are removed by vote, as they are admitted: this opens that vote. */
    @Command(name = "remove", mixinStandardHelpOptions = true,
            description = {"Propose removing a member (the same as coop propose remove; 2/3 of all eligible "
                    + "members, a hearing that runs its whole notice period).",
                    "Once the vote passes, the member's certificate and token are refused at once, its ballots",
                    "on open votes are struck, its open proposals withdrawn and its waiting jobs cancelled."})
    static final class Remove extends ProposeKinds.Remove {
    }

    /** A member leaves of its own will: no vote, at once, recorded in the ledger. */
    @Command(name = "resign", mixinStandardHelpOptions = true,
            description = {"Leave the cooperative, at once: recorded in the ledger, signed with your key.",
                    "Your token and certificate are refused from then on, your delegations lapse, your open "
                            + "proposals are withdrawn, your ballots on open votes are struck and your waiting "
                            + "jobs are cancelled (running ones finish). Your past ballots stay in the ledger.",
                    "The last member with a vote cannot resign."})
    static final class Resign extends ClientCommand {
        @Option(names = "--reason", paramLabel = "TEXT", defaultValue = "",
                description = "Why, in a line (recorded in the ledger).")
        String reason;

        @Option(names = "--yes", description = "Do not ask for confirmation (needed when not at a terminal).")
        boolean yes;

        @Option(names = "--json", description = "Print your member record after resigning as JSON.")
        boolean json;

        @Override
        int run() {
            if (!yes) {
                java.io.Console console = System.console();
                if (console == null) {
                    throw new CliException("--yes: resigning cannot be undone; pass --yes to confirm");
                }
                String answer = console.readLine("Resign from the cooperative now? This cannot be undone [y/N] ");
                if (answer == null || !answer.strip().equalsIgnoreCase("y")) {
                    out().println("not resigned");
                    return 1;
                }
            }
            MemberInfo m;
            try (Client c = client.connect()) {
                m = c.resign(coop.v1.ResignRequest.newBuilder().setReason(reason));
            }
            if (json) {
                ObjectNode o = JsonOutput.object();
                o.put("name", m.getName());
                o.put("resigned", m.getResigned());
                o.put("removed_at_ms", m.getRemovedAtMs());
                JsonOutput.print(out(), o);
                return 0;
            }
            out().println(m.getName() + " resigned at " + Times.iso(m.getRemovedAtMs()));
            return 0;
        }
    }

    @Command(name = "list", mixinStandardHelpOptions = true,
            description = "List members with their roles, accounts and delegations.")
    static final class List extends ClientCommand {
        @Option(names = "--json", description = "Print JSON.")
        boolean json;

        @Override
        int run() {
            java.util.List<MemberInfo> members;
            try (Client c = client.connectOptionalIdentity()) {
                members = c.governance().listMembers(ListMembersRequest.getDefaultInstance()).getMembersList();
            }
            if (json) {
                JsonOutput.print(out(), JsonOutput.array(members, m -> {
                    ObjectNode o = JsonOutput.object();
                    o.put("name", m.getName());
                    o.set("accounts", JSON.valueToTree(m.getAccountsList()));
                    o.set("roles", JSON.valueToTree(m.getRolesList()));
                    o.put("admitted_at_ms", m.getAdmittedAtMs());
                    o.put("removed_at_ms", m.getRemovedAtMs());
                    o.put("resigned", m.getResigned());
                    ObjectNode d = o.putObject("delegations");
                    m.getDelegationsList().forEach(x -> d.put(x.getTopic(), x.getTo()));
                    return o;
                }));
                return 0;
            }
            Table table = new Table("MEMBER", "ROLES", "ACCOUNTS", "DELEGATES", "STATUS");
            for (MemberInfo m : members) {
                StringBuilder d = new StringBuilder();
                for (Delegation x : m.getDelegationsList()) {
                    d.append(d.length() == 0 ? "" : " ").append(x.getTopic()).append("→").append(x.getTo());
                }
                table.row(m.getName(), String.join(",", m.getRolesList()), String.join(",", m.getAccountsList()),
                        d.length() == 0 ? "-" : d.toString(), m.getRemovedAtMs() == 0 ? "member" : m.getResigned() ? "resigned" : "removed");
            }
            table.print(out());
            return 0;
        }
    }

    @Command(name = "set", mixinStandardHelpOptions = true,
            description = {"Set your own defaults: the job events you are told of and where, for the jobs you submit "
                    + "afterwards without --notify of their own.",
                    "An option left out keeps its value; an empty one (--notify '') clears it."})
    static final class Set extends ClientCommand {
        @Option(names = "--notify", paramLabel = "EVENTS",
                description = "Comma-separated BEGIN, END, FAIL, PREEMPT, REQUEUE, ALL or NONE (Slurm's --mail-type).")
        String notify;

        @Option(names = "--notify-to", paramLabel = "URL|EMAIL",
                description = "An http(s) URL on a host the scheduler's operator allows (sent a JSON POST), or an "
                        + "email address where the scheduler sends mail.")
        String notifyTo;

        @Override
        int run() {
            if (notify == null && notifyTo == null) {
                throw new CliException("give --notify EVENTS, --notify-to URL|EMAIL or both (coop member show shows "
                        + "what is set)");
            }
            coop.v1.NotifyDefault.Builder b = coop.v1.NotifyDefault.newBuilder();
            if (notify != null) {
                b.setNotify(notify);
            }
            if (notifyTo != null) {
                b.setNotifyTo(notifyTo);
            }
            coop.v1.NotifyDefault now;
            try (Client c = client.connect()) {
                now = c.jobs().setNotifyDefault(b.build());
            }
            print(out(), now);
            return 0;
        }
    }

    @Command(name = "show", mixinStandardHelpOptions = true, description = "Show your own settings.")
    static final class Show extends ClientCommand {
        @Option(names = "--json", description = "Print JSON.")
        boolean json;

        @Override
        int run() {
            coop.v1.NotifyDefault now;
            try (Client c = client.connect()) {
                now = c.jobs().getNotifyDefault(coop.v1.GetNotifyDefaultRequest.getDefaultInstance());
            }
            if (json) {
                ObjectNode o = JsonOutput.object();
                o.put("notify", now.getNotify());
                o.put("notify_to", now.getNotifyTo());
                JsonOutput.print(out(), o);
                return 0;
            }
            print(out(), now);
            return 0;
        }
    }

    static void print(java.io.PrintWriter out, coop.v1.NotifyDefault d) {
        out.println("notify:     " + (d.getNotify().isEmpty() ? "NONE (jobs are told of nothing unless they ask)"
                : d.getNotify()));
        out.println("notify to:  " + (d.getNotifyTo().isEmpty() ? "-" : d.getNotifyTo()));
    }
}
