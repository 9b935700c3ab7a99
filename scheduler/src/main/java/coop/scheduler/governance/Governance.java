package coop.scheduler.governance;

import coop.scheduler.domain.Account;
import coop.scheduler.domain.Constitution;
import coop.scheduler.domain.CoopException;
import coop.scheduler.domain.Member;
import coop.scheduler.domain.Params;
import coop.scheduler.domain.Policy;
import coop.scheduler.domain.Proposal;
import coop.scheduler.domain.ProposalKind;
import coop.scheduler.domain.Topic;
import coop.scheduler.ledger.Canonical;
import coop.scheduler.ledger.Entry;
import coop.scheduler.ledger.Event;
import coop.scheduler.ledger.EventType;
import coop.scheduler.ledger.Keys;
import java.time.Duration;
import java.util.Collection;
import java.util.Collections;
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
 * A signed statement is read once, at {@link #submit}, into a {@link Statement}; the
 * {@link Proposals}, {@link Delegations} and {@link Panels} apply it to the {@link Cooperative}.
 */
public final class Governance {
    /** How far a statement's {@code signed_at} may be from the scheduler's clock. */
    static final Duration SIGNING_SKEW = Duration.ofMinutes(10);

    private final Cooperative coop = new Cooperative();
    private final Delegations delegations = new Delegations(coop);
    private final Panels panels = new Panels(coop);
    private final Proposals proposals = new Proposals(coop, delegations, panels, new Changes(coop, delegations));

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
    }

    // ------------------------------------------------------------------ founding

    /** The body of the genesis entry: founders, accounts and the founding policy (equal shares). */
    public static SortedMap<String, Object> genesis(List<Member> founders, List<String> accountNames) {
        return genesis(founders, accountNames, Params.DEFAULTS);
    }

    /** The body of the genesis entry, with founding parameters other than the defaults. */
    public static SortedMap<String, Object> genesis(List<Member> founders, List<String> accountNames, Params params) {
        return genesis(founders, accountNames, params, Constitution.FOUNDING);
    }

    /**
     * The body of the genesis entry, with founding parameters and constitution of its own
     * ({@link Constitution#DEFAULTS} founds under the first rules, as ledgers written before rules 2 were).
     */
    public static SortedMap<String, Object> genesis(List<Member> founders, List<String> accountNames, Params params,
                                                    Constitution constitution) {
        return Genesis.body(founders, accountNames, params, constitution);
    }

    /** A governance founded by a genesis entry's body at {@code at}. */
    public static Governance found(Map<String, Object> body, long at) {
        Governance g = new Governance();
        Genesis.found(body, at, g.coop);
        return g;
    }

    /**
     * The whole state as a canonical map: members, accounts, every policy, resignations, the
     * latest signed_at per member and target, proposals with their ballots, delegations, panels
     * and the beacon. {@link #restore} reads it back into a governance that takes the next
     * ledger entry exactly as this one would; a scheduler checkpoints it so that start-up
     * replays only the entries after it.
     */
    public SortedMap<String, Object> image() {
        SortedMap<String, Object> o = new TreeMap<>();
        o.put("cooperative", coop.image());
        o.put("proposals", proposals.image());
        o.put("delegations", delegations.image());
        o.put("panels", panels.image());
        return o;
    }

    /**
     * The governance an {@link #image()} describes.
     *
     * @throws IllegalArgumentException or ClassCastException when the map is not such an image
     */
    public static Governance restore(Map<String, Object> image) {
        Governance g = new Governance();
        g.coop.restore(Fields.map(image, "cooperative"));
        g.proposals.restore(Fields.map(image, "proposals"));
        g.delegations.restore(Fields.map(image, "delegations"));
        g.panels.restore(Fields.map(image, "panels"));
        if (g.coop.policies.isEmpty()) {
            throw new IllegalArgumentException("a governance image holds at least the founding policy");
        }
        return g;
    }

    // ------------------------------------------------------------------ reading

    public Member member(String name) {
        return coop.members.get(name);
    }

    public List<Member> members() {
        return List.copyOf(coop.members.values());
    }

    public Map<String, Account> accounts() {
        return Collections.unmodifiableMap(coop.accounts);
    }

    public Set<String> openAccounts() {
        return coop.openAccounts();
    }

    public Policy policy() {
        return coop.policy();
    }

    public List<Policy> policies() {
        return List.copyOf(coop.policies);
    }

    public Proposal proposal(long id) {
        return proposals.get(id);
    }

    /** Proposals newest first. */
    public List<Proposal> proposals(boolean openOnly) {
        return proposals.list(openOnly);
    }

    /**
     * The proposal as members should see it: while open, with the tally it would have if it
     * closed now (delegations included); once closed, with the tally it closed with.
     */
    public Proposal withLiveTally(Proposal p) {
        return p.open() ? p.closed(p.state(), 0, "", 0, proposals.liveTally(p), p.result()) : p;
    }

    /** Whether a member left of its own will (as against being removed by a vote). */
    public boolean resigned(String member) {
        return coop.resigned.contains(member);
    }

    /** Whom each member has delegated to on a topic. */
    public Map<String, String> delegations(Topic topic) {
        return Collections.unmodifiableMap(delegations.on(topic));
    }

    public Panel panel(long job) {
        return panels.get(job);
    }

    /** Members who may vote: active, with the member role. */
    public List<String> voters() {
        return coop.voters();
    }

    /** Whether a job of this size and declared purpose needs a review panel under the live policy. */
    public boolean needsReview(int gpus, String purpose) {
        Params p = policy().params();
        return (p.panelMinGpus() > 0 && gpus >= p.panelMinGpus())
                || (purpose != null && !purpose.isEmpty() && p.panelPurposes().contains(purpose));
    }

    /**
     * Whether a job needs a review panel when its submitter already holds {@code heldGpus} GPUs
     * for the same declared purpose: in its running and waiting jobs and those that ended within
     * the policy's {@code panel_window_s}. The size rule counts them with the job's own, so work
     * split into jobs each under {@code panel_min_gpus} is reviewed once the sum reaches it.
     */
    public boolean needsReview(int gpus, String purpose, long heldGpus) {
        return needsReview((int) Math.min(Integer.MAX_VALUE, gpus + heldGpus), purpose);
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
        Statement s = Statement.parse(statement);
        String name = s.member();
        Member m = coop.members.get(name);
        if (m == null) {
            throw CoopException.denied("'" + name + "' is not a member of the cooperative");
        }
        if (!m.active()) {
            throw CoopException.denied("member " + name + (coop.resigned.contains(name) ? " resigned" : " was removed")
                    + "; its statements are refused");
        }
        if (checkSignature && !Keys.verify(m.publicKey(), Canonical.encode(statement), signature)) {
            throw new CoopException(CoopException.Kind.UNAUTHENTICATED, "signature: the " + s.type()
                    + " is not signed by " + name + "'s key (check the identity file)");
        }
        if (Math.abs(s.signedAt() - now) > SIGNING_SKEW.toMillis()) {
            throw CoopException.invalid("signed_at", "must be within " + SIGNING_SKEW.toMinutes()
                    + " minutes of the scheduler's clock; check this machine's clock");
        }
        proposals.requireNothingDue(now);
        SortedMap<String, Object> signed = new TreeMap<>();
        signed.put("statement", statement);
        signed.put("signature", signature == null ? "" : signature);
        if (s instanceof Statement.Propose p) {
            return proposals.propose(m, p, signed, now);
        }
        if (s instanceof Statement.Ballot b) {
            return proposals.ballot(m, b, signed, now);
        }
        if (s instanceof Statement.Delegate d) {
            return delegations.delegate(m, d, signed, policy().constitution());
        }
        if (s instanceof Statement.Respond r) {
            return proposals.respond(m, r, signed, now);
        }
        if (s instanceof Statement.Resign r) {
            return proposals.resign(m, r, signed, now);
        }
        if (s instanceof Statement.Report r) {
            return panels.report(m, r, signed);
        }
        return panels.review(m, (Statement.Review) s, signed);
    }

    /** Closes every open proposal whose deadline has come, in id order. */
    public List<Event> tick(long now) {
        return proposals.tick(now);
    }

    /**
     * Draws the review panel of a job that needs one as ledgers from before the beacon record it:
     * by lot from the members with a vote other than its submitter, seeded by the ledger head at
     * its submission. Only replay reads such entries; the scheduler draws with a reveal.
     *
     * @throws CoopException FAILED_PRECONDITION when no other member could review it
     */
    public List<Event> openPanel(long job, String submitter, int gpus, String purpose, String seedHex, long now) {
        proposals.requireNothingDue(now);
        return panels.open(job, submitter, gpus, purpose, seedHex);
    }

    /**
     * Draws the review panel of a job that needs one, by lot from the members with a vote other
     * than its submitter, the members of its account and {@code excluded} (the operators of the
     * nodes that could run it), seeded by the beacon's next reveal and {@code head}, the ledger
     * head the panel entry will follow.
     *
     * @throws CoopException FAILED_PRECONDITION when nobody could review it, or the reveal is not
     *         the beacon's next
     */
    public List<Event> openPanel(long job, String submitter, String account, int gpus, String purpose, String head,
                                 String reveal, Collection<String> excluded, long now) {
        proposals.requireNothingDue(now);
        return panels.open(job, submitter, account, gpus, purpose, head, reveal, excluded, "");
    }

    /**
     * Draws the panel a member's report opened on a job (see {@link #submit}): as
     * {@link #openPanel(long, String, String, int, String, String, String, Collection, long)}, with the
     * reporter named and left off the panel.
     */
    public List<Event> openReportedPanel(long job, String submitter, String account, int gpus, String purpose,
                                         String head, String reveal, Collection<String> excluded, String reportedBy,
                                         long now) {
        proposals.requireNothingDue(now);
        java.util.Set<String> out = new java.util.TreeSet<>(excluded);
        out.add(reportedBy);
        return panels.open(job, submitter, account, gpus, purpose, head, reveal, out, reportedBy);
    }

    /**
     * Who could sit on the panel of a job of {@code submitter}'s in {@code account}, leaving out
     * {@code excluded}: what the scheduler checks before it records a report.
     *
     * @throws CoopException FAILED_PRECONDITION when nobody could
     */
    public List<String> panelPool(String submitter, String account, Collection<String> excluded) {
        return panels.pool(submitter, account, excluded);
    }

    /** The scheduler's beacon chain as the ledger has it so far, or null before its first beacon. */
    public Beacon beacon() {
        return panels.beacon();
    }

    /**
     * The scheduler commits to a new chain of reveals ({@link Beacon}); refused while the last
     * one has reveals left.
     */
    public List<Event> beacon(String anchor, long length) {
        return panels.beacon(anchor, length);
    }

    /** Ends a panel whose job was cancelled before a verdict. */
    public void dropPanel(long job) {
        panels.drop(job);
    }

    // ------------------------------------------------------------------ replay

    /**
     * Re-applies a recorded entry as the scheduler applied it, and returns the events it
     * yields; they must equal the entry and the entries that follow it. Entries that another
     * entry yields (a close after the last ballot, a verdict after a review, a withdrawal after a
     * removal) yield nothing when met on their own: the verifier has already compared them.
     */
    public List<Event> replay(Entry e, boolean checkSignatures) {
        SortedMap<String, Object> b = e.body();
        return switch (EventType.of(e.type()).orElse(EventType.GENESIS)) {
            case PROPOSE, BALLOT, DELEGATE, REVIEW, RESIGN, RESPOND, REPORT -> submit(Fields.map(b, "statement"),
                    Fields.string(b, "signature"),
                    e.at(), checkSignatures);
            case CLOSE -> tick(e.at());
            // Only a removal yields these, after its close; met on their own, nothing is due.
            case WITHDRAW, INELIGIBLE -> List.of();
            // A panel with a reveal was seeded by the beacon and the head it follows; one without, by that head alone.
            case PANEL -> b.containsKey("reported_by")
                    ? openReportedPanel(Fields.number(b, "job"), Fields.string(b, "member"), Fields.string(b, "account"),
                            (int) Fields.number(b, "gpus"), Fields.string(b, "purpose"), e.prev(),
                            Fields.string(b, "reveal"), Fields.strings(b, "excluded"), Fields.string(b, "reported_by"),
                            e.at())
                    : b.containsKey("reveal")
                    ? openPanel(Fields.number(b, "job"), Fields.string(b, "member"), Fields.string(b, "account"),
                            (int) Fields.number(b, "gpus"), Fields.string(b, "purpose"), e.prev(),
                            Fields.string(b, "reveal"), Fields.strings(b, "excluded"), e.at())
                    : openPanel(Fields.number(b, "job"), Fields.string(b, "member"), (int) Fields.number(b, "gpus"),
                            Fields.string(b, "purpose"), Fields.string(b, "seed"), e.at());
            case BEACON -> beacon(Fields.string(b, "anchor"), Fields.number(b, "length"));
            case ATTEMPT -> List.of(Event.of(EventType.ATTEMPT, b));
            // The scheduler's own decisions and their witnesses change no governance; the verifier checks their form.
            case SUBMIT, CANCEL, NODE_ENROL, NODE_DRAIN, NODE_TERMS, NODE_REMOVE, PREEMPT, CERTIFICATE, SCHEDULER_KEY,
                    WITNESS -> List.of(Event.of(EventType.of(e.type()).orElseThrow(), b));
            // The scheduler's record of a cycle changes no governance state; coop audit replay re-runs it.
            case CYCLE -> List.of(Event.of(EventType.CYCLE, b));
            case CANCEL_REVIEW -> {
                Panel panel = panels.get(Fields.number(b, "job"));
                if (panel == null || !panel.verdict().isEmpty()) {
                    throw new IllegalArgumentException("job " + b.get("job") + " has no panel awaiting a verdict");
                }
                dropPanel(Fields.number(b, "job"));
                yield List.of(Event.of(EventType.CANCEL_REVIEW, b));
            }
            // A genesis is only ever first (the verifier founds from it), a verdict only follows a
            // review or a removal; met here, like a label that names no entry type, they are unknown.
            case GENESIS, VERDICT -> throw new IllegalArgumentException("unknown entry type '" + e.type() + "'");
        };
    }

    // ------------------------------------------------------------------ text

    /** A one-line description of a change, the default title of a proposal. */
    public static String describe(ProposalKind kind, Map<String, Object> change) {
        return Descriptions.describe(kind, change);
    }

    public static String describeShares(Map<String, Integer> shares) {
        return Descriptions.shares(shares);
    }
}
