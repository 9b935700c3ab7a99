package coop.scheduler.engine;

import coop.scheduler.domain.Account;
import coop.scheduler.domain.CoopException;
import coop.scheduler.domain.Member;
import coop.scheduler.domain.Policy;
import coop.scheduler.domain.Proposal;
import coop.scheduler.domain.ProposalKind;
import coop.scheduler.domain.ProposalState;
import coop.scheduler.domain.Role;
import coop.scheduler.domain.Topic;
import coop.scheduler.governance.Beacon;
import coop.scheduler.governance.Governance;
import coop.scheduler.ledger.Checkpoint;
import coop.scheduler.ledger.Event;
import coop.scheduler.ledger.EventType;
import coop.scheduler.ledger.Ledger;
import coop.scheduler.store.Store;
import java.security.SecureRandom;
import java.time.InstantSource;
import java.util.Collections;
import java.util.EnumMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.SortedMap;
import java.util.concurrent.ConcurrentHashMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Members, statements, proposals, ballots, delegations, review panels and the ledger: every
 * governance input goes through here, is recorded in the ledger in the same turn, and what it
 * puts in force on jobs and usage is handed to {@link Consequences}.
 */
public final class GovernanceDesk {
    private static final Logger log = LoggerFactory.getLogger(GovernanceDesk.class);

    /** What a ledger event puts in force outside governance. */
    interface Consequences {
        /** A passed removal or a resignation ({@code how}: "was removed", "resigned"): the member's waiting jobs go with it. */
        void memberRemoved(String member, String how, long now, Tx tx);

        /** A new policy is in force. */
        void enacted(Policy before, Policy policy, long now, Tx tx);

        /** A review panel decided on a job. */
        void verdict(long jobId, boolean approved, long now, Tx tx);
    }

    /** The ledger's length and head hash. */
    public record LedgerHead(long size, String head) {
    }

    /** How many reveals a beacon chain holds: one a panel, each costing at most this many hashes to compute. */
    static final long BEACON_LENGTH = 10_000;
    /** The META key of the beacon's secret: the scheduler's own, never in the ledger. */
    static final String BEACON_SECRET_KEY = "beacon_secret";

    private final InstantSource clock;
    private final SecureRandom random = new SecureRandom();
    /**
     * The secret behind the ledger's beacon chain (hex), or null before the first; written in the
     * same batch as the beacon entry that commits to it, so a crash keeps both or neither.
     */
    private String beaconSecret;
    /** Whether {@link #beaconSecret} was checked to hash to the ledger's anchor. */
    private boolean beaconChecked;
    /** Members, accounts, policies, proposals and panels: rebuilt from the ledger, changed only through it. */
    private final Governance gov;
    private final Ledger ledger;
    private final Consequences consequences;
    /** Token digests of active members, read by the rpc edge's threads. */
    private final Map<String, String> tokenDigests = new ConcurrentHashMap<>();
    /** Depth of {@link #apply} calls in progress, and the decisions recorded meanwhile, appended after them. */
    private int applying;
    private final List<Event> held = new java.util.ArrayList<>();
    /** How many entries the ledger had at the last checkpoint, and how many more make the next due. */
    private long checkpointed;
    private long checkpointEvery = Checkpoint.EVERY;

    GovernanceDesk(InstantSource clock, Governance gov, Ledger ledger, Consequences consequences,
                   String beaconSecret, long checkpointed) {
        this.clock = clock;
        this.checkpointed = checkpointed;
        this.beaconSecret = beaconSecret;
        this.gov = gov;
        this.ledger = ledger;
        this.consequences = consequences;
        refreshTokens();
    }

    Governance governance() {
        return gov;
    }

    /** Sets how many entries the ledger grows by between checkpoints (at least 1). */
    void checkpointEvery(long entries) {
        if (entries < 1) {
            throw new IllegalArgumentException("checkpoint interval must be at least 1 entry, got " + entries);
        }
        checkpointEvery = entries;
    }

    /**
     * Puts a {@link Checkpoint} of the ledger's end and the governance in the turn's batch when the
     * ledger has grown by the interval since the last: at the end of a turn, when every entry a
     * statement yields is appended, so that start-up replays at most about that many entries.
     */
    void checkpointIfDue(Tx tx) {
        if (ledger.size() - checkpointed < checkpointEvery || applying > 0 || !held.isEmpty()) {
            return;
        }
        ledger.checkpoint(gov.image()).write(tx.batch());
        checkpointed = ledger.size();
    }

    Map<String, Account> accounts() {
        return gov.accounts();
    }

    Member member(String name) {
        return gov.member(name);
    }

    List<Member> members() {
        return gov.members();
    }

    /** Token digests of the active members; a live view, safe to read from any thread. */
    Map<String, String> tokenDigests() {
        return Collections.unmodifiableMap(tokenDigests);
    }

    private void refreshTokens() {
        for (Member m : gov.members()) {
            if (m.active()) {
                tokenDigests.put(m.name(), m.tokenSha256());
            } else {
                tokenDigests.remove(m.name());
            }
        }
    }

    /** The calling member, who must be known and active. */
    Member requireMember(String name) {
        Member m = name == null ? null : gov.member(name);
        if (m == null) {
            throw new CoopException(CoopException.Kind.UNAUTHENTICATED,
                    "this call needs a member identity (--identity FILE or COOP_IDENTITY)");
        }
        if (!m.active()) {
            throw CoopException.denied("member " + name + " was removed from the cooperative");
        }
        return m;
    }

    /**
     * The member, if it may back up the scheduler: operators run the machines, so they look after
     * the scheduler's data too; anyone else gets PERMISSION_DENIED.
     */
    Member backupOperator(String memberName) {
        Member m = requireMember(memberName);
        if (!m.has(Role.OPERATOR)) {
            throw CoopException.denied("member " + m.name() + " has no operator role, so cannot back up the scheduler");
        }
        return m;
    }

    /**
     * Applies a member's signed statement (proposal, ballot, delegation or review). The
     * statement must be the calling member's own.
     */
    List<Event> statement(String memberName, EventType type, SortedMap<String, Object> statement, String signature,
                          Tx tx) {
        Member m = requireMember(memberName);
        if (!type.label().equals(statement.get("type")) || !m.name().equals(statement.get("member"))) {
            throw CoopException.denied("the signed statement must be a " + type + " by the calling member "
                    + m.name());
        }
        long now = now();
        // Due proposals close before any input is taken, as the rules require.
        apply(gov.tick(now), now, tx);
        List<Event> events = gov.submit(statement, signature, now, true);
        apply(events, now, tx);
        return events;
    }

    Proposal propose(String memberName, SortedMap<String, Object> statement, String signature, Tx tx) {
        List<Event> events = statement(memberName, EventType.PROPOSE, statement, signature, tx);
        Proposal p = proposal(((Number) events.get(0).body().get("id")).longValue());
        log.info("proposal {} opened by {}: {} {}", p.id(), p.proposer(), p.kind().label(), p.title());
        return p;
    }

    Proposal vote(String memberName, SortedMap<String, Object> statement, String signature, Tx tx) {
        statement(memberName, EventType.BALLOT, statement, signature, tx);
        return proposal(((Number) statement.get("proposal")).longValue());
    }

    Map<Topic, String> delegations(String memberName) {
        Map<Topic, String> out = new EnumMap<>(Topic.class);
        for (Topic t : Topic.values()) {
            String to = gov.delegations(t).get(memberName);
            if (to != null) {
                out.put(t, to);
            }
        }
        return out;
    }

    Governance.Panel panel(long job) {
        Governance.Panel p = gov.panel(job);
        if (p == null) {
            throw CoopException.notFound("job " + job + " has no review panel");
        }
        return p;
    }

    /** Why a job in review waits: its panel and the count of approvals so far. */
    String reviewWait(long job) {
        Governance.Panel panel = gov.panel(job);
        if (panel == null) {
            return null;
        }
        int size = panel.drawn().size();
        return "waiting for review by a panel drawn by lot (" + String.join(", ", panel.drawn()) + "): "
                + panel.approving() + " of " + (size / 2 + 1) + " approvals needed, " + panel.rejecting()
                + " rejecting";
    }

    /** A proposal with its tally so far (delegations included) while it is open. */
    Proposal proposal(long id) {
        return gov.withLiveTally(gov.proposal(id));
    }

    List<Proposal> proposals(boolean openOnly) {
        return gov.proposals(openOnly).stream().map(gov::withLiveTally).toList();
    }

    Policy policy() {
        return gov.policy();
    }

    Policy policy(long version) {
        if (version < 0) {
            throw CoopException.invalid("version", "must be 0 (the live policy) or a policy version, got " + version);
        }
        if (version == 0) {
            return policy();
        }
        return gov.policies().stream().filter(p -> p.version() == version).findFirst()
                .orElseThrow(() -> CoopException.notFound("policy version " + version + " not found"));
    }

    List<Policy> policies() {
        return gov.policies();
    }

    LedgerHead ledgerHead() {
        return new LedgerHead(ledger.size(), ledger.head());
    }

    String head() {
        return ledger.head();
    }

    /**
     * Records a member's witness of a recent head: its signed statement that entry {@code seq}
     * had hash {@code head}. Whoever later rewrites the history before that entry must drop the
     * witness too, and the member keeps its own copy.
     */
    void witness(String memberName, SortedMap<String, Object> statement, String signature, Tx tx) {
        Member m = requireMember(memberName);
        coop.scheduler.ledger.SignedHead.Witness w;
        try {
            w = coop.scheduler.ledger.SignedHead.Witness.of(statement);
        } catch (IllegalArgumentException e) {
            throw CoopException.invalid("statement", e.getMessage());
        }
        if (!w.member().equals(m.name())) {
            throw CoopException.denied("a witness must be the calling member's own, not " + w.member() + "'s");
        }
        if (m.publicKey() == null || !coop.scheduler.ledger.Keys.verify(m.publicKey(),
                coop.scheduler.ledger.Canonical.encode(statement), signature)) {
            throw new CoopException(CoopException.Kind.UNAUTHENTICATED, "signature: the witness is not signed by "
                    + m.name() + "'s key (check the identity file)");
        }
        String hash = ledger.recentHash(w.seq());
        if (hash == null) {
            throw CoopException.precondition("entry " + w.seq() + " is not among the last "
                    + coop.scheduler.ledger.SignedHead.WITNESS_WINDOW + " entries of the ledger (" + ledger.size()
                    + " long): witness a recent head");
        }
        if (!hash.equals(w.head())) {
            throw CoopException.invalid("head", "entry " + w.seq() + " of this ledger has hash " + hash + ", not "
                    + w.head());
        }
        record(Event.of(EventType.WITNESS, Map.of("statement", statement, "signature", signature)), tx);
    }

    /**
     * Announces the key the scheduler signs ledger heads with, unless the ledger's last
     * announcement is that key already (a restart); a new key (a moved or restored data folder)
     * is announced anew. Returns whether it recorded an announcement.
     */
    boolean announceSchedulerKey(String publicKey, Tx tx) {
        if (publicKey.equals(ledger.schedulerKey())) {
            return false;
        }
        record(Event.of(EventType.SCHEDULER_KEY, Map.of("public_key", publicKey)), tx);
        return true;
    }

    /**
     * The time governance inputs are dated: the clock, but never before the ledger's last
     * entry, so that a clock stepped back cannot date the ledger backwards.
     */
    long now() {
        return Math.max(clock.millis(), ledger.lastAt());
    }

    /**
     * The beacon's next reveal, for a panel about to be drawn: when the ledger has no beacon
     * chain or its chain is used up, a new secret is drawn and a beacon entry committing to it
     * is recorded first (the secret goes into this turn's batch, beside it).
     */
    String nextReveal(long now, Tx tx) {
        Beacon b = gov.beacon();
        if (b == null || b.spent()) {
            byte[] secret = new byte[32];
            random.nextBytes(secret);
            apply(gov.beacon(Beacon.anchor(secret, BEACON_LENGTH), BEACON_LENGTH), now, tx);
            beaconSecret = HexFormat.of().formatHex(secret);
            beaconChecked = true;
            tx.batch().put(Store.Kind.META, BEACON_SECRET_KEY, beaconSecret);
            b = gov.beacon();
        }
        if (!beaconChecked) {
            if (beaconSecret == null || !Beacon.anchor(HexFormat.of().parseHex(beaconSecret), b.length())
                    .equals(b.anchor())) {
                throw CoopException.precondition("the scheduler's beacon secret is missing or is not the one its "
                        + "ledger's beacon commits to, so it cannot draw review panels (restore the data folder "
                        + "from a backup)");
            }
            beaconChecked = true;
        }
        return Beacon.reveal(HexFormat.of().parseHex(beaconSecret), b.length(), b.used() + 1);
    }

    /** Closes the proposals past their deadline. */
    void tick(long now, Tx tx) {
        apply(gov.tick(now), now, tx);
    }

    /** Records events in the ledger and puts their effects on jobs and usage into force. */
    void apply(List<Event> events, long now, Tx tx) {
        applying++;
        boolean done = false;
        try {
            for (Event e : events) {
                ledger.append(now, e, tx.batch());
                switch (e.type()) {
                    case CLOSE -> closed(e, now, tx);
                    case WITHDRAW -> log.info("proposal {} {}", e.body().get("proposal"), e.body().get("outcome"));
                    case RESIGN -> {
                        String member = (String) ((Map<?, ?>) e.body().get("statement")).get("member");
                        log.info("member {} resigned", member);
                        refreshTokens();
                        consequences.memberRemoved(member, "resigned", now, tx);
                    }
                    case VERDICT -> consequences.verdict(((Number) e.body().get("job")).longValue(),
                            "approved".equals(e.body().get("verdict")), now, tx);
                    default -> {
                    }
                }
            }
            done = true;
        } finally {
            applying--;
            if (applying == 0 && !held.isEmpty()) {
                List<Event> due = List.copyOf(held);
                held.clear();
                if (done) {
                    due.forEach(e -> record(e, tx));
                }
            }
        }
    }

    /**
     * Records a decision the scheduler took on its own authority (a submission, a cancellation, a
     * node's change, a preemption, a certificate) in the turn's batch, so it is durable exactly when
     * the change is. Taken while governance events are being applied (a removal's consequences), it
     * follows them: the verifier expects the events a rule yields to come together.
     */
    void record(Event e, Tx tx) {
        if (applying > 0) {
            held.add(e);
            return;
        }
        ledger.append(now(), e, tx.batch());
    }

    private void closed(Event e, long now, Tx tx) {
        Proposal p = gov.proposal(((Number) e.body().get("proposal")).longValue());
        log.info("proposal {} {}: {}", p.id(), p.state().name().toLowerCase(), p.outcome());
        if (p.kind() == ProposalKind.ADMIT || p.kind() == ProposalKind.REMOVE) {
            refreshTokens();
        }
        if (p.kind() == ProposalKind.REMOVE && p.state() == ProposalState.PASSED) {
            consequences.memberRemoved((String) p.change().get("name"), "was removed", now, tx);
        }
        if (p.enactedVersion() != 0) {
            consequences.enacted(policy(p.enactedVersion() - 1), policy(p.enactedVersion()), now, tx);
        }
    }
}
