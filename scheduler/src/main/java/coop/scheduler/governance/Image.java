package coop.scheduler.governance;

import coop.scheduler.domain.Account;
import coop.scheduler.domain.Ballot;
import coop.scheduler.domain.Choice;
import coop.scheduler.domain.Constitution;
import coop.scheduler.domain.Member;
import coop.scheduler.domain.Params;
import coop.scheduler.domain.Policy;
import coop.scheduler.domain.Proposal;
import coop.scheduler.domain.ProposalKind;
import coop.scheduler.domain.ProposalState;
import coop.scheduler.domain.Role;
import coop.scheduler.domain.Tally;
import coop.scheduler.governance.Governance.Panel;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SortedMap;
import java.util.TreeMap;

/**
 * The governance's records as canonical maps and back, for a checkpoint of the whole state
 * ({@link Governance#image()}): every field kept, lists in their order (ballots and reviews in
 * the order they were cast, which the rules read), numbers as longs, so that a state read back
 * is equal to the one written and encodes to the same bytes.
 */
final class Image {
    private Image() {
    }

    static SortedMap<String, Object> member(Member m) {
        SortedMap<String, Object> o = new TreeMap<>();
        o.put("name", m.name());
        o.put("accounts", m.accounts());
        List<String> roles = new ArrayList<>();
        m.roles().stream().sorted().forEach(r -> roles.add(r.label()));
        o.put("roles", roles);
        o.put("public_key", m.publicKey());
        o.put("token_sha256", m.tokenSha256());
        o.put("admitted_at", m.admittedAt());
        o.put("removed_at", m.removedAt());
        return o;
    }

    static Member member(Map<String, Object> o) {
        Set<Role> roles = EnumSet.noneOf(Role.class);
        Fields.strings(o, "roles").forEach(r -> roles.add(Role.parse("roles", r)));
        return new Member(Fields.string(o, "name"), Fields.strings(o, "accounts"), roles,
                (String) o.get("public_key"), (String) o.get("token_sha256"), Fields.number(o, "admitted_at"),
                Fields.number(o, "removed_at"));
    }

    static SortedMap<String, Object> account(Account a) {
        SortedMap<String, Object> o = new TreeMap<>();
        o.put("name", a.name());
        o.put("created_at", a.createdAt());
        o.put("closed_at", a.closedAt());
        return o;
    }

    static Account account(Map<String, Object> o) {
        return new Account(Fields.string(o, "name"), Fields.number(o, "created_at"), Fields.number(o, "closed_at"));
    }

    static SortedMap<String, Object> policy(Policy p) {
        return new TreeMap<>(p.toMap());
    }

    static Policy policy(Map<String, Object> o) {
        return new Policy(Fields.number(o, "version"), Fields.intMap(Fields.map(o, "shares")),
                Params.fromMap(Fields.map(o, "params")), Constitution.fromMap(Fields.map(o, "constitution")),
                Fields.number(o, "enacted_at"), Fields.number(o, "proposal"), Fields.number(o, "shares_since"));
    }

    static SortedMap<String, Object> proposal(Proposal p) {
        SortedMap<String, Object> o = new TreeMap<>();
        o.put("id", p.id());
        o.put("kind", p.kind().label());
        o.put("title", p.title());
        o.put("proposer", p.proposer());
        o.put("change", p.change());
        o.put("opened_at", p.openedAt());
        o.put("closes_at", p.closesAt());
        o.put("eligible", p.eligible());
        List<Object> ballots = new ArrayList<>();
        p.ballots().values().forEach(b -> ballots.add(ballot(b)));
        o.put("ballots", ballots);
        o.put("state", p.state().name());
        o.put("closed_at", p.closedAt());
        o.put("outcome", p.outcome());
        o.put("enacted_version", p.enactedVersion());
        o.put("tally", p.tally() == null ? null : tally(p.tally()));
        o.put("result", p.result());
        o.put("response", p.response());
        o.put("responded_at", p.respondedAt());
        return o;
    }

    @SuppressWarnings("unchecked")
    static Proposal proposal(Map<String, Object> o) {
        Map<String, Ballot> ballots = new LinkedHashMap<>();
        for (Object b : (List<Object>) o.get("ballots")) {
            Ballot ballot = ballot((Map<String, Object>) b);
            ballots.put(ballot.member(), ballot);
        }
        Map<String, Object> tally = (Map<String, Object>) o.get("tally");
        return new Proposal(Fields.number(o, "id"), ProposalKind.parse("kind", Fields.string(o, "kind")),
                Fields.string(o, "title"), Fields.string(o, "proposer"), Fields.map(o, "change"),
                Fields.number(o, "opened_at"), Fields.number(o, "closes_at"), Fields.strings(o, "eligible"), ballots,
                ProposalState.valueOf(Fields.string(o, "state")), Fields.number(o, "closed_at"),
                Fields.string(o, "outcome"), Fields.number(o, "enacted_version"),
                tally == null ? null : tally(tally), Fields.intMap(Fields.map(o, "result")),
                Fields.string(o, "response"), Fields.number(o, "responded_at"));
    }

    private static SortedMap<String, Object> ballot(Ballot b) {
        SortedMap<String, Object> o = new TreeMap<>();
        o.put("member", b.member());
        o.put("choice", b.choice().name());
        o.put("split", b.split());
        o.put("cast_at", b.castAt());
        o.put("signed_at", b.signedAt());
        return o;
    }

    private static Ballot ballot(Map<String, Object> o) {
        return new Ballot(Fields.string(o, "member"), Choice.valueOf(Fields.string(o, "choice")),
                Fields.intMap(Fields.map(o, "split")), Fields.number(o, "cast_at"), Fields.number(o, "signed_at"));
    }

    private static SortedMap<String, Object> tally(Tally t) {
        SortedMap<String, Object> o = new TreeMap<>(t.toMap());
        o.put("capped", (long) t.capped());
        return o;
    }

    private static Tally tally(Map<String, Object> o) {
        return new Tally((int) Fields.number(o, "yes"), (int) Fields.number(o, "no"),
                (int) Fields.number(o, "abstain"), (int) Fields.number(o, "eligible"),
                (int) Fields.number(o, "direct"), (int) Fields.number(o, "delegated"),
                (int) Fields.number(o, "capped"));
    }

    static SortedMap<String, Object> panel(Panel p) {
        SortedMap<String, Object> o = new TreeMap<>();
        o.put("job", p.job());
        o.put("submitter", p.submitter());
        o.put("drawn", p.drawn());
        List<Object> approvals = new ArrayList<>();
        p.approvals().forEach((m, yes) -> approvals.add(List.of(m, yes)));
        o.put("approvals", approvals);
        List<Object> reasons = new ArrayList<>();
        p.reasons().forEach((m, why) -> reasons.add(List.of(m, why)));
        o.put("reasons", reasons);
        o.put("verdict", p.verdict());
        return o;
    }

    @SuppressWarnings("unchecked")
    static Panel panel(Map<String, Object> o) {
        Map<String, Boolean> approvals = new LinkedHashMap<>();
        for (Object a : (List<Object>) o.get("approvals")) {
            List<Object> pair = (List<Object>) a;
            approvals.put((String) pair.get(0), (Boolean) pair.get(1));
        }
        Map<String, String> reasons = new LinkedHashMap<>();
        for (Object a : (List<Object>) o.get("reasons")) {
            List<Object> pair = (List<Object>) a;
            reasons.put((String) pair.get(0), (String) pair.get(1));
        }
        return new Panel(Fields.number(o, "job"), Fields.string(o, "submitter"), Fields.strings(o, "drawn"),
                approvals, reasons, Fields.string(o, "verdict"));
    }

    static SortedMap<String, Object> beacon(Beacon b) {
        if (b == null) {
            return null;
        }
        SortedMap<String, Object> o = new TreeMap<>();
        o.put("anchor", b.anchor());
        o.put("length", b.length());
        o.put("used", b.used());
        o.put("last", b.last());
        return o;
    }

    static Beacon beacon(Map<String, Object> o) {
        return o == null ? null : new Beacon(Fields.string(o, "anchor"), Fields.number(o, "length"),
                Fields.number(o, "used"), Fields.string(o, "last"));
    }

    /** A list of records, each written by {@code each}. */
    static <T> List<Object> list(Iterable<T> items, java.util.function.Function<T, Object> each) {
        List<Object> out = new ArrayList<>();
        items.forEach(i -> out.add(each.apply(i)));
        return out;
    }

    /** The records of a list field, each read by {@code each}. */
    @SuppressWarnings("unchecked")
    static <T> List<T> list(Map<String, Object> o, String field, java.util.function.Function<Map<String, Object>, T> each) {
        List<T> out = new ArrayList<>();
        for (Object item : (List<Object>) o.get(field)) {
            out.add(each.apply((Map<String, Object>) item));
        }
        return out;
    }
}
