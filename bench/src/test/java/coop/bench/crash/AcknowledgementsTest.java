package coop.bench.crash;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The crash loop's checker, fed fabricated observations: it passes a faithful restart and
 * names each broken promise (a lost acknowledgement, a duplicate, a half-applied record, a
 * phantom, a replaced ballot come back, a ledger that does not verify).
 */
class AcknowledgementsTest {
    private Acknowledgements acks;
    private final List<Recovered.Job> jobs = new ArrayList<>();

    @BeforeEach
    void sent() {
        acks = new Acknowledgements();
        acks.proposing("p1");
        acks.proposalAcknowledged("p1", 1);
        submit("a", 1, true);
        submit("b", 2, true);
        acks.submitting("c", "m1", "lab-a", "echo c"); // no reply: in doubt
        jobs.add(job(1, "a"));
        jobs.add(job(2, "b"));
    }

    private void submit(String name, long id, boolean acknowledged) {
        acks.submitting(name, "m1", "lab-a", "echo " + name);
        if (acknowledged) {
            acks.submitAcknowledged(name, id);
        } else {
            acks.submitRefused(name);
        }
    }

    private static Recovered.Job job(long id, String name) {
        return new Recovered.Job(id, name, "m1", "lab-a", "echo " + name);
    }

    private Recovered recovered(Map<String, String> ballots, long ledgerBallots) {
        int yes = (int) ballots.values().stream().filter("yes"::equals).count();
        int no = (int) ballots.values().stream().filter("no"::equals).count();
        int abstain = (int) ballots.values().stream().filter("abstain"::equals).count();
        return new Recovered(jobs, List.of(new Recovered.Proposal(1, "p1", true, ballots, yes, no, abstain)), true, null,
                ledgerBallots);
    }

    private Recovered recovered() {
        return recovered(Map.of(), 0);
    }

    private static List<Violation.Kind> kinds(List<Violation> found) {
        return found.stream().map(Violation::kind).toList();
    }

    @Test
    void aFaithfulRestartPassesWhetherOrNotTheCallInDoubtWasApplied() {
        assertThat(acks.check(recovered())).isEmpty();
        assertThat(acks.inDoubt()).isEqualTo(1);
        assertThat(acks.inDoubtApplied()).isZero();

        Acknowledgements applied = new Acknowledgements();
        applied.submitting("c", "m1", "lab-a", "echo c");
        assertThat(applied.check(new Recovered(List.of(job(7, "c")), List.of(), true, null, 0))).isEmpty();
        assertThat(applied.inDoubtApplied()).isEqualTo(1);
    }

    @Test
    void anAcknowledgedJobThatIsGoneIsLost() {
        jobs.remove(1);
        List<Violation> found = acks.check(recovered());
        assertThat(kinds(found)).containsExactly(Violation.Kind.LOST);
        assertThat(found.get(0).detail()).contains("job 2 (b) was acknowledged and is gone");
    }

    @Test
    void anAcknowledgedJobFoundUnderAnotherIdIsLost() {
        jobs.set(1, job(9, "b"));
        assertThat(kinds(acks.check(recovered()))).containsExactly(Violation.Kind.LOST);
    }

    @Test
    void oneSubmitPresentTwiceIsDuplicated() {
        jobs.add(job(3, "b"));
        List<Violation> found = acks.check(recovered());
        assertThat(kinds(found)).containsExactly(Violation.Kind.DUPLICATED);
        assertThat(found.get(0).detail()).contains("submit b is present as 2 jobs: [2, 3]");
    }

    @Test
    void aSubmitInDoubtAppliedTwiceIsDuplicated() {
        jobs.add(job(3, "c"));
        jobs.add(job(4, "c"));
        assertThat(kinds(acks.check(recovered()))).containsExactly(Violation.Kind.DUPLICATED);
    }

    @Test
    void oneIdAcknowledgedToTwoSubmitsIsDuplicated() {
        submit("d", 2, true);
        jobs.add(job(4, "d"));
        assertThat(kinds(acks.check(recovered()))).contains(Violation.Kind.DUPLICATED);
    }

    @Test
    void aJobHoldingOnlyPartOfWhatWasSentIsHalfApplied() {
        jobs.set(0, new Recovered.Job(1, "a", "m1", "lab-a", ""));
        assertThat(kinds(acks.check(recovered()))).containsExactly(Violation.Kind.HALF_APPLIED);
    }

    @Test
    void aRefusedOrUnknownSubmitThatIsPresentIsAPhantom() {
        submit("r", 0, false);
        jobs.add(job(5, "r"));
        jobs.add(job(6, "never-sent"));
        assertThat(kinds(acks.check(recovered()))).containsExactly(Violation.Kind.PHANTOM, Violation.Kind.PHANTOM);
    }

    @Test
    void aRestartSettlesACallInDoubtForGood() {
        assertThat(acks.check(recovered())).isEmpty();
        jobs.add(job(3, "c"));
        List<Violation> found = acks.check(recovered());
        assertThat(kinds(found)).containsExactly(Violation.Kind.PHANTOM);
        assertThat(found.get(0).detail()).contains("absent after an earlier restart");

        Acknowledgements applied = new Acknowledgements();
        applied.submitting("c", "m1", "lab-a", "echo c");
        assertThat(applied.check(new Recovered(List.of(job(3, "c")), List.of(), true, null, 0))).isEmpty();
        assertThat(kinds(applied.check(new Recovered(List.of(), List.of(), true, null, 0))))
                .containsExactly(Violation.Kind.LOST);
    }

    @Test
    void theLastAcknowledgedBallotIsTheCurrentOne() {
        ballot("m1", "yes", true);
        ballot("m1", "no", true);
        assertThat(acks.check(recovered(Map.of("m1", "no"), 2))).isEmpty();
    }

    @Test
    void anAcknowledgedBallotReplacedByAnEarlierOneIsLost() {
        ballot("m1", "yes", true);
        ballot("m1", "no", true);
        List<Violation> found = acks.check(recovered(Map.of("m1", "yes"), 2));
        assertThat(kinds(found)).containsExactly(Violation.Kind.LOST);
        assertThat(found.get(0).detail()).contains("ballot of m1 on proposal 1: acknowledged no, found yes");
    }

    @Test
    void anAcknowledgedBallotThatIsGoneIsLost() {
        ballot("m1", "abstain", true);
        assertThat(kinds(acks.check(recovered(Map.of(), 1)))).contains(Violation.Kind.LOST);
    }

    @Test
    void aBallotInDoubtAfterTheLastAcknowledgedOneMayBeInForce() {
        ballot("m1", "yes", true);
        acks.balloting("m1", 1, "abstain"); // the kill came before the reply
        assertThat(acks.check(recovered(Map.of("m1", "abstain"), 2))).isEmpty();
        assertThat(acks.check(recovered(Map.of("m1", "abstain"), 2))).isEmpty();
        assertThat(kinds(acks.check(recovered(Map.of("m1", "yes"), 2)))).containsExactly(Violation.Kind.LOST);
    }

    @Test
    void aRefusedBallotInForceOrABallotNobodyCastIsAPhantom() {
        int n = acks.balloting("m1", 1, "no");
        acks.ballotRefused("m1", 1, n);
        assertThat(kinds(acks.check(recovered(Map.of("m1", "no", "m2", "yes"), 0))))
                .contains(Violation.Kind.PHANTOM).doesNotContain(Violation.Kind.LOST);
    }

    @Test
    void aTallyThatDisagreesWithItsBallotsIsHalfApplied() {
        ballot("m1", "yes", true);
        Recovered r = new Recovered(jobs, List.of(new Recovered.Proposal(1, "p1", true, Map.of("m1", "yes"), 0, 0, 0)),
                true, null, 1);
        assertThat(kinds(acks.check(r))).containsExactly(Violation.Kind.HALF_APPLIED);
    }

    @Test
    void moreBallotsInTheLedgerThanWereCastAreDuplicated() {
        ballot("m1", "yes", true);
        assertThat(kinds(acks.check(recovered(Map.of("m1", "yes"), 2)))).containsExactly(Violation.Kind.DUPLICATED);
    }

    @Test
    void anAcknowledgedProposalThatIsGoneOrClosedIsLost() {
        Recovered gone = new Recovered(jobs, List.of(), true, null, 0);
        assertThat(kinds(acks.check(gone))).containsExactly(Violation.Kind.LOST);
        Recovered closed = new Recovered(jobs, List.of(new Recovered.Proposal(1, "p1", false, Map.of(), 0, 0, 0)), true,
                null, 0);
        assertThat(kinds(acks.check(closed))).containsExactly(Violation.Kind.LOST);
    }

    @Test
    void aProposalPresentTwiceIsDuplicatedAndOneInDoubtMayBePresentOnce() {
        acks.proposing("p2"); // no reply
        Recovered twice = new Recovered(jobs, List.of(new Recovered.Proposal(1, "p1", true, Map.of(), 0, 0, 0),
                new Recovered.Proposal(2, "p2", true, Map.of(), 0, 0, 0),
                new Recovered.Proposal(3, "p2", true, Map.of(), 0, 0, 0)), true, null, 0);
        assertThat(kinds(acks.check(twice))).containsExactly(Violation.Kind.DUPLICATED);

        Acknowledgements once = new Acknowledgements();
        once.proposing("p2");
        Recovered found = new Recovered(List.of(), List.of(new Recovered.Proposal(2, "p2", true, Map.of(), 0, 0, 0)),
                true, null, 0);
        assertThat(once.check(found)).isEmpty();
        assertThat(once.proposals()).containsExactly(2L);
        assertThat(kinds(once.check(new Recovered(List.of(), List.of(), true, null, 0))))
                .containsExactly(Violation.Kind.LOST);
    }

    @Test
    void aLedgerThatDoesNotVerifyIsAViolation() {
        Recovered r = new Recovered(jobs, List.of(new Recovered.Proposal(1, "p1", true, Map.of(), 0, 0, 0)), false,
                "entry 7: hash does not match", 0);
        List<Violation> found = acks.check(r);
        assertThat(kinds(found)).containsExactly(Violation.Kind.LEDGER);
        assertThat(found.get(0).toString()).isEqualTo("ledger: the ledger does not verify: entry 7: hash does not "
                + "match");
    }

    private void ballot(String member, String choice, boolean acknowledged) {
        int n = acks.balloting(member, 1, choice);
        if (acknowledged) {
            acks.ballotAcknowledged(member, 1, n);
        }
    }
}
