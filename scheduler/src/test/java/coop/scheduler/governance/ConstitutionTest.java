package coop.scheduler.governance;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import coop.scheduler.audit.LedgerVerifier;
import coop.scheduler.domain.Choice;
import coop.scheduler.domain.Constitution;
import coop.scheduler.domain.CoopException;
import coop.scheduler.domain.Member;
import coop.scheduler.domain.Params;
import coop.scheduler.domain.Proposal;
import coop.scheduler.domain.ProposalKind;
import coop.scheduler.domain.ProposalState;
import coop.scheduler.domain.Topic;
import coop.scheduler.ledger.Canonical;
import coop.scheduler.ledger.Entry;
import coop.scheduler.ledger.Event;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SortedMap;
import java.util.TreeMap;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Rules 2 of the constitution, acted out as the capture attempts they guard against: a quick
 * amendment before the others see it, one member carrying four delegations, a three-quarter
 * majority taking an account's floor away, a removal without a hearing. Nine members: five in
 * lab-a, four in lab-b, which has a founding floor of 20 %.
 */
class ConstitutionTest {
    static final long DAY = Duration.ofDays(1).toMillis();
    static final List<String> LAB_A = List.of("alice", "bob", "carol", "dave", "erin");
    static final List<String> LAB_B = List.of("frank", "grace", "heidi", "ivan");
    final TestMembers keys = new TestMembers();
    final List<Entry> ledger = new ArrayList<>();
    Governance gov;
    long now = 1_700_000_000_000L;

    /** Whatever a test did, a checkpoint taken at any entry of its ledger resumes to the same state. */
    @AfterEach
    void checkpointsResumeToTheSameState() {
        coop.scheduler.audit.CheckpointProperty.holds(ledger.stream().map(Entry::bytes).toList());
    }

    @BeforeEach
    void found() {
        List<Member> founders = new ArrayList<>();
        LAB_A.forEach(n -> founders.add(keys.member(n, List.of("lab-a"))));
        LAB_B.forEach(n -> founders.add(keys.member(n, List.of("lab-b"))));
        Constitution founding = Constitution.FOUNDING.with(Map.of("floors", Map.of("lab-b", 2000L)), null);
        SortedMap<String, Object> genesis = Governance.genesis(founders, List.of("lab-a", "lab-b"), Params.DEFAULTS,
                founding);
        gov = Governance.found(genesis, now);
        record(List.of(Event.of(coop.scheduler.ledger.EventType.GENESIS, genesis)));
    }

    List<Event> record(List<Event> events) {
        return TestLedger.append(ledger, now, events);
    }

    List<Event> submit(TestMembers.Signed s) {
        now += 1;
        return record(gov.submit(s.statement(), s.signature(), now, true));
    }

    long propose(String who, ProposalKind kind, long closesInS, Map<String, Object> change) {
        return (Long) submit(keys.propose(who, now + 1, kind, closesInS, change)).get(0).body().get("id");
    }

    void votes(long id, List<String> who, Choice c) {
        who.forEach(w -> submit(keys.vote(w, now + 1, id, c)));
    }

    void pass(Duration d) {
        now += d.toMillis();
        record(gov.tick(now));
    }

    static List<String> concat(List<String> a, List<String> b) {
        List<String> out = new ArrayList<>(a);
        out.addAll(b);
        return out;
    }

    LedgerVerifier.Report verify() {
        return LedgerVerifier.verify(ledger.stream().map(Entry::bytes).toList());
    }

    @Test
    void aOneSecondAmendmentIsRefusedAndFiveOfNineCannotAmendEvenWithEveryOneOfThemVoting() {
        Map<String, Object> change = Map.of("constitutional", "2/3");
        assertThatThrownBy(() -> propose("alice", ProposalKind.AMEND, 1, change))
                .isInstanceOf(CoopException.class)
                .hasMessageContaining("closes_in_seconds").hasMessageContaining("min_notice.amend")
                .hasMessageContaining("14d");
        long id = propose("alice", ProposalKind.AMEND, 0, change);
        Proposal opened = gov.proposal(id);
        assertThat(opened.closesAt() - opened.openedAt()).isEqualTo(Duration.ofDays(14).toMillis());
        votes(id, LAB_A, Choice.YES);
        pass(Duration.ofDays(14));
        Proposal closed = gov.proposal(id);
        // 5 yes of 5 cast would have passed under the first rules (3/4 of the ballots cast).
        assertThat(closed.state()).isEqualTo(ProposalState.REJECTED);
        assertThat(closed.outcome()).contains("3/4 of all eligible members voting yes").contains("yes 5, no 0");
        assertThat(gov.policy().constitution().constitutional().toString()).isEqualTo("3/4");
        assertThat(verify().problem()).isNull();
    }

    @Test
    void noticeDefaultsToTheKindsFloorAndEveryKindHasOne() {
        long shares = propose("alice", ProposalKind.SHARES, 0, Map.of("shares", Map.of("lab-a", 6000L, "lab-b", 4000L)));
        assertThat(gov.proposal(shares).closesAt() - gov.proposal(shares).openedAt()).isEqualTo(2 * DAY);
        assertThatThrownBy(() -> propose("alice", ProposalKind.PARAM, Duration.ofHours(71).toSeconds(),
                Map.of("params", Map.of("panel_size", 5L))))
                .hasMessageContaining("min_notice.param").hasMessageContaining("3d");
        assertThatThrownBy(() -> propose("alice", ProposalKind.REMOVE, Duration.ofDays(6).toSeconds(),
                Map.of("name", "ivan"))).hasMessageContaining("min_notice.remove").hasMessageContaining("7d");
    }

    @Test
    void fourDelegationsCarryNothingOnAnAmendmentAndOnlyTheCapOnAParameter() {
        for (String d : List.of("bob", "carol", "dave", "erin")) {
            submit(keys.delegate(d, now + 1, Topic.PARAMS, "alice"));
        }
        long amend = propose("alice", ProposalKind.AMEND, 0, Map.of("quorum", "1/3"));
        submit(keys.vote("alice", now + 1, amend, Choice.YES));
        long param = propose("alice", ProposalKind.PARAM, 0, Map.of("params", Map.of("panel_size", 5L)));
        submit(keys.vote("alice", now + 1, param, Choice.YES));
        // The live tally already shows what the cap takes: 10 % of 9 eligible, rounded up, is 1.
        assertThat(gov.withLiveTally(gov.proposal(param)).tally().capped()).isEqualTo(3);
        pass(Duration.ofDays(14));
        Proposal a = gov.proposal(amend);
        assertThat(a.state()).isEqualTo(ProposalState.REJECTED);
        assertThat(a.tally().delegated()).isZero();
        assertThat(a.tally().yes()).isEqualTo(1);
        Proposal p = gov.proposal(param);
        assertThat(p.tally().delegated()).isEqualTo(1);
        assertThat(p.tally().capped()).isEqualTo(3);
        assertThat(p.outcome()).startsWith("no quorum").contains("3 delegated over the cap not counted");
        assertThat(verify().problem()).isNull();
    }

    @Test
    void aDelegationOnATopicWhoseKindsAreAllNonDelegableIsRefusedNamingTheRule() {
        Constitution c = Constitution.FOUNDING.with(Map.of("non_delegable", List.of("admit", "remove", "amend")), null);
        gov = Governance.found(Governance.genesis(List.of(keys.member("alice", List.of("lab")),
                keys.member("bob", List.of("lab"))), List.of("lab"), Params.DEFAULTS, c), now);
        assertThatThrownBy(() -> gov.submit(keys.delegate("alice", now, Topic.MEMBERSHIP, "bob").statement(),
                keys.delegate("alice", now, Topic.MEMBERSHIP, "bob").signature(), now, false))
                .hasMessageContaining("topic").hasMessageContaining("non-delegable").hasMessageContaining("admit, remove");
    }

    @Test
    void aThreeQuarterMajorityCannotRemoveAFloorAndTheEntrenchedProcedureNeedsTwoVotesAndTheAccountsOwnMembers() {
        Map<String, Object> drop = Map.of("floors", Map.of("lab-b", 0L));
        // Seven of nine (over 3/4) vote to drop lab-b's floor: an entrenched rule needs 9/10 of the eligible.
        long first = propose("alice", ProposalKind.AMEND, 0, drop);
        votes(first, concat(LAB_A, List.of("frank", "grace")), Choice.YES);
        pass(Duration.ofDays(14));
        assertThat(gov.proposal(first).state()).isEqualTo(ProposalState.REJECTED);
        assertThat(gov.proposal(first).outcome()).contains("entrenched amendment needs at least 9/10");
        assertThat(gov.policy().constitution().floor("lab-b")).isEqualTo(2000);

        // All nine for it: the first of the two votes carries, and changes nothing yet.
        long second = propose("alice", ProposalKind.AMEND, 0, drop);
        votes(second, concat(LAB_A, List.of("frank", "grace")), Choice.YES);
        votes(second, List.of("heidi", "ivan"), Choice.YES);
        Proposal p2 = gov.proposal(second);
        assertThat(p2.state()).as(p2.outcome()).isEqualTo(ProposalState.PASSED);
        assertThat(p2.enactedVersion()).as(p2.outcome()).isZero();
        assertThat(p2.outcome()).startsWith("first vote on entrenched rules floors");
        assertThat(gov.policy().constitution().floor("lab-b")).isEqualTo(2000);

        // A second vote closing less than 14 days after the first is only another first vote.
        long early = propose("alice", ProposalKind.AMEND, 0, drop);
        votes(early, concat(LAB_A, LAB_B), Choice.YES);
        // Everyone voted, so it closes at once: moments after the first, not 14 days.
        assertThat(gov.proposal(early).enactedVersion()).isZero();
        assertThat(gov.proposal(early).outcome()).startsWith("first vote");

        pass(Duration.ofDays(15));
        long confirm = propose("alice", ProposalKind.AMEND, 0, drop);
        votes(confirm, concat(LAB_A, LAB_B), Choice.YES);
        Proposal done = gov.proposal(confirm);
        assertThat(done.state()).isEqualTo(ProposalState.PASSED);
        assertThat(done.outcome()).contains("second vote").contains("after proposal " + second);
        assertThat(done.enactedVersion()).isPositive();
        assertThat(gov.policy().constitution().floor("lab-b")).isZero();
        assertThat(verify().problem()).isNull();
    }

    @Test
    void loweringAFloorNeedsAMajorityOfThatAccountsOwnMembersEvenWhenNineTenthsVoteForIt() {
        // Twenty members in lab-a and three in lab-b: 21 of 23 reach 9/10 with a single lab-b vote.
        List<Member> founders = new ArrayList<>();
        List<String> labA = new ArrayList<>();
        for (int i = 1; i <= 20; i++) {
            labA.add("a" + i);
            founders.add(keys.member("a" + i, List.of("lab-a")));
        }
        for (String n : List.of("b1", "b2", "b3")) {
            founders.add(keys.member(n, List.of("lab-b")));
        }
        Constitution founding = Constitution.FOUNDING.with(Map.of("floors", Map.of("lab-b", 2000L)), null);
        ledger.clear();
        SortedMap<String, Object> genesis = Governance.genesis(founders, List.of("lab-a", "lab-b"), Params.DEFAULTS,
                founding);
        gov = Governance.found(genesis, now);
        record(List.of(Event.of(coop.scheduler.ledger.EventType.GENESIS, genesis)));
        Map<String, Object> lower = Map.of("floors", Map.of("lab-b", 1000L));
        long id = propose("a1", ProposalKind.AMEND, 0, lower);
        votes(id, concat(labA, List.of("b1")), Choice.YES);
        votes(id, List.of("b2", "b3"), Choice.NO);
        Proposal p = gov.proposal(id);
        assertThat(p.state()).isEqualTo(ProposalState.REJECTED);
        assertThat(p.outcome()).contains("lowering account lab-b's floor needs a majority of its own members: 1 of 3");
        assertThat(gov.policy().constitution().floor("lab-b")).isEqualTo(2000);

        // Raising a floor takes nothing from the account: its members are not asked apart.
        long raise = propose("a1", ProposalKind.AMEND, 0, Map.of("floors", Map.of("lab-b", 2500L)));
        votes(raise, concat(labA, List.of("b1")), Choice.YES);
        votes(raise, List.of("b2", "b3"), Choice.NO);
        assertThat(gov.proposal(raise).outcome()).startsWith("first vote");
        assertThat(verify().problem()).isNull();
    }

    @Test
    void theQuorumCannotBeAmendedBelowAThird() {
        assertThatThrownBy(() -> propose("alice", ProposalKind.AMEND, 0, Map.of("quorum", "1/4")))
                .hasMessageContaining("amend.quorum").hasMessageContaining("constitutional minimum 1/3");
    }

    @Test
    void aRemovalIsAHearingTheNamedMemberAnswersAndItRunsItsWholeNotice() {
        long id = propose("alice", ProposalKind.REMOVE, 0, Map.of("name", "ivan"));
        var other = keys.signed(Statements.respond("bob", now + 1, id, "not me"));
        assertThatThrownBy(() -> submit(other)).hasMessageContaining("only ivan");
        submit(keys.signed(Statements.respond("ivan", now + 1, id, "I ran only what the panel approved.\n"
                + "See job 12.")));
        assertThat(gov.proposal(id).response()).startsWith("I ran only");
        votes(id, concat(LAB_A, List.of("frank", "grace", "heidi")), Choice.YES);
        submit(keys.vote("ivan", now + 1, id, Choice.NO));
        // Everyone voted, and still the vote stays open to its notice.
        assertThat(gov.proposal(id).open()).isTrue();
        pass(Duration.ofDays(7));
        Proposal closed = gov.proposal(id);
        assertThat(closed.state()).isEqualTo(ProposalState.PASSED);
        assertThat(gov.member("ivan").active()).isFalse();
        assertThat(verify().problem()).isNull();
    }

    @Test
    void aMemberResignsAtOnceItsOpenProposalIsWithdrawnAndItsBallotsAreRefused() {
        long mine = propose("ivan", ProposalKind.SHARES, 0, Map.of("shares", Map.of("lab-a", 4000L, "lab-b", 6000L)));
        long theirs = propose("alice", ProposalKind.SHARES, 0, Map.of("shares", Map.of("lab-a", 6000L, "lab-b", 4000L)));
        submit(keys.vote("ivan", now + 1, theirs, Choice.NO));
        submit(keys.delegate("heidi", now + 1, Topic.SHARES, "ivan"));
        List<Event> events = submit(keys.signed(Statements.resign("ivan", now + 1, "moving on")));
        assertThat(events.get(0).type().label()).isEqualTo("resign");
        assertThat(gov.member("ivan").active()).isFalse();
        assertThat(gov.resigned("ivan")).isTrue();
        assertThat(gov.proposal(mine).state()).isEqualTo(ProposalState.WITHDRAWN);
        assertThat(gov.proposal(mine).outcome()).contains("ivan resigned");
        assertThat(gov.proposal(theirs).eligible()).doesNotContain("ivan");
        assertThat(gov.delegations(Topic.SHARES)).doesNotContainKey("heidi");
        assertThatThrownBy(() -> submit(keys.vote("ivan", now + 1, theirs, Choice.YES)))
                .hasMessageContaining("ivan resigned; its statements are refused");
        assertThat(verify().problem()).isNull();
    }

    @Test
    void theLastMemberWithAVoteCannotResign() {
        gov = Governance.found(Governance.genesis(List.of(keys.member("solo", List.of("lab"))), List.of("lab")), now);
        var s = keys.signed(Statements.resign("solo", now, ""));
        assertThatThrownBy(() -> gov.submit(s.statement(), s.signature(), now, true))
                .hasMessageContaining("last member with a vote");
    }

    @Test
    void aLedgerWhoseCloseHidesTheRulesFailsVerificationAtThatEntry() {
        long id = propose("alice", ProposalKind.AMEND, 0, Map.of("constitutional", "2/3"));
        votes(id, concat(LAB_A, List.of("frank")), Choice.YES);
        pass(Duration.ofDays(14));
        assertThat(gov.proposal(id).state()).isEqualTo(ProposalState.REJECTED);
        // Someone rewrites the close as the first rules would have decided it (7 of 7 cast) and re-chains.
        Entry close = ledger.get(ledger.size() - 1);
        SortedMap<String, Object> forged = new TreeMap<>(close.body());
        forged.put("state", "passed");
        List<Entry> rewritten = new ArrayList<>(ledger.subList(0, ledger.size() - 1));
        rewritten.add(Entry.make(close.seq(), close.at(), close.type(), forged, close.prev()));
        LedgerVerifier.Report r = LedgerVerifier.verify(rewritten.stream().map(Entry::bytes).toList());
        assertThat(r.problem()).isNotNull();
        assertThat(r.badSeq()).isEqualTo(close.seq());
    }

    @Test
    void aCooperativeOnTheFirstRulesMovesToTheSecondByAnAmendment() {
        gov = Governance.found(Governance.genesis(List.of(keys.member("alice", List.of("lab")),
                keys.member("bob", List.of("lab"))), List.of("lab"), Params.DEFAULTS, Constitution.DEFAULTS), now);
        assertThat(gov.policy().constitution().protective()).isFalse();
        var p = keys.propose("alice", now, ProposalKind.AMEND, 60, Map.of("rules", 2L));
        long id = (Long) gov.submit(p.statement(), p.signature(), now, true).get(0).body().get("id");
        for (String v : List.of("alice", "bob")) {
            var b = keys.vote(v, now, id, Choice.YES);
            gov.submit(b.statement(), b.signature(), now, true);
        }
        Constitution c = gov.policy().constitution();
        assertThat(c.protective()).isTrue();
        assertThat(c.minNotice(ProposalKind.AMEND)).isEqualTo(Duration.ofDays(14).toSeconds());
        assertThat(c.delegable(ProposalKind.REMOVE)).isFalse();
        assertThat(Canonical.text(c.toMap())).contains("\"rules\":2");
    }
}
