package coop.cli;

import coop.scheduler.domain.Constitution;
import coop.scheduler.domain.CoopException;
import coop.scheduler.domain.Member;
import coop.scheduler.domain.Names;
import coop.scheduler.domain.Params;
import coop.scheduler.domain.Role;
import coop.scheduler.engine.ClusterState;
import coop.scheduler.rpc.Caller;
import coop.scheduler.store.Store;
import coop.scheduler.trust.Authority;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code coop init}: founds a cooperative in a data directory: its founding members, its
 * accounts with equal shares as policy version 1, and one identity file per member.
 */
@Command(name = "init", mixinStandardHelpOptions = true,
        description = {"Found a cooperative: founding members, accounts (equal shares to start) and one identity "
                + "file per member.",
                "Each founder is NAME (member of every account) or NAME:ACCOUNT[+ACCOUNT...].",
                "Example: coop init --data ./coop-data --founders alice:lab-a,bob:lab-b,carol --accounts lab-a,lab-b"})
public final class InitCommand implements Callable<Integer> {

    @Spec
    CommandSpec spec;

    @Option(names = "--data", required = true, description = "Data directory of the new cooperative.")
    Path data;

    @Option(names = "--founders", required = true, split = ",", description = "Founding members, comma-separated.")
    List<String> founders;

    @Option(names = "--accounts", required = true, split = ",", description = "Accounts, comma-separated.")
    List<String> accounts;

    @Option(names = "--identities", description = "Where to write identity files (default: DATA/identities).")
    Path identities;

    @Option(names = "--scheduler", defaultValue = "127.0.0.1:7070",
            description = "Scheduler address written into the identity files (default: ${DEFAULT-VALUE}); for a "
                    + "replicated cooperative, every replica's client address, comma-separated: clients try them in "
                    + "order and keep the one that serves (the leader).")
    String scheduler;

    @Option(names = "--san", paramLabel = "HOST", split = ",",
            description = "Other host names or addresses clients reach the scheduler at; its TLS certificate names "
                    + "them, with localhost, 127.0.0.1 and the --scheduler host.")
    List<String> serverNames = List.of();

    @Option(names = "--param", paramLabel = "NAME=VALUE",
            description = "A founding parameter other than its default, as coop propose param --set takes it "
                    + "(for example --param min_run_before_preempt_s=10m). A name ending in _s takes a duration where a bare "
                    + "number is seconds, as the name says (90 is 90 s; 90m, 1h30m, 2d as written). Repeatable.")
    List<String> params = List.of();

    @Option(names = "--notice", paramLabel = "KIND=DURATION",
            description = "A founding notice period other than its default: the least time a proposal of KIND stays "
                    + "open (shares, share-budget, account 48h; param 72h; admit, remove 7d; amend 14d). KIND all sets "
                    + "every kind; 0 for none. Notice periods are entrenched: after founding only an entrenched "
                    + "amendment changes them. " + Durations.FORMS_HELP + " Repeatable.")
    List<String> notice = List.of();

    @Option(names = "--replicas", paramLabel = "ID=HOST:PORT", split = ",",
            description = "Found a replicated cooperative: the scheduler's replicas, each an id and the address its "
                    + "Raft traffic listens on (for example s1=host1:7071,s2=host2:7071,s3=host3:7071; three or five "
                    + "at different sites). Copy the data folder to each replica's machine and start each with "
                    + "coop scheduler --data DATA --replica ID; a majority must be up to serve.")
    List<String> replicas = List.of();

    @Option(names = "--json", description = "Print the result as JSON.")
    boolean json;

    private final SecureRandom random = new SecureRandom();

    /** The replicas {@code --replicas} names, checked: ids are names, addresses HOST:PORT, neither repeated. */
    static List<coop.scheduler.replica.Replica.Peer> replicas(List<String> values) {
        List<coop.scheduler.replica.Replica.Peer> out = new ArrayList<>();
        Set<String> ids = new LinkedHashSet<>();
        Set<String> addresses = new LinkedHashSet<>();
        for (String v : values) {
            int eq = v.indexOf('=');
            if (eq < 1) {
                throw new CliException("--replicas: expected ID=HOST:PORT, got '" + v + "'");
            }
            String id = v.substring(0, eq).strip();
            String address = v.substring(eq + 1).strip();
            checkName("--replicas", id);
            try {
                if (address.contains(",") || !address.substring(0, Math.max(0, address.lastIndexOf(':')))
                        .matches("[A-Za-z0-9.:\\[\\]-]{1,253}")) {
                    throw new IllegalArgumentException("not HOST:PORT");
                }
                coop.agent.SchedulerAddresses.parse(address);
            } catch (IllegalArgumentException e) {
                throw new CliException("--replicas: replica " + id + "'s address must be HOST:PORT with a port from 1 "
                        + "to 65535, got '" + address + "'");
            }
            if (!ids.add(id)) {
                throw new CliException("--replicas: replica '" + id + "' appears twice");
            }
            if (!addresses.add(address)) {
                throw new CliException("--replicas: address " + address + " appears twice");
            }
            out.add(new coop.scheduler.replica.Replica.Peer(id, address));
        }
        return out;
    }

    @Override
    public Integer call() throws Exception {
        Params founding = Params.DEFAULTS;
        if (!params.isEmpty()) {
            try {
                founding = Params.DEFAULTS.with(ParamSettings.parse("--param", params));
            } catch (CoopException e) {
                throw new CliException("--param: " + e.getMessage(), e);
            }
        }
        List<coop.scheduler.replica.Replica.Peer> peers = replicas(replicas);
        Map<String, Identity> created = found(data, founders, accounts, identities, scheduler, serverNames, founding,
                constitution(notice), random);
        if (!peers.isEmpty()) {
            try (Store store = Store.open(data)) {
                coop.scheduler.ReplicatedServer.recordReplicas(store, peers);
            }
            List<String> hosts = new ArrayList<>();
            peers.forEach(p -> hosts.add(p.address().substring(0, p.address().lastIndexOf(':')).replace("[", "")
                    .replace("]", "")));
            Authority.load(data, random).issueReplica(hosts);
        }
        Path dir = identities == null ? data.resolve("identities") : identities;
        var out = spec.commandLine().getOut();
        if (json) {
            Map<String, String> files = new TreeMap<>();
            created.keySet().forEach(m -> files.put(m, dir.resolve(m + ".json").toString()));
            var o = JsonOutput.object();
            o.put("data", data.toString());
            o.set("accounts", JsonOutput.array(accounts, a -> JsonOutput.object().textNode(a)));
            var ids = o.putObject("identities");
            files.forEach(ids::put);
            var rs = o.putObject("replicas");
            peers.forEach(p -> rs.put(p.id(), p.address()));
            JsonOutput.print(out, o);
        } else {
            out.printf("founded a cooperative in %s: %d members, accounts %s with equal shares (policy 1)%n",
                    data, created.size(), String.join(", ", accounts));
            created.keySet().forEach(m -> out.printf("  identity of %s: %s%n", m, dir.resolve(m + ".json")));
            if (peers.isEmpty()) {
                out.printf("next: coop scheduler --data %s --listen %s%n", data, scheduler);
            } else {
                out.printf("replicas: %s (Raft over mutual TLS)%n", String.join(", ", peers.stream()
                        .map(p -> p.id() + " at " + p.address()).toList()));
                out.printf("next: copy %s to each replica's machine, then on each: coop scheduler --data %s "
                        + "--replica ID --listen HOST:PORT%n", data, data);
            }
        }
        out.flush();
        return 0;
    }

    /** The founding constitution with the notice periods {@code --notice} sets. */
    static Constitution constitution(List<String> notices) {
        Map<String, Long> byKind = NoticeSettings.parse("--notice", notices);
        try {
            return byKind.isEmpty() ? Constitution.FOUNDING
                    : Constitution.FOUNDING.with(Map.of("min_notice", byKind), null);
        } catch (CoopException e) {
            throw new CliException("--notice: " + e.getMessage(), e);
        }
    }

    /**
     * Founds the cooperative and writes identity files; returns each member's identity. Refuses
     * a directory that already holds one, and bad names, before writing anything.
     */
    public static Map<String, Identity> found(Path data, List<String> founders, List<String> accountNames,
                                              Path identityDir, String scheduler, SecureRandom random)
            throws java.io.IOException {
        return found(data, founders, accountNames, identityDir, scheduler, List.of(), Params.DEFAULTS, random);
    }

    /** As {@link #found(Path, List, List, Path, String, SecureRandom)}, with founding parameters of its own. */
    public static Map<String, Identity> found(Path data, List<String> founders, List<String> accountNames,
                                              Path identityDir, String scheduler, Params params, SecureRandom random)
            throws java.io.IOException {
        return found(data, founders, accountNames, identityDir, scheduler, List.of(), params, random);
    }

    /**
     * As above; the cooperative's CA (in {@code DATA/tls}) signs a certificate for the scheduler that
     * names {@code serverNames} and the host of {@code scheduler} besides the loopback names, and one
     * for each founder, which its identity file holds.
     */
    public static Map<String, Identity> found(Path data, List<String> founders, List<String> accountNames,
                                              Path identityDir, String scheduler, List<String> serverNames,
                                              Params params, SecureRandom random) throws java.io.IOException {
        return found(data, founders, accountNames, identityDir, scheduler, serverNames, params, Constitution.FOUNDING,
                random);
    }

    /** As above, with a founding constitution of its own (notice periods other than the defaults). */
    public static Map<String, Identity> found(Path data, List<String> founders, List<String> accountNames,
                                              Path identityDir, String scheduler, List<String> serverNames,
                                              Params params, Constitution constitution, SecureRandom random)
            throws java.io.IOException {
        for (String n : serverNames) {
            if (n.isBlank() || !n.matches("[A-Za-z0-9.:-]{1,253}")) {
                throw new CliException("--san: '" + n + "' is not a host name or address");
            }
        }
        if (Store.exists(data)) {
            throw new CliException("--data: " + data + " already holds a cooperative");
        }
        Set<String> accountSet = new LinkedHashSet<>();
        for (String a : accountNames) {
            checkName("--accounts", a);
            if (!accountSet.add(a)) {
                throw new CliException("--accounts: '" + a + "' appears twice");
            }
        }
        Map<String, List<String>> membership = new TreeMap<>();
        for (String f : founders) {
            String[] parts = f.split(":", 2);
            String name = parts[0];
            checkName("--founders", name);
            List<String> of = parts.length == 1 ? List.copyOf(accountSet) : List.of(parts[1].split("\\+"));
            for (String a : of) {
                if (!accountSet.contains(a)) {
                    throw new CliException("--founders: " + name + " names unknown account '" + a + "'");
                }
            }
            if (membership.put(name, of) != null) {
                throw new CliException("--founders: '" + name + "' appears twice");
            }
        }
        Path dir = identityDir == null ? data.resolve("identities") : identityDir;
        Files.createDirectories(dir);
        long now = System.currentTimeMillis();
        Map<String, Identity> identities = new TreeMap<>();
        List<Member> members = new ArrayList<>();
        for (var e : membership.entrySet()) {
            Identity identity = Identity.fresh(e.getKey(), scheduler, random);
            members.add(new Member(e.getKey(), e.getValue(), EnumSet.allOf(Role.class), identity.publicKey(),
                    Caller.sha256(identity.token()), now, 0));
            identities.put(e.getKey(), identity);
        }
        try (Store store = Store.open(data)) {
            ClusterState.found(store, members, List.copyOf(accountSet), params, constitution, now);
        }
        List<String> names = new ArrayList<>(serverNames);
        // A replicated cooperative's identities list every replica's address: the certificate names each host.
        for (String address : scheduler == null ? new String[0] : scheduler.split(",")) {
            String a = address.strip();
            if (a.lastIndexOf(':') > 0) {
                String host = a.substring(0, a.lastIndexOf(':')).replace("[", "").replace("]", "");
                if (!host.isEmpty() && !host.equals("0.0.0.0") && !host.equals("::") && !names.contains(host)) {
                    names.add(host);
                }
            }
        }
        Authority ca = Authority.create(data, data.toAbsolutePath().normalize().getFileName().toString(), names,
                random);
        String schedulerCert = ca.schedulerPem();
        for (var e : List.copyOf(identities.entrySet())) {
            Authority.Issued tls = ca.issue(new Authority.Holder(Authority.Holder.MEMBER, e.getKey()));
            identities.put(e.getKey(), e.getValue().withTls(ca.caPem(), tls.certificatePem(), tls.privateKeyPem(),
                    schedulerCert));
        }
        for (var e : identities.entrySet()) {
            e.getValue().write(dir.resolve(e.getKey() + ".json"));
        }
        return identities;
    }

    private static void checkName(String option, String name) {
        if (!Names.valid(name)) {
            throw new CliException(option + ": '" + name + "' must match [a-z][a-z0-9_-]{0,62}");
        }
    }
}
