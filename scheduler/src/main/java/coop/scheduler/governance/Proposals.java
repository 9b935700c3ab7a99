package coop.scheduler.governance;

import coop.scheduler.domain.Ballot;
import coop.scheduler.domain.Choice;
import coop.scheduler.domain.Constitution;
import coop.scheduler.domain.CoopException;
import coop.scheduler.domain.Member;
import coop.scheduler.domain.Policy;
import coop.scheduler.domain.Proposal;
import coop.scheduler.domain.ProposalKind;
import coop.scheduler.domain.ProposalState;
import coop.scheduler.domain.Tally;
import coop.scheduler.ledger.Event;
import coop.scheduler.ledger.EventType;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.SortedMap;
import java.util.TreeMap;

/**
 * The votes: proposals opened, ballots cast, and each vote closed when its deadline comes or
 * when every eligible member has cast a ballot, counted with delegations, decided by the
 * {@link Rules} and, when passed, enacted by the {@link Changes}.
 */
final class Proposals {
    private static final long LONGEST_VOTE_S = Duration.ofDays(60).toSeconds();
    /** How the outcome of an entrenched amendment's first vote begins. */
    private static final String FIRST_VOTE = "first vote";

    private final Cooperative coop;
    private final Delegations delegations;
    private final Panels panels;
    private final Changes changes;
    private final TreeMap<Long, Proposal> proposals = new TreeMap<>();
    /** First votes of entrenched amendments that a second vote has already put into effect. */
    private final Set<Long> confirmed = new HashSet<>();
    private long nextId = 1;

    Proposals(Cooperative coop, Delegations delegations, Panels panels, Changes changes) {
        this.coop = coop;
        this.delegations = delegations;
        this.panels = panels;
        this.changes = changes;
    }

    /** The proposals, the entrenched first votes already confirmed and the next id as a canonical map ({@link Image}). */
    SortedMap<String, Object> image() {
        SortedMap<String, Object> o = new TreeMap<>();
        o.put("proposals", Image.list(proposals.values(), Image::proposal));
        o.put("confirmed", List.copyOf(new java.util.TreeSet<>(confirmed)));
        o.put("next_id", nextId);
        return o;
    }

    /** Fills empty proposals from their {@link #image()}. */
    @SuppressWarnings("unchecked")
    void restore(Map<String, Object> o) {
        Image.list(o, "proposals", Image::proposal).forEach(p -> proposals.put(p.id(), p));
        ((List<Object>) o.get("confirmed")).forEach(id -> confirmed.add((Long) id));
        nextId = Fields.number(o, "next_id");
    }

    Proposal get(long id) {
        Proposal p = proposals.get(id);
        if (p == null) {
            throw CoopException.notFound("proposal " + id + " not found");
        }
        return p;
    }

    /** Proposals newest first. */
    List<Proposal> list(boolean openOnly) {
        return proposals.descendingMap().values().stream().filter(p -> !openOnly || p.open()).toList();
    }

    Tally liveTally(Proposal p) {
        return count(p).tally();
    }

    /**
     * The scheduler closes due proposals before it takes any input (see {@link #tick}); an
     * input dated after a deadline that has not been closed means a close was withheld.
     */
    void requireNothingDue(long now) {
        for (Proposal p : proposals.values()) {
            if (p.open() && now >= p.closesAt()) {
                throw CoopException.precondition("proposal " + p.id() + " was due to close at " + p.closesAt()
                        + " before this input; close due proposals first");
            }
        }
    }

    List<Event> propose(Member m, Statement.Propose s, SortedMap<String, Object> body, long now) {
        coop.requireVoter(m, "propose");
        coop.requireNewer(m.name(), "propose", s.signedAt());
        ProposalKind kind = s.kind();
        SortedMap<String, Object> change = s.change();
        changes.validate(kind, change, "");
        String title = s.title().isBlank() ? Descriptions.describe(kind, change) : s.title();
        long closesIn = s.closesInS();
        long notice = coop.policy().constitution().minNotice(kind);
        long period = closesIn == 0 ? Math.max(coop.policy().params().votingPeriodS(), notice) : closesIn;
        if (period < 1 || period > LONGEST_VOTE_S) {
            throw CoopException.invalid("closes_in_seconds", "must be between 1 and " + LONGEST_VOTE_S + ", got "
                    + closesIn);
        }
        if (period < notice) {
            throw CoopException.invalid("closes_in_seconds", "a " + kind.label() + " proposal must stay open at "
                    + "least " + Rules.seconds(notice) + " (the constitution's min_notice." + kind.label()
                    + "), got " + Rules.seconds(period));
        }
        List<String> eligible = coop.voters();
        Proposal p = new Proposal(nextId++, kind, title, m.name(), change, now, now + period * 1000,
                eligible, Map.of(), ProposalState.OPEN, 0, "", 0, null, new TreeMap<>(), "", 0);
        proposals.put(p.id(), p);
        coop.accepted(m.name(), "propose", s.signedAt());
        body.put("id", p.id());
        body.put("closes_at", p.closesAt());
        body.put("eligible", eligible);
        return List.of(Event.of(s.type(), body));
    }

    List<Event> ballot(Member m, Statement.Ballot s, SortedMap<String, Object> body, long now) {
        long id = s.proposal();
        Proposal p = get(id);
        if (!p.open() || now >= p.closesAt()) {
            throw CoopException.precondition("proposal " + id + " is closed; no ballots after close");
        }
        coop.requireVoter(m, "vote");
        if (!p.eligible().contains(m.name())) {
            throw CoopException.denied("member " + m.name() + " was not a member when proposal " + id + " opened");
        }
        coop.requireNewer(m.name(), "ballot/" + id, s.signedAt());
        Ballot b = p.kind() == ProposalKind.SHARE_BUDGET ? budgetBallot(m, s, now) : plainBallot(m, s, now);
        p = p.withBallot(b);
        proposals.put(id, p);
        coop.accepted(m.name(), "ballot/" + id, s.signedAt());
        List<Event> out = new ArrayList<>();
        out.add(Event.of(s.type(), body));
        // A removed member has left the eligible list (see removed), so every name there can still vote.
        // A removal under rules 2 is a hearing: it runs its whole notice, so the member named can answer.
        boolean hearing = p.kind() == ProposalKind.REMOVE && coop.policy().constitution().protective();
        if (!hearing && p.ballots().keySet().containsAll(p.eligible())) {
            out.addAll(close(p, now));
        }
        return out;
    }

    private Ballot budgetBallot(Member m, Statement.Ballot s, long now) {
        if (s.choice().equals("split")) {
            validateSplit(s.split());
            return Ballot.split(m.name(), s.split(), now, s.signedAt());
        }
        if (s.choice().equals("abstain")) {
            return new Ballot(m.name(), Choice.ABSTAIN, new TreeMap<>(), now, s.signedAt());
        }
        throw CoopException.invalid("split", "a share-budget ballot is a split over the accounts "
                + "(--split lab-a=40,lab-b=60) or an abstention");
    }

    private Ballot plainBallot(Member m, Statement.Ballot s, long now) {
        if (s.carriesSplit()) {
            throw CoopException.invalid("split", "only a share-budget proposal takes a split; vote yes, no or "
                    + "abstain");
        }
        Choice c = switch (s.choice()) {
            case "yes" -> Choice.YES;
            case "no" -> Choice.NO;
            case "abstain" -> Choice.ABSTAIN;
            default -> throw CoopException.invalid("choice", "must be yes, no or abstain, got '" + s.choice() + "'");
        };
        return new Ballot(m.name(), c, new TreeMap<>(), now, s.signedAt());
    }

    List<Event> respond(Member m, Statement.Respond s, SortedMap<String, Object> body, long now) {
        Proposal p = get(s.proposal());
        if (p.kind() != ProposalKind.REMOVE) {
            throw CoopException.invalid("proposal", "only a removal can be answered; proposal " + p.id() + " is a "
                    + p.kind().label() + " proposal");
        }
        String named = Fields.string(p.change(), "name");
        if (!named.equals(m.name())) {
            throw CoopException.denied("only " + named + ", whom proposal " + p.id() + " would remove, may answer it");
        }
        if (!p.open() || now >= p.closesAt()) {
            throw CoopException.precondition("proposal " + p.id() + " is closed; no answer after close");
        }
        coop.requireNewer(m.name(), "respond/" + p.id(), s.signedAt());
        proposals.put(p.id(), p.withResponse(s.text(), now));
        coop.accepted(m.name(), "respond/" + p.id(), s.signedAt());
        return List.of(Event.of(s.type(), body));
    }

    /**
     * A member leaves of its own will, at once: as a removal does, its record stays (so its past
     * statements verify), its delegations lapse, and its open votes and panels are settled
     * without it (see {@link #removed}).
     */
    List<Event> resign(Member m, Statement.Resign s, SortedMap<String, Object> body, long now) {
        if (coop.lastVoter(m)) {
            throw CoopException.precondition("member " + m.name() + " is the last member with a vote and cannot "
                    + "resign; admit another member first");
        }
        changes.depart(m.name(), now);
        coop.resigned.add(m.name());
        List<Event> out = new ArrayList<>();
        out.add(Event.of(s.type(), body));
        out.addAll(removed(m.name(), now, "resigned"));
        return out;
    }

    private void validateSplit(Map<String, Integer> split) {
        Set<String> open = coop.openAccounts();
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

    /** Closes every open proposal whose deadline has come, in id order. */
    List<Event> tick(long now) {
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

    /**
     * The close of a proposal, then, when it removes a member, what the removal does to the open
     * votes and review panels (see {@link #removed}).
     */
    private List<Event> close(Proposal p, long now) {
        Counted counted = count(p);
        Tally tally = counted.tally();
        Policy policy = coop.policy();
        List<String> entrenched = p.kind() == ProposalKind.AMEND ? policy.constitution().entrenchedIn(p.change())
                : List.of();
        Rules.Outcome outcome = Rules.decide(p.kind(), tally, policy.constitution(), !entrenched.isEmpty());
        SortedMap<String, Integer> aggregate = new TreeMap<>();
        if (outcome.state() == ProposalState.PASSED && p.kind() == ProposalKind.SHARE_BUDGET) {
            if (counted.splits().isEmpty()) {
                outcome = new Rules.Outcome(ProposalState.REJECTED, "no member submitted a split ("
                        + tally.describe() + ")");
            } else {
                try {
                    // An account closed while the vote was open cannot be aggregated over.
                    aggregate = MovingPhantom.aggregate(coop.openAccounts(), counted.splits());
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
                changes.validate(p.kind(), p.change(), "no longer valid: ");
            } catch (CoopException e) {
                outcome = new Rules.Outcome(ProposalState.REJECTED, "no longer valid at close: " + e.getMessage());
            }
        }
        boolean firstVote = false;
        if (outcome.state() == ProposalState.PASSED && !entrenched.isEmpty()) {
            outcome = entrenched(p, tally, now);
            firstVote = outcome.reason().startsWith(FIRST_VOTE);
        }
        long version = 0;
        SortedMap<String, Object> body = new TreeMap<>();
        if (outcome.state() == ProposalState.PASSED && !firstVote) {
            Policy next = changes.enact(p, aggregate, now);
            if (next != null) {
                version = next.version();
                body.put("policy", next.toMap());
            }
        }
        Proposal closed = p.closed(outcome.state(), now, outcome.reason(), version, tally, aggregate);
        proposals.put(p.id(), closed);
        body.put("proposal", p.id());
        body.put("state", outcome.state().name().toLowerCase(Locale.ROOT));
        body.put("outcome", outcome.reason());
        body.put("tally", tally.toMap());
        if (!aggregate.isEmpty()) {
            body.put("result", new TreeMap<String, Object>(aggregate));
        }
        List<Event> out = new ArrayList<>();
        out.add(Event.of(EventType.CLOSE, body));
        if (closed.kind() == ProposalKind.REMOVE && closed.state() == ProposalState.PASSED) {
            out.addAll(removed(Fields.string(closed.change(), "name"), now, "was removed"));
        }
        return out;
    }

    /**
     * The second half of an entrenched amendment that has {@link Constitution#ENTRENCHED} of the
     * eligible: a floor it lowers needs a majority of that account's own members too; then it
     * takes effect only as the second of two votes on the same change closing at least
     * {@link Constitution#ENTRENCHED_GAP} apart. A first vote passes without taking effect
     * (enacted version 0); its outcome says when the second may close.
     */
    private Rules.Outcome entrenched(Proposal p, Tally tally, long now) {
        Constitution c = coop.policy().constitution();
        if (p.change().get("floors") instanceof Map<?, ?> floors) {
            for (Map.Entry<?, ?> f : new TreeMap<>(floors).entrySet()) {
                String account = String.valueOf(f.getKey());
                if (((Number) f.getValue()).longValue() >= c.floor(account)) {
                    continue;
                }
                List<String> own = p.eligible().stream().filter(e -> coop.members.get(e).belongsTo(account)).toList();
                long yes = own.stream().filter(e -> p.ballots().get(e) != null
                        && p.ballots().get(e).choice() == Choice.YES).count();
                if (yes * 2 <= own.size()) {
                    return new Rules.Outcome(ProposalState.REJECTED, "lowering account " + account + "'s floor needs "
                            + "a majority of its own members: " + yes + " of " + own.size() + " voted yes ("
                            + tally.describe() + ")");
                }
            }
        }
        long gap = Constitution.ENTRENCHED_GAP.toMillis();
        for (Proposal q : proposals.values()) {
            if (q.id() != p.id() && q.kind() == ProposalKind.AMEND && q.state() == ProposalState.PASSED
                    && q.enactedVersion() == 0 && !confirmed.contains(q.id()) && q.change().equals(p.change())
                    && q.closedAt() + gap <= now) {
                confirmed.add(q.id());
                return new Rules.Outcome(ProposalState.PASSED, "passed as the second vote on entrenched rules "
                        + String.join(", ", c.entrenchedIn(p.change())) + " after proposal " + q.id() + " ("
                        + tally.describe() + ")");
            }
        }
        return new Rules.Outcome(ProposalState.PASSED, FIRST_VOTE + " on entrenched rules " + String.join(", ",
                c.entrenchedIn(p.change())) + " carried (" + tally.describe() + "); it takes effect when a second "
                + "vote on the same change passes, closing at " + java.time.Instant.ofEpochMilli(now + gap)
                + " or later");
    }

    /**
     * What a member's removal does beyond its record and its delegations (see {@link Changes#enact}),
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
    private List<Event> removed(String gone, long now, String how) {
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
                String why = "withdrawn: its proposer " + gone + " " + how;
                proposals.put(p.id(), without.closed(ProposalState.WITHDRAWN, now, why, 0, tally, new TreeMap<>()));
                body.put("state", "withdrawn");
                body.put("outcome", why);
                body.put("tally", tally.toMap());
                out.add(Event.of(EventType.WITHDRAW, body));
            } else {
                Ballot struck = p.ballots().get(gone);
                proposals.put(p.id(), without);
                body.put("member", gone);
                body.put("ballot", struck == null ? "none" : !struck.split().isEmpty() ? "split"
                        : struck.choice().name().toLowerCase(Locale.ROOT));
                body.put("eligible", (long) without.eligible().size());
                out.add(Event.of(EventType.INELIGIBLE, body));
            }
        }
        out.addAll(panels.removed(gone));
        return out;
    }

    private record Counted(Tally tally, List<Map<String, Integer>> splits) {
    }

    /**
     * Counts each eligible member once: by its own ballot, else by the ballot of the first
     * member up its delegation chain (on the proposal's topic) who cast one.
     */
    private Counted count(Proposal p) {
        Constitution c = coop.policy().constitution();
        // On a non-delegable kind only a member's own ballot counts.
        Map<String, String> edges = c.delegable(p.kind()) ? delegations.on(p.kind().topic()) : Map.of();
        int cap = c.delegateCap(p.eligible().size());
        Map<String, Integer> carried = new HashMap<>();
        int capped = 0;
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
            } else if (carried.getOrDefault(b.member(), 0) >= cap) {
                // The delegate already carries as much for others as the constitution lets one member carry.
                capped++;
                continue;
            } else {
                carried.merge(b.member(), 1, Integer::sum);
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
        return new Counted(new Tally(yes, no, abstain, p.eligible().size(), direct, delegated, capped), splits);
    }
}
