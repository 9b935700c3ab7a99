package coop.scheduler.governance;

import coop.scheduler.domain.Account;
import coop.scheduler.domain.Ballot;
import coop.scheduler.domain.Choice;
import coop.scheduler.domain.Constitution;
import coop.scheduler.domain.CoopException;
import coop.scheduler.domain.Member;
import coop.scheduler.domain.Names;
import coop.scheduler.domain.Params;
import coop.scheduler.domain.Policy;
import coop.scheduler.domain.Proposal;
import coop.scheduler.domain.ProposalKind;
import coop.scheduler.domain.ProposalState;
import coop.scheduler.domain.Role;
import coop.scheduler.domain.Tally;
import coop.scheduler.domain.Topic;
import coop.scheduler.ledger.Canonical;
import coop.scheduler.ledger.Entry;
import coop.scheduler.ledger.Keys;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.EnumSet;
import java.util.HashMap;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SortedMap;
import java.util.TreeMap;

/**
 * The cooperative's governance as a state machine driven by ledger entries: members, accounts,
 * policies, proposals and their ballots, delegations and review panels. Every change comes
 * from one of three inputs (a member's signed statement, the passing of time, a job that
 * needs review) and yields the {@link Event}s the ledger records. The scheduler runs it live;
 * {@code coop ledger verify} runs a fresh one over the recorded inputs and checks that it
 * yields exactly the recorded events, so every tally, enactment and panel is re-derived from
 * the ledger alone.
 *
 * <p>Each input is checked in full before anything changes, so a refused input changes nothing.
 */
public final class Governance {
    /** How far a statement's {@code signed_at} may be from the scheduler's clock. */
    static final Duration SIGNING_SKEW = Duration.ofMinutes(10);
    static final int MAX_TITLE = 200;
    static final int MAX_REASON = 500;
    /** Most accounts one admitted member may submit to. */
    static final int MAX_MEMBER_ACCOUNTS = 64;

    private final Map<String, Member> members = new TreeMap<>();
    private final Map<String, Account> accounts = new TreeMap<>();
    private final List<Policy> policies = new ArrayList<>();
    private final TreeMap<Long, Proposal> proposals = new TreeMap<>();
    private final Map<Topic, Map<String, String>> delegations = new EnumMap<>(Topic.class);
    private final Map<Long, Panel> panels = new HashMap<>();
    /** Latest signed_at accepted per member and target ("propose", "ballot/7", "delegate/shares", "review/12"). */
    private final Map<String, Long> lastSigned = new HashMap<>();
    private long nextProposalId = 1;

    /** A review panel: the members drawn, their reviews, and once decided, the verdict. */
    public record Panel(long job, String submitter, List<String> drawn, Map<String, Boolean> approvals,
                        Map<String, String> reasons, String verdict) {
        public long approving() {
            return approvals.values().stream().filter(b -> b).count();
        }

        public long rejecting() {
            return approvals.values().stream().filter(b -> !b).count();
        }
    }

    private Governance() {
        for (Topic t : Topic.values()) {
            delegations.put(t, new TreeMap<>());
        }
    }

    // ------------------------------------------------------------------ founding

    /** The body of the genesis entry: founders, accounts and the founding policy (equal shares). */
    public static SortedMap<String, Object> genesis(List<Member> founders, List<String> accountNames) {
        return genesis(founders, accountNames, Params.DEFAULTS);
    }

    /** The body of the genesis entry, with founding parameters other than the defaults. */
    public static SortedMap<String, Object> genesis(List<Member> founders, List<String> accountNames, Params params) {
        if (founders.isEmpty()) {
            throw CoopException.invalid("members", "a cooperative needs at least one founding member");
        }
        if (accountNames.isEmpty()) {
            throw CoopException.invalid("accounts", "a cooperative needs at least one account");
        }
        List<Object> ms = new ArrayList<>();
        founders.forEach(m -> ms.add(memberMap(m)));
        SortedMap<String, Object> shares = new TreeMap<>();
        List<String> sorted = new ArrayList<>(new java.util.TreeSet<>(accountNames));
        long each = Rules.WHOLE / sorted.size();
        long rest = Rules.WHOLE - each * sorted.size();
        for (String a : sorted) {
            shares.put(a, each + (rest-- > 0 ? 1 : 0));
        }
        SortedMap<String, Object> policy = new TreeMap<>();
        policy.put("shares", shares);
        policy.put("params", params.toMap());
        policy.put("constitution", Constitution.DEFAULTS.toMap());
        SortedMap<String, Object> body = new TreeMap<>();
        body.put("members", ms);
        body.put("accounts", sorted);
        body.put("policy", policy);
        return body;
    }

    private static SortedMap<String, Object> memberMap(Member m) {
        SortedMap<String, Object> o = new TreeMap<>();
        o.put("name", m.name());
        o.put("accounts", m.accounts());
        List<String> roles = new ArrayList<>();
        EnumSet.copyOf(m.roles().isEmpty() ? EnumSet.noneOf(Role.class) : m.roles()).forEach(r -> roles.add(r.label()));
        o.put("roles", roles);
        o.put("public_key", m.publicKey());
        o.put("token_sha256", m.tokenSha256());
        return o;
    }

    /** A governance founded by a genesis entry's body at {@code at}. */
    @SuppressWarnings("unchecked")
    public static Governance found(Map<String, Object> body, long at) {
        Governance g = new Governance();
        for (Object a : (List<Object>) body.get("accounts")) {
            g.accounts.put(Names.require("accounts", (String) a), new Account((String) a, at, 0));
        }
        for (Object o : (List<Object>) body.get("members")) {
            Member m = g.memberFrom("members", (Map<String, Object>) o, at);
            g.members.put(m.name(), m);
        }
        Map<String, Object> p = (Map<String, Object>) body.get("policy");
        SortedMap<String, Integer> shares = intMap((Map<String, Object>) p.get("shares"));
        Rules.validateShares(shares, g.accounts.keySet());
        g.policies.add(new Policy(1, shares, Params.fromMap((Map<String, Object>) p.get("params")),
                Constitution.fromMap((Map<String, Object>) p.get("constitution")), at, 0, at));
        return g;
    }

    private Member memberFrom(String field, Map<String, Object> o, long at) {
        String name = Names.require(field + ".name", string(o, "name"));
        List<String> accts = new ArrayList<>();
        if (o.get("accounts") instanceof List<?> l) {
            for (Object a : l) {
                String acc = String.valueOf(a);
                Account account = accounts.get(acc);
                if (account == null || !account.open()) {
                    throw CoopException.invalid(field + ".accounts", "no open account named '" + acc + "'");
                }
                accts.add(acc);
            }
        }
        Set<Role> roles = EnumSet.noneOf(Role.class);
        if (o.get("roles") instanceof List<?> l) {
            for (Object r : l) {
                roles.add(Role.parse(field + ".roles", String.valueOf(r)));
            }
        }
        if (roles.isEmpty()) {
            throw CoopException.invalid(field + ".roles", "name at least one role (member, researcher, operator)");
        }
        String key = string(o, "public_key");
        try {
            Keys.publicKey(key);
        } catch (IllegalArgumentException e) {
            throw CoopException.invalid(field + ".public_key", e.getMessage());
        }
        String token = string(o, "token_sha256");
        if (!token.matches("[0-9a-f]{64}")) {
            throw CoopException.invalid(field + ".token_sha256", "must be 64 lower-case hex digits (SHA-256)");
        }
        return new Member(name, accts, roles, key, token, at, 0);
    }

    // ------------------------------------------------------------------ reading

    public Member member(String name) {
        return members.get(name);
    }

    public List<Member> members() {
        return List.copyOf(members.values());
    }

    public Map<String, Account> accounts() {
        return java.util.Collections.unmodifiableMap(accounts);
    }

    public Set<String> openAccounts() {
        Set<String> out = new java.util.TreeSet<>();
        accounts.values().stream().filter(Account::open).forEach(a -> out.add(a.name()));
        return out;
    }

    public Policy policy() {
        return policies.get(policies.size() - 1);
    }

    public List<Policy> policies() {
        return List.copyOf(policies);
    }

    public Proposal proposal(long id) {
        Proposal p = proposals.get(id);
        if (p == null) {
            throw CoopException.notFound("proposal " + id + " not found");
        }
        return p;
    }

    /** Proposals newest first. */
    public List<Proposal> proposals(boolean openOnly) {
        return proposals.descendingMap().values().stream().filter(p -> !openOnly || p.open()).toList();
    }

    /**
     * The proposal as members should see it: while open, with the tally it would have if it
     * closed now (delegations included); once closed, with the tally it closed with.
     */
    public Proposal withLiveTally(Proposal p) {
        return p.open() ? p.closed(p.state(), 0, "", 0, count(p).tally(), p.result()) : p;
    }

    /** Whom each member has delegated to on a topic. */
    public Map<String, String> delegations(Topic topic) {
        return java.util.Collections.unmodifiableMap(delegations.get(topic));
    }

    public Panel panel(long job) {
        return panels.get(job);
    }

    /** Members who may vote: active, with the member role. */
    public List<String> voters() {
        List<String> out = new ArrayList<>();
        members.values().stream().filter(m -> m.has(Role.MEMBER)).forEach(m -> out.add(m.name()));
        return out;
    }

    /** Whether a job of this size and declared purpose needs a review panel under the live policy. */
    public boolean needsReview(int gpus, String purpose) {
        Params p = policy().params();
        return (p.panelMinGpus() > 0 && gpus >= p.panelMinGpus())
                || (purpose != null && !purpose.isEmpty() && p.panelPurposes().contains(purpose));
    }

    // ------------------------------------------------------------------ inputs

    /**
     * Applies a member's signed statement at {@code now}: a proposal, ballot, delegation or
     * review. Returns the events it caused, the statement's own first.
     *
     * @param checkSignature false only when replaying the scheduler's own ledger at start-up
     * @throws CoopException when the statement is refused; nothing has changed then
     */
    public List<Event> submit(SortedMap<String, Object> statement, String signature, long now, boolean checkSignature) {
        String type = string(statement, "type");
        String name = string(statement, "member");
        Member m = members.get(name);
        if (m == null) {
            throw CoopException.denied("'" + name + "' is not a member of the cooperative");
        }
        if (!m.active()) {
            throw CoopException.denied("member " + name + " was removed; its statements are refused");
        }
        if (checkSignature && !Keys.verify(m.publicKey(), Canonical.encode(statement), signature)) {
            throw new CoopException(CoopException.Kind.UNAUTHENTICATED, "signature: the " + type
                    + " is not signed by " + name + "'s key (check the identity file)");
        }
        long signedAt = number(statement, "signed_at");
        if (Math.abs(signedAt - now) > SIGNING_SKEW.toMillis()) {
            throw CoopException.invalid("signed_at", "must be within " + SIGNING_SKEW.toMinutes()
                    + " minutes of the scheduler's clock; check this machine's clock");
        }
        requireNothingDue(now);
        SortedMap<String, Object> signed = new TreeMap<>();
        signed.put("statement", statement);
        signed.put("signature", signature == null ? "" : signature);
        return switch (type) {
            case "propose" -> propose(m, statement, signedAt, signed, now);
            case "ballot" -> ballot(m, statement, signedAt, signed, now);
            case "delegate" -> delegate(m, statement, signedAt, signed);
            case "review" -> review(m, statement, signedAt, signed, now);
            default -> throw CoopException.invalid("type", "unknown statement type '" + type + "'");
        };
    }

    /**
     * The scheduler closes due proposals before it takes any input (see {@link #tick}); an
     * input dated after a deadline that has not been closed means a close was withheld.
     */
    private void requireNothingDue(long now) {
        for (Proposal p : proposals.values()) {
            if (p.open() && now >= p.closesAt()) {
                throw CoopException.precondition("proposal " + p.id() + " was due to close at " + p.closesAt()
                        + " before this input; close due proposals first");
            }
        }
    }

    private void requireVoter(Member m, String what) {
        if (!m.has(Role.MEMBER)) {
            throw CoopException.denied("member " + m.name() + " has no vote, so cannot " + what);
        }
    }

    private void requireNewer(String member, String target, long signedAt) {
        Long last = lastSigned.get(member + "/" + target);
        if (last != null && signedAt <= last) {
            throw CoopException.precondition("signed_at: " + member + " already signed a later or equal " + target
                    + " statement; an old statement cannot be replayed");
        }
    }

    private List<Event> propose(Member m, SortedMap<String, Object> s, long signedAt, SortedMap<String, Object> body,
                                long now) {
        requireVoter(m, "propose");
        requireNewer(m.name(), "propose", signedAt);
        ProposalKind kind = ProposalKind.parse("kind", string(s, "kind"));
        SortedMap<String, Object> change = map(s, "change");
        validateChange(kind, change, "");
        String title = string(s, "title");
        if (title.length() > MAX_TITLE || title.chars().anyMatch(Character::isISOControl)) {
            throw CoopException.invalid("title", "must be at most " + MAX_TITLE + " printable characters");
        }
        if (title.isBlank()) {
            title = describe(kind, change);
        }
        long closesIn = number(s, "closes_in_s");
        long period = closesIn == 0 ? policy().params().votingPeriodS() : closesIn;
        if (period < 1 || period > Duration.ofDays(60).toSeconds()) {
            throw CoopException.invalid("closes_in_seconds", "must be between 1 and "
                    + Duration.ofDays(60).toSeconds() + ", got " + closesIn);
        }
        List<String> eligible = voters();
        Proposal p = new Proposal(nextProposalId++, kind, title, m.name(), change, now, now + period * 1000,
                eligible, Map.of(), ProposalState.OPEN, 0, "", 0, null, new TreeMap<>());
        proposals.put(p.id(), p);
        lastSigned.put(m.name() + "/propose", signedAt);
        body.put("id", p.id());
        body.put("closes_at", p.closesAt());
        body.put("eligible", eligible);
        return List.of(Event.of("propose", body));
    }

    /**
     * Checks a proposed change against the state now.
     *
     * @param prefix "" when proposing; "no longer valid: " when re-checked at close
     */
    @SuppressWarnings("unchecked")
    private void validateChange(ProposalKind kind, Map<String, Object> change, String prefix) {
        Policy policy = policy();
        switch (kind) {
            case SHARES -> {
                SortedMap<String, Integer> shares = intMap(mapOrEmpty(change.get("shares"), "shares"));
                Rules.validateShares(shares, openAccounts());
                Rules.checkFloors("shares", shares, policy.constitution());
            }
            case SHARE_BUDGET -> {
                if (!change.isEmpty()) {
                    throw CoopException.invalid("change", "a share-budget proposal takes no change: members "
                            + "vote with their splits");
                }
            }
            case PARAM -> policy.params().with(mapOrEmpty(change.get("params"), "params"));
            case AMEND -> {
                Constitution next = policy.constitution().with(change, openAccounts());
                Rules.checkFloors("amend.floors", policy.shares(), next);
            }
            case ADMIT -> {
                String name = Names.require("name", string(change, "name"));
                if (change.get("accounts") instanceof List<?> l
                        && (l.size() > MAX_MEMBER_ACCOUNTS || new HashSet<>(l).size() != l.size())) {
                    throw CoopException.invalid("accounts", "at most " + MAX_MEMBER_ACCOUNTS
                            + " accounts, each named once");
                }
                if (change.get("roles") instanceof List<?> l
                        && (l.size() > Role.values().length || new HashSet<>(l).size() != l.size())) {
                    throw CoopException.invalid("roles", "each of member, researcher, operator at most once");
                }
                if (members.containsKey(name)) {
                    throw new CoopException(CoopException.Kind.ALREADY_EXISTS, "name: '" + name
                            + "' is or was already a member");
                }
                Member candidate = memberFrom("admit", change, 0);
                if (policy.constitution().everyMemberVotes() && !candidate.roles().contains(Role.MEMBER)) {
                    throw CoopException.invalid("roles", "the constitution gives every member a vote: include the "
                            + "member role");
                }
            }
            case REMOVE -> {
                String name = Names.require("name", string(change, "name"));
                Member target = members.get(name);
                if (target == null || !target.active()) {
                    throw CoopException.invalid("name", "'" + name + "' is not a member");
                }
                if (target.has(Role.MEMBER) && voters().size() <= 1) {
                    throw CoopException.invalid("name", "cannot remove the last member with a vote");
                }
            }
            case ACCOUNT -> {
                String action = string(change, "action");
                String name = Names.require("name", string(change, "name"));
                if (action.equals("create")) {
                    if (accounts.containsKey(name)) {
                        throw new CoopException(CoopException.Kind.ALREADY_EXISTS, "name: account '" + name
                                + "' already exists");
                    }
                } else if (action.equals("close")) {
                    Account a = accounts.get(name);
                    if (a == null || !a.open()) {
                        throw CoopException.invalid("name", "no open account named '" + name + "'");
                    }
                    if (openAccounts().size() <= 1) {
                        throw CoopException.invalid("name", "cannot close the last open account");
                    }
                    if (!prefix.isEmpty() && policy.share(name) > 0) {
                        throw CoopException.precondition("account " + name + " still holds "
                                + Rules.percent(policy.share(name)) + "; pass a shares proposal giving it 0% first");
                    }
                } else {
                    throw CoopException.invalid("action", "must be create or close, got '" + action + "'");
                }
            }
            default -> throw new IllegalStateException(kind.toString());
        }
    }

    private List<Event> ballot(Member m, SortedMap<String, Object> s, long signedAt, SortedMap<String, Object> body,
                               long now) {
        long id = number(s, "proposal");
        Proposal p = proposal(id);
        if (!p.open() || now >= p.closesAt()) {
            throw CoopException.precondition("proposal " + id + " is closed; no ballots after close");
        }
        requireVoter(m, "vote");
        if (!p.eligible().contains(m.name())) {
            throw CoopException.denied("member " + m.name() + " was not a member when proposal " + id + " opened");
        }
        requireNewer(m.name(), "ballot/" + id, signedAt);
        String choiceText = string(s, "choice");
        Ballot b;
        if (p.kind() == ProposalKind.SHARE_BUDGET) {
            if (choiceText.equals("split")) {
                SortedMap<String, Integer> split = intMap(mapOrEmpty(s.get("split"), "split"));
                validateSplit(split);
                b = Ballot.split(m.name(), split, now, signedAt);
            } else if (choiceText.equals("abstain")) {
                b = new Ballot(m.name(), Choice.ABSTAIN, new TreeMap<>(), now, signedAt);
            } else {
                throw CoopException.invalid("split", "a share-budget ballot is a split over the accounts "
                        + "(--split lab-a=40,lab-b=60) or an abstention");
            }
        } else {
            if (s.containsKey("split")) {
                throw CoopException.invalid("split", "only a share-budget proposal takes a split; vote yes, no or "
                        + "abstain");
            }
            Choice c = switch (choiceText) {
                case "yes" -> Choice.YES;
                case "no" -> Choice.NO;
                case "abstain" -> Choice.ABSTAIN;
                default -> throw CoopException.invalid("choice", "must be yes, no or abstain, got '" + choiceText + "'");
            };
            b = new Ballot(m.name(), c, new TreeMap<>(), now, signedAt);
        }
        p = p.withBallot(b);
        proposals.put(id, p);
        lastSigned.put(m.name() + "/ballot/" + id, signedAt);
        List<Event> out = new ArrayList<>();
        out.add(Event.of("ballot", body));
        // A removed member has left the eligible list (see removed), so every name there can still vote.
        if (p.ballots().keySet().containsAll(p.eligible())) {
            out.addAll(close(p, now));
        }
        return out;
    }

    private void validateSplit(Map<String, Integer> split) {
        Set<String> open = openAccounts();
        long sum = 0;
        for (var e : split.entrySet()) {
            if (!open.contains(e.getKey())) {
                throw CoopException.invalid("split[" + e.getKey() + "]", "no open account of that name (accounts: "
                        + String.join(", ", open) + ")");
            }
            if (e.getValue() < 0) {
                throw CoopException.invalid("split[" + e.getKey() + "]", "must not be negative");
            }
            sum += e.getValue();
        }
        if (sum != Rules.WHOLE) {
            throw CoopException.invalid("split", "must sum to 100%, got " + Rules.percent(sum));
        }
    }

    private List<Event> delegate(Member m, SortedMap<String, Object> s, long signedAt, SortedMap<String, Object> body) {
        requireVoter(m, "delegate");
        Topic topic = Topic.parse("topic", string(s, "topic"));
        requireNewer(m.name(), "delegate/" + topic.label(), signedAt);
        String to = string(s, "to");
        Map<String, String> edges = delegations.get(topic);
        if (!to.isEmpty()) {
            Member target = members.get(to);
            if (target == null || !target.has(Role.MEMBER)) {
                throw CoopException.invalid("to", "'" + to + "' is not a member with a vote");
            }
            if (to.equals(m.name())) {
                throw CoopException.invalid("to", "a member cannot delegate to itself");
            }
            for (String at = to; at != null; at = edges.get(at)) {
                if (at.equals(m.name())) {
                    throw CoopException.invalid("to", "delegating " + topic.label() + " to " + to
                            + " would make a cycle (" + chain(edges, to) + " → " + m.name() + ")");
                }
            }
            edges.put(m.name(), to);
        } else {
            if (!edges.containsKey(m.name())) {
                throw CoopException.precondition(m.name() + " has no delegation on " + topic.label() + " to revoke");
            }
            edges.remove(m.name());
        }
        lastSigned.put(m.name() + "/delegate/" + topic.label(), signedAt);
        return List.of(Event.of("delegate", body));
    }

    private static String chain(Map<String, String> edges, String from) {
        StringBuilder sb = new StringBuilder(from);
        Set<String> seen = new HashSet<>();
        for (String at = edges.get(from); at != null && seen.add(at); at = edges.get(at)) {
            sb.append(" → ").append(at);
        }
        return sb.toString();
    }

    /** Closes every open proposal whose deadline has come, in id order. */
    public List<Event> tick(long now) {
        List<Event> out = new ArrayList<>();
        for (long id : List.copyOf(proposals.keySet())) {
            // Read afresh: a removal closed just before may have withdrawn this one or struck a ballot from it.
            Proposal p = proposals.get(id);
            if (p.open() && now >= p.closesAt()) {
                out.addAll(close(p, now));
            }
        }
        return out;
    }

    // ------------------------------------------------------------------ closing

    /**
     * The close of a proposal, then, when it removes a member, what the removal does to the open
     * votes and review panels (see {@link #removed}).
     */
    private List<Event> close(Proposal p, long now) {
        Counted counted = count(p);
        Tally tally = counted.tally();
        Policy policy = policy();
        Rules.Outcome outcome = Rules.decide(p.kind(), tally, policy.constitution());
        SortedMap<String, Integer> aggregate = new TreeMap<>();
        if (outcome.state() == ProposalState.PASSED && p.kind() == ProposalKind.SHARE_BUDGET) {
            if (counted.splits().isEmpty()) {
                outcome = new Rules.Outcome(ProposalState.REJECTED, "no member submitted a split ("
                        + tally.describe() + ")");
            } else {
                try {
                    // An account closed while the vote was open cannot be aggregated over.
                    aggregate = MovingPhantom.aggregate(openAccounts(), counted.splits());
                    Rules.checkFloors("result", aggregate, policy.constitution());
                } catch (CoopException e) {
                    aggregate = new TreeMap<>();
                    outcome = new Rules.Outcome(ProposalState.REJECTED, "the splits cannot be enacted: "
                            + e.getMessage());
                }
            }
        }
        if (outcome.state() == ProposalState.PASSED) {
            try {
                validateChange(p.kind(), p.change(), "no longer valid: ");
            } catch (CoopException e) {
                outcome = new Rules.Outcome(ProposalState.REJECTED, "no longer valid at close: " + e.getMessage());
            }
        }
        long version = 0;
        SortedMap<String, Object> body = new TreeMap<>();
        if (outcome.state() == ProposalState.PASSED) {
            Policy next = enact(p, aggregate, now);
            if (next != null) {
                version = next.version();
                body.put("policy", next.toMap());
            }
        }
        Proposal closed = p.closed(outcome.state(), now, outcome.reason(), version, tally, aggregate);
        proposals.put(p.id(), closed);
        body.put("proposal", p.id());
        body.put("state", outcome.state().name().toLowerCase(java.util.Locale.ROOT));
        body.put("outcome", outcome.reason());
        body.put("tally", tally.toMap());
        if (!aggregate.isEmpty()) {
            body.put("result", new TreeMap<String, Object>(aggregate));
        }
        List<Event> out = new ArrayList<>();
        out.add(Event.of("close", body));
        if (closed.kind() == ProposalKind.REMOVE && closed.state() == ProposalState.PASSED) {
            out.addAll(removed(string(closed.change(), "name"), now));
        }
        return out;
    }

    /**
     * What a member's removal does beyond its record and its delegations (see {@link #enact}),
     * each step an event, so that the ledger says it and the verifier re-derives it:
     * <ol>
     *   <li>each open proposal it opened is withdrawn, with the tally it had without the member;</li>
     *   <li>each other open proposal loses the member's ballot and its place among the eligible,
     *       so the member counts neither in participation nor in the quorum's denominator (a vote
     *       that closed before the removal keeps the count it closed with);</li>
     *   <li>the review panels of its jobs that await a verdict are dropped (its jobs are cancelled);</li>
     *   <li>a panel it sat on may now be settled by the members left on it.</li>
     * </ol>
     */
    private List<Event> removed(String gone, long now) {
        List<Event> out = new ArrayList<>();
        for (Proposal p : List.copyOf(proposals.values())) {
            if (!p.open() || !(p.proposer().equals(gone) || p.eligible().contains(gone))) {
                continue;
            }
            Proposal without = p.without(gone);
            SortedMap<String, Object> body = new TreeMap<>();
            body.put("proposal", p.id());
            if (p.proposer().equals(gone)) {
                Tally tally = count(without).tally();
                String why = "withdrawn: its proposer " + gone + " was removed";
                proposals.put(p.id(), without.closed(ProposalState.WITHDRAWN, now, why, 0, tally, new TreeMap<>()));
                body.put("state", "withdrawn");
                body.put("outcome", why);
                body.put("tally", tally.toMap());
                out.add(Event.of("withdraw", body));
            } else {
                Ballot struck = p.ballots().get(gone);
                proposals.put(p.id(), without);
                body.put("member", gone);
                body.put("ballot", struck == null ? "none" : !struck.split().isEmpty() ? "split"
                        : struck.choice().name().toLowerCase(java.util.Locale.ROOT));
                body.put("eligible", (long) without.eligible().size());
                out.add(Event.of("ineligible", body));
            }
        }
        for (long job : new java.util.TreeSet<>(panels.keySet())) {
            Panel panel = panels.get(job);
            if (panel.submitter().equals(gone) && panel.verdict().isEmpty()) {
                panels.remove(job);
                out.add(Event.of("cancel-review", Map.of("job", job)));
            }
        }
        for (long job : new java.util.TreeSet<>(panels.keySet())) {
            verdictIfSettled(panels.get(job)).ifPresent(out::add);
        }
        return out;
    }

    private record Counted(Tally tally, List<Map<String, Integer>> splits) {
    }

    /**
     * Counts each eligible member once: by its own ballot, else by the ballot of the first
     * member up its delegation chain (on the proposal's topic) who cast one.
     */
    private Counted count(Proposal p) {
        Map<String, String> edges = delegations.get(p.kind().topic());
        int yes = 0;
        int no = 0;
        int abstain = 0;
        int direct = 0;
        int delegated = 0;
        List<Map<String, Integer>> splits = new ArrayList<>();
        for (String e : p.eligible()) {
            Ballot b = p.ballots().get(e);
            boolean own = b != null;
            Set<String> seen = new HashSet<>();
            for (String at = edges.get(e); b == null && at != null && seen.add(at); at = edges.get(at)) {
                b = p.ballots().get(at);
            }
            if (b == null) {
                continue;
            }
            if (own) {
                direct++;
            } else {
                delegated++;
            }
            switch (b.choice()) {
                case YES -> yes++;
                case NO -> no++;
                case ABSTAIN -> abstain++;
                default -> throw new IllegalStateException();
            }
            if (!b.split().isEmpty()) {
                splits.add(b.split());
            }
        }
        return new Counted(new Tally(yes, no, abstain, p.eligible().size(), direct, delegated), splits);
    }

    /** Puts a passed proposal into effect; returns the new policy version, or null when the policy is unchanged. */
    @SuppressWarnings("unchecked")
    private Policy enact(Proposal p, SortedMap<String, Integer> aggregate, long now) {
        Policy cur = policy();
        SortedMap<String, Integer> shares = new TreeMap<>(cur.shares());
        Params params = cur.params();
        Constitution constitution = cur.constitution();
        Map<String, Object> change = p.change();
        switch (p.kind()) {
            case SHARES -> shares = p.shares();
            case SHARE_BUDGET -> shares = aggregate;
            case PARAM -> params = params.with((Map<String, Object>) change.get("params"));
            case AMEND -> constitution = constitution.with(change, openAccounts());
            case ACCOUNT -> {
                String name = string(change, "name");
                if (string(change, "action").equals("create")) {
                    accounts.put(name, new Account(name, now, 0));
                    shares.put(name, 0);
                } else {
                    accounts.put(name, new Account(name, accounts.get(name).createdAt(), now));
                    shares.remove(name);
                    constitution = constitution.withoutFloor(name);
                }
            }
            case ADMIT -> {
                Member m = memberFrom("admit", change, now);
                members.put(m.name(), m);
                return null;
            }
            case REMOVE -> {
                String name = string(change, "name");
                members.put(name, members.get(name).removed(now));
                // Delegations to and from it lapse: a delegator to it counts again only by its own ballot.
                for (Map<String, String> edges : delegations.values()) {
                    edges.remove(name);
                    edges.values().removeIf(name::equals);
                }
                return null;
            }
            default -> throw new IllegalStateException(p.kind().toString());
        }
        boolean sharesChanged = !shares.equals(cur.shares());
        Policy next = new Policy(cur.version() + 1, shares, params, constitution, now, p.id(),
                sharesChanged ? now : cur.sharesSince());
        policies.add(next);
        return next;
    }

    // ------------------------------------------------------------------ review panels

    /**
     * Draws the review panel of a job that needs one, by lot from the members with a vote other
     * than its submitter, seeded by the ledger head at its submission.
     *
     * @throws CoopException FAILED_PRECONDITION when no other member could review it
     */
    public List<Event> openPanel(long job, String submitter, int gpus, String purpose, String seedHex, long now) {
        requireNothingDue(now);
        List<String> eligible = new ArrayList<>(voters());
        eligible.remove(submitter);
        if (eligible.isEmpty()) {
            throw CoopException.precondition("this job needs review, and no member other than its submitter can "
                    + "review it");
        }
        if (panels.containsKey(job)) {
            throw CoopException.precondition("job " + job + " already has a review panel");
        }
        long k = policy().params().panelSize();
        List<String> drawn = Lottery.draw(HexFormat.of().parseHex(seedHex), eligible, (int) k);
        panels.put(job, new Panel(job, submitter, drawn, new LinkedHashMap<>(), new LinkedHashMap<>(), ""));
        SortedMap<String, Object> body = new TreeMap<>();
        body.put("job", job);
        body.put("member", submitter);
        body.put("gpus", (long) gpus);
        body.put("purpose", purpose == null ? "" : purpose);
        body.put("seed", seedHex);
        body.put("eligible", eligible);
        body.put("k", k);
        body.put("drawn", drawn);
        return List.of(Event.of("panel", body));
    }

    /** Ends a panel whose job was cancelled before a verdict. */
    public void dropPanel(long job) {
        panels.remove(job);
    }

    private List<Event> review(Member m, SortedMap<String, Object> s, long signedAt, SortedMap<String, Object> body,
                               long now) {
        long job = number(s, "job");
        Panel panel = panels.get(job);
        if (panel == null) {
            throw CoopException.notFound("job " + job + " has no open review panel");
        }
        if (!panel.verdict().isEmpty()) {
            throw CoopException.precondition("job " + job + " was already " + panel.verdict() + " by its panel");
        }
        if (!panel.drawn().contains(m.name())) {
            throw CoopException.denied("member " + m.name() + " is not on the review panel of job " + job
                    + " (panel: " + String.join(", ", panel.drawn()) + ")");
        }
        requireNewer(m.name(), "review/" + job, signedAt);
        String decision = string(s, "decision");
        if (!decision.equals("approve") && !decision.equals("reject")) {
            throw CoopException.invalid("decision", "must be approve or reject");
        }
        String reason = string(s, "reason");
        if (reason.length() > MAX_REASON || reason.chars().anyMatch(Character::isISOControl)) {
            throw CoopException.invalid("reason", "must be at most " + MAX_REASON + " printable characters");
        }
        panel.approvals().put(m.name(), decision.equals("approve"));
        panel.reasons().put(m.name(), reason);
        lastSigned.put(m.name() + "/review/" + job, signedAt);
        List<Event> out = new ArrayList<>();
        out.add(Event.of("review", body));
        verdictIfSettled(panel).ifPresent(out::add);
        return out;
    }

    /**
     * Decides a panel once a majority of its members who are still members approve, or once
     * such a majority can no longer approve (a panel left with no member rejects).
     */
    private java.util.Optional<Event> verdictIfSettled(Panel panel) {
        if (!panel.verdict().isEmpty()) {
            return java.util.Optional.empty();
        }
        List<String> seated = panel.drawn().stream().filter(d -> members.get(d).active()).toList();
        long approving = seated.stream().filter(d -> Boolean.TRUE.equals(panel.approvals().get(d))).count();
        long rejecting = seated.stream().filter(d -> Boolean.FALSE.equals(panel.approvals().get(d))).count();
        int size = seated.size();
        String verdict = approving * 2 > size ? "approved" : rejecting * 2 >= size ? "rejected" : "";
        if (verdict.isEmpty()) {
            return java.util.Optional.empty();
        }
        panels.put(panel.job(), new Panel(panel.job(), panel.submitter(), panel.drawn(), panel.approvals(),
                panel.reasons(), verdict));
        SortedMap<String, Object> v = new TreeMap<>();
        v.put("job", panel.job());
        v.put("verdict", verdict);
        v.put("approving", approving);
        v.put("rejecting", rejecting);
        return java.util.Optional.of(Event.of("verdict", v));
    }

    // ------------------------------------------------------------------ replay

    /**
     * Re-applies a recorded entry as the scheduler applied it, and returns the events it
     * yields; they must equal the entry and the entries that follow it. Entries that another
     * entry yields (a close after the last ballot, a verdict after a review, a withdrawal after a
     * removal) yield nothing when met on their own: the verifier has already compared them.
     */
    @SuppressWarnings("unchecked")
    public List<Event> replay(Entry e, boolean checkSignatures) {
        SortedMap<String, Object> b = e.body();
        return switch (e.type()) {
            case "propose", "ballot", "delegate", "review" ->
                    submit((SortedMap<String, Object>) map(b, "statement"), string(b, "signature"), e.at(),
                            checkSignatures);
            case "close" -> tick(e.at());
            // Only a removal yields these, after its close; met on their own, nothing is due.
            case "withdraw", "ineligible" -> List.of();
            case "panel" -> openPanel(number(b, "job"), string(b, "member"), (int) number(b, "gpus"),
                    string(b, "purpose"), string(b, "seed"), e.at());
            case "attempt" -> List.of(Event.of("attempt", b));
            case "cancel-review" -> {
                Panel panel = panels.get(number(b, "job"));
                if (panel == null || !panel.verdict().isEmpty()) {
                    throw new IllegalArgumentException("job " + b.get("job") + " has no panel awaiting a verdict");
                }
                dropPanel(number(b, "job"));
                yield List.of(Event.of("cancel-review", b));
            }
            default -> throw new IllegalArgumentException("unknown entry type '" + e.type() + "'");
        };
    }

    // ------------------------------------------------------------------ text

    /** A one-line description of a change, the default title of a proposal. */
    @SuppressWarnings("unchecked")
    public static String describe(ProposalKind kind, Map<String, Object> change) {
        return switch (kind) {
            case SHARES -> "shares " + describeShares(intMap(mapOrEmpty(change.get("shares"), "shares")));
            case SHARE_BUDGET -> "share budget: members submit their splits";
            case PARAM -> "set " + describePairs((Map<String, Object>) change.get("params"));
            case AMEND -> "amend " + describePairs(change);
            case ADMIT -> "admit " + change.get("name");
            case REMOVE -> "remove " + change.get("name");
            case ACCOUNT -> change.get("action") + " account " + change.get("name");
        };
    }

    public static String describeShares(Map<String, Integer> shares) {
        StringBuilder sb = new StringBuilder();
        new TreeMap<>(shares).forEach((a, bp) -> sb.append(sb.length() == 0 ? "" : " ").append(a).append('=')
                .append(Rules.percent(bp)));
        return sb.toString();
    }

    private static String describePairs(Map<String, Object> m) {
        StringBuilder sb = new StringBuilder();
        if (m != null) {
            new TreeMap<>(m).forEach((k, v) -> sb.append(sb.length() == 0 ? "" : " ").append(k).append('=')
                    .append(v instanceof Map || v instanceof List ? Canonical.text(v) : v));
        }
        return sb.toString();
    }

    // ------------------------------------------------------------------ reading statements

    static String string(Map<String, Object> m, String field) {
        Object v = m.get(field);
        if (v == null) {
            return "";
        }
        if (!(v instanceof String s)) {
            throw CoopException.invalid(field, "must be text");
        }
        return s;
    }

    static long number(Map<String, Object> m, String field) {
        Object v = m.get(field);
        if (v == null) {
            return 0;
        }
        if (!(v instanceof Number n)) {
            throw CoopException.invalid(field, "must be a whole number");
        }
        return n.longValue();
    }

    @SuppressWarnings("unchecked")
    static SortedMap<String, Object> map(Map<String, Object> m, String field) {
        return new TreeMap<>(mapOrEmpty(m.get(field), field));
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> mapOrEmpty(Object v, String field) {
        if (v == null) {
            return Map.of();
        }
        if (!(v instanceof Map<?, ?>)) {
            throw CoopException.invalid(field, "must be an object");
        }
        return (Map<String, Object>) v;
    }

    static SortedMap<String, Integer> intMap(Map<String, Object> m) {
        SortedMap<String, Integer> out = new TreeMap<>();
        for (var e : m.entrySet()) {
            if (!(e.getValue() instanceof Number n) || n.longValue() > Integer.MAX_VALUE
                    || n.longValue() < Integer.MIN_VALUE) {
                throw CoopException.invalid("shares[" + e.getKey() + "]", "must be a whole number of basis points");
            }
            out.put(e.getKey(), n.intValue());
        }
        return out;
    }
}
