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
import coop.scheduler.domain.Role;
import coop.scheduler.domain.Tally;
import coop.scheduler.domain.Topic;
import coop.scheduler.ledger.Entry;
import coop.scheduler.ledger.Event;
import coop.scheduler.ledger.EventType;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.SortedMap;
import java.util.TreeMap;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The governance state machine on its own, each input recorded in a ledger that must verify afterwards. */
class GovernanceTest {
    static final long HOUR = 3_600_000;
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
        for (String n : List.of("alice", "bob", "carol", "dave", "erin")) {
            founders.add(keys.member(n, List.of("lab-a")));
        }
        SortedMap<String, Object> genesis = Governance.genesis(founders, List.of("lab-a", "lab-b", "uni-c"), Params.DEFAULTS,
                Constitution.DEFAULTS);
        gov = Governance.found(genesis, now);
        record(List.of(Event.of(EventType.GENESIS, genesis)));
    }

    List<Event> record(List<Event> events) {
        return TestLedger.append(ledger, now, events);
    }

    List<Event> submit(TestMembers.Signed s) {
        return record(gov.submit(s.statement(), s.signature(), now, true));
    }

    long propose(String who, ProposalKind kind, Map<String, Object> change) {
        List<Event> e = submit(keys.propose(who, now, kind, 3600, change));
        return (Long) e.get(0).body().get("id");
    }

    long shares(long a, long b, long c) {
        return propose("alice", ProposalKind.SHARES, Map.of("shares", Map.of("lab-a", a, "lab-b", b, "uni-c", c)));
    }

    void vote(String who, long id, Choice c) {
        now += 1;
        submit(keys.vote(who, now, id, c));
    }

    void closeAll() {
        now += HOUR;
        record(gov.tick(now));
    }

    void verifies() {
        List<byte[]> raw = ledger.stream().map(Entry::bytes).toList();
        LedgerVerifier.Report r = LedgerVerifier.verify(raw);
        assertThat(r.problem()).isNull();
        assertThat(r.entries()).isEqualTo(ledger.size());
    }

    static CoopException.Kind kind(Throwable t) {
        return ((CoopException) t).kind();
    }

    @Test
    void aPassedSharesProposalBecomesTheNextPolicyAndTheLedgerVerifies() {
        long id = shares(6000, 3000, 1000);
        vote("alice", id, Choice.YES);
        vote("bob", id, Choice.YES);
        vote("carol", id, Choice.NO);
        closeAll();
        Proposal p = gov.proposal(id);
        assertThat(p.state()).isEqualTo(ProposalState.PASSED);
        assertThat(p.enactedVersion()).isEqualTo(2);
        assertThat(gov.policy().shares()).containsEntry("lab-a", 6000).containsEntry("uni-c", 1000);
        verifies();
    }

    @Test
    void aSecondBallotReplacesTheFirstAndIsNeverCountedTwice() {
        long id = shares(6000, 3000, 1000);
        vote("alice", id, Choice.YES);
        vote("alice", id, Choice.YES);
        vote("alice", id, Choice.NO);
        vote("bob", id, Choice.YES);
        vote("carol", id, Choice.ABSTAIN);
        closeAll();
        Tally t = gov.proposal(id).tally();
        assertThat(t.yes()).isEqualTo(1);
        assertThat(t.no()).isEqualTo(1);
        assertThat(t.participated()).isEqualTo(3);
        assertThat(gov.proposal(id).state()).isEqualTo(ProposalState.REJECTED);
        verifies();
    }

    @Test
    void anOldBallotCannotBeReplayedOverANewerOne() {
        long id = shares(6000, 3000, 1000);
        TestMembers.Signed yes = keys.vote("alice", now + 1, id, Choice.YES);
        now += 2;
        submit(keys.vote("alice", now, id, Choice.NO));
        assertThatThrownBy(() -> submit(yes)).satisfies(e -> assertThat(kind(e))
                .isEqualTo(CoopException.Kind.FAILED_PRECONDITION));
        assertThat(gov.proposal(id).ballots().get("alice").choice()).isEqualTo(Choice.NO);
    }

    @Test
    void aNonMemberCannotProposeOrVote() {
        TestMembers outsider = new TestMembers();
        outsider.member("mallory", List.of());
        long id = shares(6000, 3000, 1000);
        assertThatThrownBy(() -> gov.submit(outsider.vote("mallory", now, id, Choice.YES).statement(), "x", now, true))
                .satisfies(e -> assertThat(kind(e)).isEqualTo(CoopException.Kind.PERMISSION_DENIED));
        var p = outsider.shares("mallory", now, 60, Map.of("lab-a", 10000L, "lab-b", 0L, "uni-c", 0L));
        assertThatThrownBy(() -> gov.submit(p.statement(), p.signature(), now, true))
                .satisfies(e -> assertThat(kind(e)).isEqualTo(CoopException.Kind.PERMISSION_DENIED));
    }

    @Test
    void aBallotWithABadSignatureIsRefused() {
        long id = shares(6000, 3000, 1000);
        TestMembers.Signed mine = keys.vote("alice", now + 1, id, Choice.YES);
        // bob signs a statement that claims to be alice's
        SortedMap<String, Object> forged = new TreeMap<>(mine.statement());
        forged.put("member", "bob");
        String bobs = keys.sign(forged);
        assertThatThrownBy(() -> gov.submit(mine.statement(), bobs, now, true))
                .satisfies(e -> assertThat(kind(e)).isEqualTo(CoopException.Kind.UNAUTHENTICATED))
                .hasMessageContaining("not signed by alice");
        SortedMap<String, Object> altered = new TreeMap<>(mine.statement());
        altered.put("choice", "no");
        assertThatThrownBy(() -> gov.submit(altered, mine.signature(), now, true))
                .satisfies(e -> assertThat(kind(e)).isEqualTo(CoopException.Kind.UNAUTHENTICATED));
        assertThat(gov.proposal(id).ballots()).isEmpty();
    }

    @Test
    void noBallotIsAcceptedAfterClose() {
        long id = shares(6000, 3000, 1000);
        now += HOUR;
        assertThatThrownBy(() -> submit(keys.vote("bob", now, id, Choice.YES)))
                .satisfies(e -> assertThat(kind(e)).isEqualTo(CoopException.Kind.FAILED_PRECONDITION));
        record(gov.tick(now));
        assertThat(gov.proposal(id).state()).isEqualTo(ProposalState.REJECTED);
        assertThatThrownBy(() -> submit(keys.vote("bob", now + 1, id, Choice.YES)))
                .hasMessageContaining("no ballots after close");
    }

    @Test
    void sharesThatBreakAFloorOrMissOneHundredAreRefusedNamingTheAccount() {
        long amend = propose("alice", ProposalKind.AMEND, Map.of("floors", Map.of("uni-c", 1500L)));
        for (String m : List.of("alice", "bob", "carol", "dave")) {
            vote(m, amend, Choice.YES);
        }
        closeAll();
        assertThat(gov.policy().constitution().floor("uni-c")).isEqualTo(1500);
        assertThatThrownBy(() -> shares(6000, 3000, 1000))
                .satisfies(e -> assertThat(kind(e)).isEqualTo(CoopException.Kind.INVALID_ARGUMENT))
                .hasMessageContaining("shares[uni-c]");
        assertThatThrownBy(() -> shares(6000, 3000, 2000)).hasMessageContaining("must sum to 100%");
        verifies();
    }

    @Test
    void specialAndConstitutionalThresholdsApplyByKind() {
        long param = propose("alice", ProposalKind.PARAM, Map.of("params", Map.of("max_walltime_s", 86_400L)));
        vote("alice", param, Choice.YES);
        vote("bob", param, Choice.YES);
        vote("carol", param, Choice.YES);
        vote("dave", param, Choice.NO);
        vote("erin", param, Choice.NO);
        assertThat(gov.proposal(param).state()).isEqualTo(ProposalState.REJECTED);
        long param2 = propose("alice", ProposalKind.PARAM, Map.of("params", Map.of("max_walltime_s", 86_400L)));
        for (String m : List.of("alice", "bob", "carol", "dave")) {
            vote(m, param2, Choice.YES);
        }
        vote("erin", param2, Choice.NO);
        assertThat(gov.proposal(param2).state()).isEqualTo(ProposalState.PASSED);
        assertThat(gov.policy().params().maxWalltimeS()).isEqualTo(86_400);
        verifies();
    }

    @Test
    void aShareBudgetEnactsTheMovingPhantomOutcomeNotTheMean() {
        long id = propose("alice", ProposalKind.SHARE_BUDGET, Map.of());
        List<Map<String, Integer>> splits = List.of(
                Map.of("lab-a", 5000, "lab-b", 3000, "uni-c", 2000),
                Map.of("lab-a", 4000, "lab-b", 4000, "uni-c", 2000),
                Map.of("lab-a", 1000, "lab-b", 1000, "uni-c", 8000),
                Map.of("lab-a", 3400, "lab-b", 3300, "uni-c", 3300));
        List<String> who = List.of("alice", "bob", "carol", "dave");
        for (int i = 0; i < 4; i++) {
            now += 1;
            submit(keys.split(who.get(i), now, id, splits.get(i)));
        }
        closeAll();
        assertThat(gov.proposal(id).result()).containsExactlyInAnyOrderEntriesOf(
                Map.of("lab-a", 3400, "lab-b", 3300, "uni-c", 3300));
        assertThat(gov.policy().shares()).containsEntry("lab-a", 3400);
        assertThatThrownBy(() -> submit(keys.vote("erin", now + 1, id, Choice.YES)))
                .satisfies(e -> assertThat(kind(e)).isEqualTo(CoopException.Kind.FAILED_PRECONDITION));
        verifies();
    }

    @Test
    void aSplitMustCoverOneHundredPercentOfOpenAccounts() {
        long id = propose("alice", ProposalKind.SHARE_BUDGET, Map.of());
        assertThatThrownBy(() -> submit(keys.split("bob", now, id, Map.of("lab-a", 5000, "lab-b", 4000))))
                .hasMessage("split: must sum to 100%, got 90%");
        assertThatThrownBy(() -> submit(keys.split("bob", now, id, Map.of("lab-a", 5000, "nope", 5000))))
                .hasMessageStartingWith("split[nope]");
        assertThatThrownBy(() -> submit(keys.vote("bob", now, id, Choice.NO)))
                .hasMessageStartingWith("split:");
    }

    @Test
    void delegatedWeightCountsOnceAndADirectBallotOverridesIt() {
        now += 1;
        submit(keys.delegate("bob", now, Topic.SHARES, "alice"));
        submit(keys.delegate("carol", now, Topic.SHARES, "bob"));
        submit(keys.delegate("dave", now, Topic.PARAMS, "alice"));
        assertThatThrownBy(() -> submit(keys.delegate("alice", now + 1, Topic.SHARES, "carol")))
                .hasMessageContaining("cycle");
        long id = shares(6000, 3000, 1000);
        vote("alice", id, Choice.YES);
        vote("carol", id, Choice.NO);
        closeAll();
        Tally t = gov.proposal(id).tally();
        assertThat(t.yes()).isEqualTo(2);
        assertThat(t.no()).isEqualTo(1);
        assertThat(t.direct()).isEqualTo(2);
        assertThat(t.delegated()).isEqualTo(1);
        assertThat(t.participated()).isLessThanOrEqualTo(t.eligible());
        now += 1;
        submit(keys.delegate("bob", now, Topic.SHARES, ""));
        assertThat(gov.delegations(Topic.SHARES)).doesNotContainKey("bob");
        verifies();
    }

    /** Admits frank (member, researcher on lab-b) by a unanimous vote of the founders. */
    void admitFrank() {
        Map<String, Object> admit = new TreeMap<>();
        admit.put("name", "frank");
        admit.put("accounts", List.of("lab-b"));
        admit.put("roles", List.of("member", "researcher"));
        admit.put("public_key", keys.publicKey("frank"));
        admit.put("token_sha256", Entry.sha256("token-frank"));
        long id = propose("alice", ProposalKind.ADMIT, admit);
        for (String m : List.of("alice", "bob", "carol", "dave", "erin")) {
            vote(m, id, Choice.YES);
        }
        assertThat(gov.proposal(id).state()).isEqualTo(ProposalState.PASSED);
        assertThat(gov.member("frank").has(Role.MEMBER)).isTrue();
    }

    /** Opens a vote on removing frank, proposed by carol; returns its id. */
    long proposeRemovingFrank() {
        now += 1;
        return propose("carol", ProposalKind.REMOVE, Map.of("name", "frank"));
    }

    @Test
    void anAdmittedMemberVotesAndARemovedMembersBallotsAreRefused() {
        admitFrank();
        long next = shares(6000, 3000, 1000);
        vote("frank", next, Choice.YES);
        long remove = propose("alice", ProposalKind.REMOVE, Map.of("name", "frank"));
        for (String m : List.of("alice", "bob", "carol", "dave", "erin", "frank")) {
            vote(m, remove, Choice.YES);
        }
        assertThat(gov.member("frank").active()).isFalse();
        assertThatThrownBy(() -> vote("frank", next, Choice.NO))
                .satisfies(e -> assertThat(kind(e)).isEqualTo(CoopException.Kind.PERMISSION_DENIED));
        verifies();
    }

    @Test
    void aMemberWithoutTheMemberRoleIsRefusedWhileTheConstitutionGivesEveryoneAVote() {
        Map<String, Object> admit = new TreeMap<>();
        admit.put("name", "gina");
        admit.put("accounts", List.of("lab-b"));
        admit.put("roles", List.of("researcher"));
        admit.put("public_key", keys.publicKey("gina"));
        admit.put("token_sha256", Entry.sha256("token-gina"));
        assertThatThrownBy(() -> propose("alice", ProposalKind.ADMIT, admit)).hasMessageStartingWith("roles:");
    }

    @Test
    void accountsAreCreatedAndClosedOnlyOnceTheirShareIsZero() {
        long create = propose("alice", ProposalKind.ACCOUNT, Map.of("action", "create", "name", "lab-d"));
        for (String m : List.of("alice", "bob", "carol")) {
            vote(m, create, Choice.YES);
        }
        closeAll();
        assertThat(gov.openAccounts()).contains("lab-d");
        assertThat(gov.policy().share("lab-d")).isZero();
        long close = propose("alice", ProposalKind.ACCOUNT, Map.of("action", "close", "name", "uni-c"));
        for (String m : List.of("alice", "bob", "carol")) {
            vote(m, close, Choice.YES);
        }
        closeAll();
        assertThat(gov.proposal(close).state()).isEqualTo(ProposalState.REJECTED);
        assertThat(gov.proposal(close).outcome()).contains("still holds");
        verifies();
    }

    @Test
    void aHighRiskJobWaitsForAPanelDrawnByLotFromTheLedgerHead() {
        long param = propose("alice", ProposalKind.PARAM, Map.of("params", Map.of("panel_min_gpus", 32L)));
        for (String m : List.of("alice", "bob", "carol", "dave", "erin")) {
            vote(m, param, Choice.YES);
        }
        assertThat(gov.needsReview(32, "")).isTrue();
        assertThat(gov.needsReview(8, "")).isFalse();
        String seed = ledger.get(ledger.size() - 1).hash();
        record(gov.openPanel(7, "alice", 32, "", seed, now));
        Governance.Panel panel = gov.panel(7);
        assertThat(panel.drawn()).hasSize(3).doesNotContain("alice")
                .isEqualTo(Lottery.draw(java.util.HexFormat.of().parseHex(seed), List.of("bob", "carol", "dave", "erin"), 3));
        String outsider = List.of("bob", "carol", "dave", "erin").stream().filter(m -> !panel.drawn().contains(m))
                .findFirst().orElseThrow();
        assertThatThrownBy(() -> submit(keys.review(outsider, now, 7, true)))
                .satisfies(e -> assertThat(kind(e)).isEqualTo(CoopException.Kind.PERMISSION_DENIED));
        now += 1;
        assertThat(submit(keys.review(panel.drawn().get(0), now, 7, true))).hasSize(1);
        now += 1;
        List<Event> decided = submit(keys.review(panel.drawn().get(1), now, 7, true));
        assertThat(decided).extracting(Event::type).containsExactly(EventType.REVIEW, EventType.VERDICT);
        assertThat(decided.get(1).body()).containsEntry("verdict", "approved");
        verifies();
    }

    @Test
    void aNewMembersIdentityMustHoldAValidKeyAndTokenDigest() {
        Map<String, Object> admit = new TreeMap<>();
        admit.put("name", "hal");
        admit.put("accounts", List.of("lab-b"));
        admit.put("roles", List.of("member"));
        admit.put("public_key", "bm90IGEga2V5");
        admit.put("token_sha256", Entry.sha256("t"));
        assertThatThrownBy(() -> propose("alice", ProposalKind.ADMIT, admit)).hasMessageStartingWith("admit.public_key");
        assertThat(EnumSet.allOf(Role.class)).hasSize(3);
    }

    @Test
    void aShareBudgetNamingAnAccountClosedMeanwhileIsRejectedNotBroken() {
        long zero = shares(5000, 5000, 0);
        for (String m : List.of("alice", "bob", "carol")) {
            vote(m, zero, Choice.YES);
        }
        closeAll();
        long budget = propose("alice", ProposalKind.SHARE_BUDGET, Map.of());
        now += 1;
        submit(keys.split("bob", now, budget, Map.of("lab-a", 5000, "lab-b", 4000, "uni-c", 1000)));
        long close = propose("alice", ProposalKind.ACCOUNT, Map.of("action", "close", "name", "uni-c"));
        for (String m : List.of("alice", "bob", "carol", "dave", "erin")) {
            vote(m, close, Choice.YES);
        }
        assertThat(gov.openAccounts()).doesNotContain("uni-c");
        for (String m : List.of("alice", "carol")) {
            now += 1;
            submit(keys.split(m, now, budget, Map.of("lab-a", 6000, "lab-b", 4000)));
        }
        closeAll();
        assertThat(gov.proposal(budget).state()).isEqualTo(ProposalState.REJECTED);
        assertThat(gov.proposal(budget).outcome()).contains("cannot be enacted").contains("uni-c");
        verifies();
    }

    @Test
    void anInputAfterAnUnclosedDeadlineIsRefusedSoAWithheldCloseIsCaught() {
        long id = shares(6000, 3000, 1000);
        now += HOUR;
        assertThatThrownBy(() -> submit(keys.delegate("bob", now, Topic.PARAMS, "alice")))
                .satisfies(e -> assertThat(kind(e)).isEqualTo(CoopException.Kind.FAILED_PRECONDITION))
                .hasMessageContaining("proposal " + id + " was due to close");
        record(gov.tick(now));
        submit(keys.delegate("bob", now, Topic.PARAMS, "alice"));
        verifies();
    }

    @Test
    void amendmentsCannotWeakenTheStrongerThresholdsBelowTheWeakerOnesOrDropTheQuorum() {
        assertThatThrownBy(() -> propose("alice", ProposalKind.AMEND, Map.of("special", "0/1")))
                .hasMessageStartingWith("amend.special");
        assertThatThrownBy(() -> propose("alice", ProposalKind.AMEND, Map.of("constitutional", "3/5")))
                .hasMessageStartingWith("amend.constitutional");
        assertThatThrownBy(() -> propose("alice", ProposalKind.AMEND, Map.of("quorum", "0%")))
                .hasMessageStartingWith("amend.quorum");
        propose("alice", ProposalKind.AMEND, Map.of("quorum", "40%", "special", "3/5"));
    }

    @Test
    void revokingADelegationThatDoesNotExistIsRefused() {
        assertThatThrownBy(() -> submit(keys.delegate("bob", now, Topic.SHARES, "")))
                .satisfies(e -> assertThat(kind(e)).isEqualTo(CoopException.Kind.FAILED_PRECONDITION));
    }

    @Test
    void removingPanelMembersCanSettleTheirPanel() {
        long param = propose("alice", ProposalKind.PARAM, Map.of("params", Map.of("panel_min_gpus", 8L)));
        for (String m : List.of("alice", "bob", "carol", "dave", "erin")) {
            vote(m, param, Choice.YES);
        }
        record(gov.openPanel(3, "alice", 8, "", ledger.get(ledger.size() - 1).hash(), now));
        List<String> drawn = gov.panel(3).drawn();
        now += 1;
        submit(keys.review(drawn.get(0), now, 3, true));
        List<Event> last = List.of();
        for (String gone : List.of(drawn.get(1), drawn.get(2))) {
            long id = propose("alice", ProposalKind.REMOVE, Map.of("name", gone));
            for (String m : gov.voters()) {
                now += 1;
                last = submit(keys.vote(m, now, id, Choice.YES));
            }
        }
        assertThat(last).extracting(Event::type).containsExactly(EventType.BALLOT, EventType.CLOSE, EventType.VERDICT);
        assertThat(gov.panel(3).verdict()).isEqualTo("approved");
        verifies();
    }
    @Test
    void aRemovedMembersBallotAndPlaceLeaveTheOpenVotesSoTheyCountNeitherInParticipationNorInQuorum() {
        admitFrank();
        now += 1;
        long shares = shares(1000, 8000, 1000);
        vote("frank", shares, Choice.YES);
        vote("alice", shares, Choice.YES);
        vote("bob", shares, Choice.YES);
        // 3 of 6 eligible took part: with frank, the vote would reach the quorum of one half.
        assertThat(gov.withLiveTally(gov.proposal(shares)).tally().participated()).isEqualTo(3);
        long remove = proposeRemovingFrank();
        List<Event> last = List.of();
        for (String m : List.of("alice", "bob", "carol", "dave", "erin", "frank")) {
            now += 1;
            last = submit(keys.vote(m, now, remove, Choice.YES));
        }
        assertThat(gov.member("frank").active()).isFalse();
        assertThat(last).extracting(Event::type)
                .containsExactly(EventType.BALLOT, EventType.CLOSE, EventType.INELIGIBLE);
        assertThat(last.get(2).body()).containsEntry("proposal", shares).containsEntry("member", "frank")
                .containsEntry("ballot", "yes").containsEntry("eligible", 5L);
        Proposal open = gov.withLiveTally(gov.proposal(shares));
        assertThat(open.eligible()).doesNotContain("frank").hasSize(5);
        assertThat(open.ballots()).doesNotContainKey("frank");
        assertThat(open.tally()).isEqualTo(new Tally(2, 0, 0, 5, 2, 0));

        closeAll();
        Proposal closed = gov.proposal(shares);
        assertThat(closed.state()).isEqualTo(ProposalState.REJECTED);
        assertThat(closed.outcome()).startsWith("no quorum: 2 of 5 took part");
        assertThat(closed.tally()).isEqualTo(new Tally(2, 0, 0, 5, 2, 0));
        assertThat(gov.policy().shares()).containsEntry("lab-b", 3333);
        verifies();

        // A close that counts the removed member's ballot, re-linked so that only the rules can catch it.
        int at = ledger.size() - 1;
        Entry real = ledger.get(at);
        SortedMap<String, Object> forged = new TreeMap<>(real.body());
        forged.put("tally", new Tally(3, 0, 0, 6, 3, 0).toMap());
        forged.put("outcome", "no quorum: 2 of 5 took part, 1/2 needed (yes 3, no 0, abstain 0 of 6 eligible)");
        ledger.set(at, Entry.make(real.seq(), real.at(), real.type(), forged, real.prev()));
        LedgerVerifier.Report r = LedgerVerifier.verify(ledger.stream().map(Entry::bytes).toList());
        assertThat(r.problem()).startsWith("entry " + at + " (close) differs from what the rules yield")
                .contains("\"eligible\":5");
    }

    @Test
    void aProposalOfAMemberRemovedMeanwhileIsWithdrawnAndItsDelegationsLapse() {
        admitFrank();
        now += 1;
        submit(keys.delegate("bob", now, Topic.SHARES, "frank"));
        now += 1;
        long own = propose("frank", ProposalKind.SHARES, Map.of("shares", Map.of("lab-a", 1000L, "lab-b", 8000L,
                "uni-c", 1000L)));
        vote("frank", own, Choice.YES);
        vote("dave", own, Choice.YES);
        // bob's delegated weight follows frank's ballot while frank is a member.
        assertThat(gov.withLiveTally(gov.proposal(own)).tally().delegated()).isEqualTo(1);
        long remove = proposeRemovingFrank();
        List<Event> last = List.of();
        for (String m : List.of("alice", "bob", "carol", "dave", "erin", "frank")) {
            now += 1;
            last = submit(keys.vote(m, now, remove, Choice.YES));
        }
        assertThat(last).extracting(Event::type).containsExactly(EventType.BALLOT, EventType.CLOSE, EventType.WITHDRAW);
        Proposal withdrawn = gov.proposal(own);
        assertThat(withdrawn.state()).isEqualTo(ProposalState.WITHDRAWN);
        assertThat(withdrawn.open()).isFalse();
        assertThat(withdrawn.closedAt()).isEqualTo(now);
        assertThat(withdrawn.outcome()).isEqualTo("withdrawn: its proposer frank was removed");
        assertThat(withdrawn.enactedVersion()).isZero();
        // Counted without frank and without bob's delegation to it.
        assertThat(withdrawn.tally()).isEqualTo(new Tally(1, 0, 0, 5, 1, 0));
        assertThat(last.get(2).body()).containsEntry("proposal", own).containsEntry("state", "withdrawn")
                .containsEntry("outcome", "withdrawn: its proposer frank was removed");
        assertThat(gov.delegations(Topic.SHARES)).doesNotContainKey("bob");
        assertThatThrownBy(() -> vote("dave", own, Choice.NO))
                .satisfies(e -> assertThat(kind(e)).isEqualTo(CoopException.Kind.FAILED_PRECONDITION));
        closeAll();
        assertThat(gov.proposal(own).state()).isEqualTo(ProposalState.WITHDRAWN);
        verifies();

        // The withdrawal is what the rules yield: a ledger without it is caught where it belongs.
        int at = ledger.size() - 1;
        while (!ledger.get(at).type().equals("withdraw")) {
            at--;
        }
        ledger.subList(at, ledger.size()).clear();
        LedgerVerifier.Report r = LedgerVerifier.verify(ledger.stream().map(Entry::bytes).toList());
        assertThat(r.problem()).isEqualTo("entry " + at + " is missing: the rules yield a withdraw here");
    }

    @Test
    void aRemovalClosingInTheSameTickAsLaterVotesReachesThemBeforeTheyClose() {
        admitFrank();
        long remove = proposeRemovingFrank();
        now += 1;
        long own = propose("frank", ProposalKind.SHARES, Map.of("shares", Map.of("lab-a", 1000L, "lab-b", 8000L,
                "uni-c", 1000L)));
        long shares = shares(1000, 8000, 1000);
        for (String m : List.of("frank", "alice", "bob")) {
            vote(m, own, Choice.YES);
            vote(m, shares, Choice.YES);
        }
        for (String m : List.of("alice", "bob", "carol", "dave", "erin")) {
            vote(m, remove, Choice.YES);
        }
        // frank never votes on its removal, so all three close together at their deadlines, in id order.
        now += HOUR;
        List<Event> events = record(gov.tick(now));
        assertThat(events).extracting(Event::type)
                .containsExactly(EventType.CLOSE, EventType.WITHDRAW, EventType.INELIGIBLE, EventType.CLOSE);
        assertThat(gov.proposal(remove).state()).isEqualTo(ProposalState.PASSED);
        assertThat(gov.proposal(own).state()).isEqualTo(ProposalState.WITHDRAWN);
        assertThat(gov.proposal(shares).state()).isEqualTo(ProposalState.REJECTED);
        assertThat(gov.proposal(shares).tally()).isEqualTo(new Tally(2, 0, 0, 5, 2, 0));
        verifies();
    }

    @Test
    void aRemovedMembersJobsAwaitingReviewLoseTheirPanels() {
        admitFrank();
        long param = propose("alice", ProposalKind.PARAM, Map.of("params", Map.of("panel_min_gpus", 8L)));
        for (String m : List.of("alice", "bob", "carol", "dave", "erin", "frank")) {
            vote(m, param, Choice.YES);
        }
        record(gov.openPanel(7, "frank", 8, "", ledger.get(ledger.size() - 1).hash(), now));
        long remove = proposeRemovingFrank();
        List<Event> last = List.of();
        for (String m : List.of("alice", "bob", "carol", "dave", "erin", "frank")) {
            now += 1;
            last = submit(keys.vote(m, now, remove, Choice.YES));
        }
        assertThat(last).extracting(Event::type)
                .containsExactly(EventType.BALLOT, EventType.CLOSE, EventType.CANCEL_REVIEW);
        assertThat(last.get(2).body()).containsEntry("job", 7L);
        assertThat(gov.panel(7)).isNull();
        verifies();
    }
}
