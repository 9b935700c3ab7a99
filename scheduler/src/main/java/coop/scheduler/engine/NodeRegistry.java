package coop.scheduler.engine;

import coop.scheduler.domain.Account;
import coop.scheduler.domain.Availability;
import coop.scheduler.domain.CoopException;
import coop.scheduler.domain.Gpu;
import coop.scheduler.domain.GpuInventory;
import coop.scheduler.domain.GpuUsage;
import coop.scheduler.domain.JobContainer;
import coop.scheduler.domain.Member;
import coop.scheduler.domain.Names;
import coop.scheduler.domain.NodeFeatures;
import coop.scheduler.domain.NodeRecord;
import coop.scheduler.domain.NodeTerms;
import coop.scheduler.domain.Role;
import coop.scheduler.ledger.Entry;
import coop.scheduler.store.Store.Kind;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The enrolled nodes and their operators' terms: enrolment, drain, reserve and availability
 * windows, removal, and the check that a connecting agent speaks for its node.
 */
public final class NodeRegistry {
    private static final Logger log = LoggerFactory.getLogger(NodeRegistry.class);

    /**
     * A node's view for listings. {@code reservedGpus} is the reserve in force (what its operator
     * asked, capped by the policy); {@code offered} whether it is inside its availability windows
     * now, and {@code windowChangeAt} when it next opens or closes ({@code Long.MAX_VALUE}: never);
     * {@code gpuUsage} and {@code heartbeatLagMs} come from its latest heartbeat. {@code draining}
     * holds while its operator ({@code operatorDrain}) or its health check drains it;
     * {@code drainReason} is the operator's reason and {@code healthDrain} the check's (empty: healthy).
     */
    public record NodeStatus(String name, String site, List<Gpu> gpus, boolean online, long lastHeartbeat,
                             List<Integer> busyGpus, List<Long> jobIds, String account, boolean draining,
                             String drainReason, int reservedGpus, List<String> windows, String timeZone,
                             boolean offered, long windowChangeAt, List<GpuUsage> gpuUsage,
                             long heartbeatLagMs, String healthDrain, boolean operatorDrain, String isolation,
                             NodeFeatures features, List<String> refusedPurposes) {
    }

    private final InstantSource clock;
    private final GovernanceDesk desk;
    private final AgentSessions sessions;
    /** Enrolled nodes, by name: only these may connect, each only as itself. */
    private final Map<String, NodeRecord> enrolled = new TreeMap<>();
    /** Names of the enrolled nodes, read by the rpc edge's threads: a removed node's certificate is refused at once. */
    private final Set<String> enrolledNames = ConcurrentHashMap.newKeySet();
    /** When each enrolled node with availability windows is offered, parsed once from its record. */
    private final Map<String, Availability> windowed = new HashMap<>();

    NodeRegistry(InstantSource clock, GovernanceDesk desk, AgentSessions sessions, Collection<NodeRecord> stored) {
        this.clock = clock;
        this.desk = desk;
        this.sessions = sessions;
        stored.forEach(this::remember);
    }

    /** A live view of the enrolled nodes' names. */
    Set<String> names() {
        return Collections.unmodifiableSet(enrolledNames);
    }

    /** The node's record, or null if it is not enrolled. */
    NodeRecord record(String name) {
        return enrolled.get(name);
    }

    /** When the node is offered: its windows, or always. */
    Availability availability(String name) {
        return windowed.getOrDefault(name, Availability.ALWAYS);
    }

    /**
     * The GPUs a node's operator account has first claim on: what the operator asked, capped by
     * the policy's {@code reserve_cap_bp} of the node's GPUs (a vote may lower the cap below what
     * an operator set earlier; the cap wins). Until the node's GPUs are known, what was asked.
     */
    int reserveInForce(NodeRecord r, int gpus) {
        if (gpus == 0) {
            return r.reservedGpus();
        }
        return (int) Math.min(r.reservedGpus(), gpus * desk.policy().params().reserveCapBp() / 10_000);
    }

    private void remember(NodeRecord r) {
        enrolled.put(r.name(), r);
        enrolledNames.add(r.name());
        if (r.windows().isEmpty()) {
            windowed.remove(r.name());
        } else {
            windowed.put(r.name(), r.availability());
        }
    }

    List<NodeStatus> statuses() {
        List<NodeStatus> out = new ArrayList<>();
        for (NodeRuntime n : sessions.all()) {
            out.add(status(n, enrolled.get(n.name)));
        }
        for (NodeRecord r : enrolled.values()) {
            if (sessions.node(r.name()) == null) {
                // Enrolled, but its agent has not connected since the scheduler started.
                out.add(status(null, r));
            }
        }
        out.sort(Comparator.comparing(NodeStatus::name));
        return out;
    }

    private NodeStatus status(NodeRuntime n, NodeRecord r) {
        long now = clock.millis();
        if (n != null) {
            n.foldPulse();
        }
        Availability when = r == null ? Availability.ALWAYS : availability(r.name());
        List<Gpu> gpus = n == null ? List.of() : List.copyOf(n.gpus);
        Set<Long> ids = new TreeSet<>();
        if (n != null) {
            n.live.keySet().forEach(ref -> ids.add(ref.jobId()));
        }
        return new NodeStatus(n == null ? r.name() : n.name, n == null ? r.site() : n.site, gpus,
                n != null && n.link != null, n == null ? 0 : n.lastHeartbeat,
                n == null ? List.of() : List.copyOf(n.busyGpus()), List.copyOf(ids), r == null ? "" : r.account(),
                r != null && r.takesNoWork(), r == null ? "" : r.drainReason(),
                r == null ? 0 : reserveInForce(r, gpus.size()), when.windows(), r == null ? "UTC" : r.timeZone(),
                when.openAt(now), when.nextChange(now), n == null ? List.of() : n.usage,
                n == null ? 0 : n.heartbeatLagMs, r == null ? "" : r.healthDrain(), r != null && r.draining(),
                n == null ? "" : n.isolation, n != null && n.link != null ? n.features
                        : r != null ? r.features() : NodeFeatures.NONE, r == null ? List.of() : r.refusedPurposes());
    }

    /** The enrolled node, if the member is an operator of its account; else NOT_FOUND or PERMISSION_DENIED. */
    private NodeRecord operatedBy(Member m, String name, String what) {
        Names.require("name", name);
        NodeRecord r = enrolled.get(name);
        if (r == null) {
            throw CoopException.notFound("node " + name + " is not enrolled");
        }
        if (!m.has(Role.OPERATOR) || !m.belongsTo(r.account())) {
            throw CoopException.denied("only an operator of account " + r.account() + " may " + what + " node "
                    + name);
        }
        return r;
    }

    /**
     * Enrolls a node for the operator's account, or renews the token of a node the same
     * account enrolled. Only an operator member of the account may.
     */
    NodeRecord enroll(String memberName, String name, String site, String account, String tokenSha256, Tx tx) {
        Member m = desk.requireMember(memberName);
        Names.require("name", name);
        Names.require("site", site);
        Names.require("account", account);
        Account a = desk.accounts().get(account);
        if (a == null || !a.open()) {
            throw CoopException.invalid("account", "no open account named '" + account + "'");
        }
        if (!m.has(Role.OPERATOR)) {
            throw CoopException.denied("member " + m.name() + " has no operator role, so cannot enroll nodes");
        }
        if (!m.belongsTo(account)) {
            throw CoopException.denied("member " + m.name() + " does not belong to account " + account);
        }
        NodeRecord existing = enrolled.get(name);
        if (existing != null && !existing.account().equals(account)) {
            throw new CoopException(CoopException.Kind.ALREADY_EXISTS, "name: node " + name
                    + " is enrolled for account " + existing.account() + "; only its operators may renew it");
        }
        NodeRecord r = existing == null ? new NodeRecord(name, site, account, m.name(), tokenSha256, clock.millis())
                : new NodeRecord(name, site, account, m.name(), tokenSha256, clock.millis(), existing.draining(),
                        existing.drainReason(), existing.reservedGpus(), existing.windows(), existing.timeZone(),
                        existing.healthDrain(), existing.features(), existing.gpuModels());
        remember(r);
        tx.batch().put(Kind.NODES, name, r);
        desk.record(Decisions.enrol(r, m.name()), tx);
        log.info("node {} at {} enrolled for {} by {}", name, site, account, m.name());
        return r;
    }

    /**
     * Drains a node (no new work is placed there; what runs is left to finish) or undrains it.
     * Only an operator member of the node's account may.
     */
    NodeStatus drain(String memberName, String name, boolean drain, String reason, Tx tx) {
        Member m = desk.requireMember(memberName);
        NodeRecord r = operatedBy(m, name, "drain or undrain");
        String why = NodeTerms.drainReason(reason);
        r = r.drained(drain, why);
        remember(r);
        tx.batch().put(Kind.NODES, name, r);
        desk.record(Decisions.drain(name, drain, why, m.name()), tx);
        tx.allocationDue();
        log.info("node {} {} by {}{}", name, drain ? "draining" : "undrained", m.name(),
                why.isEmpty() ? "" : ": " + why);
        return status(sessions.node(name), r);
    }

    /**
     * What a node's agent found of its own health: a failure drains the node with {@code reason}
     * (no new work; what runs finishes), a pass lifts that drain. The operator's own drain is a
     * separate state that this never touches. Only a change is written; an agent repeats its
     * result at every check, so a drain lifted by the operator while the check still fails comes
     * back at the next check.
     */
    void health(String name, boolean healthy, String reason, Tx tx) {
        NodeRecord r = enrolled.get(name);
        if (r == null) {
            // Only test schedulers without enrolment let such an agent in; there is no record to drain.
            log.debug("health report of node {}, which is not enrolled, ignored", name);
            return;
        }
        String why = healthy ? "" : NodeTerms.healthReason(reason);
        if (why.equals(r.healthDrain())) {
            return;
        }
        r = r.withHealthDrain(why);
        remember(r);
        tx.batch().put(Kind.NODES, name, r);
        desk.record(Decisions.drain(name, !healthy, why, Decisions.HEALTH_CHECK), tx);
        tx.allocationDue();
        if (healthy) {
            log.info("node {} passed its health check: its health drain is lifted{}", name,
                    r.draining() ? " (its operator's drain stays)" : "");
        } else {
            log.warn("node {} drained by its health check: {}", name, why);
        }
    }

    /**
     * Keeps what a node's agent said it offers besides GPUs with its record; only a change is
     * written, as each Hello says it again.
     */
    void features(String name, NodeFeatures features, Tx tx) {
        NodeRecord r = enrolled.get(name);
        if (r == null || r.features().equals(features)) {
            return;
        }
        r = r.withFeatures(features);
        remember(r);
        tx.batch().put(Kind.NODES, name, r);
    }

    /**
     * Keeps the models of a node's GPUs, as its agent's Hello said, with its record; only a change
     * is written. A job is judged by them at submit even while the agent is away.
     */
    void gpuModels(String name, List<String> models, Tx tx) {
        NodeRecord r = enrolled.get(name);
        if (r == null || models.equals(r.gpuModels())) {
            return;
        }
        r = r.withGpuModels(models);
        remember(r);
        tx.batch().put(Kind.NODES, name, r);
    }

    /**
     * The enrolled nodes whose agents have reported their GPUs, or null while some enrolled node's
     * has not ({@code connected}: names of nodes whose agents are connected now, known however
     * their records read): a node never heard from might hold any job, so none may be judged.
     */
    List<GpuInventory.Node> reportedGpus(Set<String> connected) {
        List<GpuInventory.Node> out = new ArrayList<>();
        for (NodeRecord r : enrolled.values()) {
            if (connected.contains(r.name())) {
                continue;
            }
            if (r.gpuModels() == null) {
                return null;
            }
            out.add(GpuInventory.Node.of(r.name(), r.site(), r.gpuModels()));
        }
        return out;
    }

    /**
     * The operators of the enrolled nodes that could hold a rank of {@code gpusPerNode} GPUs of
     * one of {@code models} (none: any model), judged on the GPUs each node's agent reported (now
     * if connected, else as its record keeps them); a node never heard from might hold it, so its
     * operator counts too. A node whose terms refuse the job's {@code purpose} will not run it.
     */
    Set<String> operatorsFor(int gpusPerNode, List<String> models, String purpose) {
        Set<String> out = new java.util.TreeSet<>();
        for (NodeRecord r : enrolled.values()) {
            if (r.refusedPurposes().contains(purpose)) {
                continue;
            }
            NodeRuntime n = sessions.node(r.name());
            List<String> gpus = n != null && !n.gpus.isEmpty() ? n.gpus.stream().map(Gpu::model).toList()
                    : r.gpuModels();
            if (gpus == null || gpus.stream().filter(g -> models.isEmpty() || models.contains(g)).count()
                    >= gpusPerNode) {
                out.add(r.operator());
            }
        }
        return out;
    }

    /** What each enrolled node's agent last said it offers jobs besides GPUs. */
    List<NodeFeatures> allFeatures() {
        return enrolled.values().stream().map(NodeRecord::features).toList();
    }

    /** Whether some enrolled node runs container jobs at all, as its agent last said. */
    boolean anyRunsContainers() {
        return enrolled.values().stream().anyMatch(r -> r.features().runsContainers());
    }

    /**
     * Whether some enrolled node offers what a container job needs, as its agent last said; a job
     * none does is refused at submit rather than left waiting for ever.
     */
    boolean anyServes(JobContainer container) {
        if (!container.present()) {
            return true;
        }
        for (NodeRecord r : enrolled.values()) {
            if (r.features().serves(container)) {
                return true;
            }
        }
        return false;
    }

    /**
     * Sets a node's operator's terms: how many of its GPUs the operator's account has first claim
     * on ({@code reservedGpus}; null keeps it), and when the node is offered ({@code windows}, read
     * in {@code timeZone}; null keeps them, empty means always; a null or empty zone keeps the
     * current one). Work already running is left alone; new work is placed only where it ends
     * before the node's window closes. Only an operator member of the node's account may.
     */
    NodeStatus setTerms(String memberName, String name, Integer reservedGpus, List<String> windows, String timeZone,
                        Tx tx) {
        return setTerms(memberName, name, reservedGpus, windows, timeZone, null, tx);
    }

    /**
     * As {@link #setTerms(String, String, Integer, List, String, Tx)}, and the declared purposes the
     * operator refuses to run there ({@code refusedPurposes}; null keeps them, empty refuses none):
     * the allocator never places a job declaring one of them on the node.
     */
    NodeStatus setTerms(String memberName, String name, Integer reservedGpus, List<String> windows, String timeZone,
                        List<String> refusedPurposes, Tx tx) {
        Member m = desk.requireMember(memberName);
        NodeRecord r = operatedBy(m, name, "set the terms of");
        int reserve = reservedGpus == null ? r.reservedGpus() : reservedGpus;
        if (reservedGpus != null) {
            NodeRuntime n = sessions.node(name);
            NodeTerms.checkReserve(name, reserve, n == null ? 0 : n.gpus.size(), desk.policy().params().reserveCapBp());
        }
        NodeTerms.checkWindows(windows, timeZone);
        NodeTerms.checkPurposes(refusedPurposes);
        String zone = timeZone == null || timeZone.isBlank() ? r.timeZone() : timeZone;
        Availability when = Availability.parse(windows == null ? r.windows() : windows, zone);
        r = r.withTerms(reserve, when);
        if (refusedPurposes != null) {
            r = r.withRefusedPurposes(refusedPurposes);
        }
        remember(r);
        tx.batch().put(Kind.NODES, name, r);
        desk.record(Decisions.terms(r, m.name()), tx);
        tx.allocationDue();
        log.info("node {} terms set by {}: {} GPUs reserved for {}, offered {}{}", name, m.name(), reserve,
                r.account(), when, r.refusedPurposes().isEmpty() ? "" : ", refusing " + r.refusedPurposes());
        return status(sessions.node(name), r);
    }

    /**
     * Removes a node from the cooperative: its token and certificate are refused from now on, and
     * its agent's session and ranks go with it. Only an operator member of the node's account may.
     * Returns the node as it was.
     */
    NodeStatus remove(String memberName, String name, Tx tx) {
        Member m = desk.requireMember(memberName);
        NodeRecord r = operatedBy(m, name, "remove");
        NodeStatus before = status(sessions.node(name), r);
        enrolled.remove(name);
        enrolledNames.remove(name);
        windowed.remove(name);
        tx.batch().delete(Kind.NODES, name);
        desk.record(Decisions.removeNode(name, m.name()), tx);
        sessions.removed(name, m.name(), tx);
        tx.allocationDue();
        log.info("node {} removed by {}", name, m.name());
        return before;
    }

    /**
     * Checks that a connecting agent speaks for the enrolled node it names, with that node's
     * token, from that node's site.
     */
    void authenticate(String headerNode, String token, String helloNode, String helloSite) {
        if (headerNode == null || token == null) {
            throw new CoopException(CoopException.Kind.UNAUTHENTICATED, "this agent has no node identity: enroll "
                    + "the node with coop node enroll and start the agent with --identity FILE");
        }
        NodeRecord r = enrolled.get(headerNode);
        if (r == null || !MessageDigest.isEqual(r.tokenSha256().getBytes(StandardCharsets.US_ASCII),
                Entry.sha256(token).getBytes(StandardCharsets.US_ASCII))) {
            throw new CoopException(CoopException.Kind.UNAUTHENTICATED, "node " + headerNode
                    + " is not enrolled or its token is wrong: check the node identity file");
        }
        if (!headerNode.equals(helloNode)) {
            throw CoopException.denied("node " + headerNode + " may speak only for itself, not for " + helloNode);
        }
        if (!r.site().equals(helloSite)) {
            throw CoopException.denied("node " + headerNode + " is enrolled at site " + r.site() + ", not "
                    + helloSite);
        }
    }
}
