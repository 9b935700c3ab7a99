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
import picocli.CommandLine.Spec;

/** {@code coop member keygen|list}: a newcomer's identity, and who the members are. */
@Command(name = "member", mixinStandardHelpOptions = true,
        description = "Member identities: make one to be admitted, or list the members.",
        subcommands = {MemberCommand.Keygen.class, MemberCommand.List.class})
final class MemberCommand implements Runnable {
    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    @Spec
    CommandSpec spec;

    @Override
    public void run() {
        throw new ParameterException(spec.commandLine(), "Missing a subcommand: keygen or list");
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
            description = {"Make a newcomer's identity: a secret token and an Ed25519 key pair.",
                    "Keeps NAME.json (secret, owner-only) and writes NAME.pub.json to hand to a member,",
                    "who proposes: coop propose admit --from NAME.pub.json --accounts ..."})
    static final class Keygen implements Callable<Integer> {
        @Spec
        CommandSpec spec;

        @Option(names = "--name", required = true, paramLabel = "NAME", description = "The newcomer's member name.")
        String name;

        @Option(names = "--dir", paramLabel = "DIR", defaultValue = ".", description = "Where to write the files.")
        Path dir;

        @Option(names = "--scheduler", paramLabel = "HOST:PORT", description = "Scheduler to record in the identity.")
        String scheduler;

        @Override
        public Integer call() throws IOException {
            if (!Names.valid(name)) {
                throw new CliException("--name: '" + name + "' must match [a-z][a-z0-9_-]{0,62}");
            }
            Identity id = Identity.fresh(name, scheduler, new SecureRandom());
            Path secretFile = dir.resolve(name + ".json");
            if (Files.exists(secretFile)) {
                throw new CliException(secretFile + " already exists; not overwriting an identity");
            }
            id.write(secretFile);
            ObjectNode pub = JSON.createObjectNode().put("member", name).put("public_key", id.publicKey())
                    .put("token_sha256", Entry.sha256(id.token()));
            Path pubFile = dir.resolve(name + ".pub.json");
            Files.writeString(pubFile, JSON.writeValueAsString(pub) + "\n");
            var out = spec.commandLine().getOut();
            out.println("wrote " + secretFile + " (keep it secret) and " + pubFile + " (give it to a member)");
            out.println("a member proposes: coop propose admit --from " + pubFile + " --accounts ACCOUNT");
            out.flush();
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
                        d.length() == 0 ? "-" : d.toString(), m.getRemovedAtMs() == 0 ? "member" : "removed");
            }
            table.print(out());
            return 0;
        }
    }
}
