package coop.scheduler.allocation;

import static coop.scheduler.allocation.ClusterBuilder.aCluster;
import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/**
 * What the policy's preemption bounds change: the minimum run, the hold on GPUs a preemption
 * frees, the victims chosen for what they would lose, and an operator's reserve claim that waits
 * for borrowers' walltimes or for a short job's turn.
 */
class PreemptionCostTest {
    private final Allocator allocator = new Allocator();

    private static Map<Long, Decision> byJob(List<Decision> ds) {
        return ds.stream().filter(d -> !(d instanceof Decision.Preempt || d instanceof Decision.Hold))
                .collect(Collectors.toMap(Decision::jobId, d -> d, (a, b) -> a));
    }

    private static List<Long> preempted(List<Decision> ds) {
        return ds.stream().filter(d -> d instanceof Decision.Preempt).map(Decision::jobId).toList();
    }

    /** lab-b, owed its half, wants 4 GPUs of a node lab-c fills with two 2-GPU attempts. */
    private static ClusterBuilder borrowedNode(long agoA, long agoB) {
        return aCluster().node("n1", "s1", 4, "A100").node("n2", "s1", 4, "A100")
                .account("lab-b", 50, 0).account("lab-c", 50, 1000)
                .running(10, "lab-c", "n1", List.of(0, 1), agoA, 36_000, true)
                .running(11, "lab-c", "n1", List.of(2, 3), agoB, 36_000, true)
                .running(12, "lab-c", "n2", List.of(0, 1, 2, 3), 3_000, 36_000, true);
    }

    @Test
    void anAttemptWithinTheMinimumRunIsNotPreemptedAndOneBeyondItIs() {
        // Attempt 11 started 100 s ago, under the 300-s minimum: n2's whole node goes instead.
        var plan = allocator.plan(borrowedNode(3_000, 100).rules(300, 300, 120).job(1, "lab-b", 4, 3600, true)
                .snapshot());
        assertThat(preempted(plan)).containsExactly(12L);
        // With no minimum, the newer attempts on n1 are as good: the choice is by what they lose.
        var noBound = allocator.plan(borrowedNode(3_000, 100).job(1, "lab-b", 4, 3600, true).snapshot());
        assertThat(preempted(noBound)).doesNotContain(12L).hasSize(2);
    }

    @Test
    void noAttemptPastTheMinimumRunMeansTheJobWaitsAndPreemptsNoOne() {
        var plan = allocator.plan(aCluster().node("n1", "s1", 4, "A100")
                .account("lab-b", 50, 0).account("lab-c", 50, 1000)
                .running(10, "lab-c", "n1", List.of(0, 1, 2, 3), 100, 36_000, true)
                .rules(300, 300, 120).job(1, "lab-b", 2, 3600, true).snapshot());
        assertThat(preempted(plan)).isEmpty();
        assertThat(byJob(plan).get(1L)).isNotInstanceOf(Decision.Admit.class);
    }

    @Test
    void aJobShorterThanTheMinimumRunPreemptsNoOne() {
        var plan = allocator.plan(borrowedNode(3_000, 3_000).rules(300, 300, 120).job(1, "lab-b", 4, 60, true)
                .snapshot());
        assertThat(preempted(plan)).isEmpty();
        var longer = allocator.plan(borrowedNode(3_000, 3_000).rules(300, 300, 120).job(1, "lab-b", 4, 600, true)
                .snapshot());
        assertThat(preempted(longer)).isNotEmpty();
    }

    @Test
    void aPreemptionHoldsTheGpusItFreesForItsJob() {
        var plan = allocator.plan(borrowedNode(3_000, 3_000).rules(300, 300, 120).job(1, "lab-b", 4, 3600, true)
                .snapshot());
        assertThat(plan).filteredOn(d -> d instanceof Decision.Hold).singleElement()
                .isInstanceOfSatisfying(Decision.Hold.class, h -> {
                    assertThat(h.jobId()).isEqualTo(1);
                    assertThat(h.gpus()).singleElement().satisfies(g -> {
                        assertThat(g.gpus()).isEqualTo(4);
                        assertThat(g.until()).isEqualTo(1_000_000 + 120_000);
                        assertThat(preempted(plan)).allMatch(v -> g.node().equals(v == 12L ? "n2" : "n1"));
                    });
                });
        // Without holds (the rules before they were voted) the decision is the same, with no hold.
        var unheld = allocator.plan(borrowedNode(3_000, 3_000).job(1, "lab-b", 4, 3600, true).snapshot());
        assertThat(unheld).noneMatch(d -> d instanceof Decision.Hold);
    }

    @Test
    void heldGpusGoToTheirJobAloneAsTheyComeFree() {
        // n1 is free again: its victims stopped. lab-a, first in fair order, and lab-c's requeued
        // job would each take it; it is held for lab-b's job 1, which starts on it.
        var plan = allocator.plan(aCluster().node("n1", "s1", 4, "A100").node("n2", "s1", 4, "A100", 0, 1, 2, 3)
                .account("lab-a", 34, 0).account("lab-b", 33, 10).account("lab-c", 33, 1000)
                .rules(300, 300, 120).hold(1, "lab-b", "n1", 4, 60)
                .job(2, "lab-a", 4, 3600, true).job(3, "lab-c", 2, 3600, true).job(1, "lab-b", 4, 3600, true)
                .snapshot());
        var d = byJob(plan);
        assertThat(d.get(1L)).isInstanceOfSatisfying(Decision.Admit.class,
                a -> assertThat(a.placements().get(0).node()).isEqualTo("n1"));
        assertThat(d.get(2L)).isNotInstanceOf(Decision.Admit.class);
        assertThat(d.get(3L)).isNotInstanceOf(Decision.Admit.class);
    }

    @Test
    void heldGpusStillBusyKeepWhatIsFreeForTheJobAndTheJobDoesNotReclaimAgain() {
        // Half of n1 is free, half still stopping for job 1: the free half is not lab-c's, and job 1
        // preempts no one else while it waits.
        var plan = allocator.plan(aCluster().node("n1", "s1", 4, "A100").node("n2", "s1", 4, "A100")
                .account("lab-b", 50, 0).account("lab-c", 50, 1000)
                .stopping(10, "lab-c", "n1", List.of(0, 1), 1)
                .running(12, "lab-c", "n2", List.of(0, 1, 2, 3), 3_000, 36_000, true)
                .rules(300, 300, 120).hold(1, "lab-b", "n1", 4, 60)
                .job(1, "lab-b", 4, 3600, true).job(3, "lab-c", 2, 3600, true).snapshot());
        var d = byJob(plan);
        assertThat(preempted(plan)).isEmpty();
        assertThat(d.get(1L)).isInstanceOfSatisfying(Decision.Wait.class,
                w -> assertThat(w.detail()).contains("held for it"));
        assertThat(d.get(3L)).isNotInstanceOf(Decision.Admit.class);
    }

    @Test
    void aLapsedHoldHoldsNothing() {
        var plan = allocator.plan(aCluster().node("n1", "s1", 4, "A100")
                .account("lab-a", 50, 0).account("lab-b", 50, 10)
                .rules(300, 300, 120).hold(1, "lab-b", "n1", 4, 0)
                .job(2, "lab-a", 4, 3600, true).snapshot());
        assertThat(byJob(plan).get(2L)).isInstanceOf(Decision.Admit.class);
    }

    @Test
    void victimsAreTheJobsPreemptedLeastThenThoseLosingLeast() {
        // Three 2-GPU attempts of lab-c on n1 and n2; lab-b needs 2 GPUs. 20 was preempted before;
        // 21 saved its work 10 minutes ago, 22 one minute ago: 22 goes.
        var b = aCluster().node("n1", "s1", 4, "A100").node("n2", "s1", 2, "A100")
                .account("lab-b", 50, 0).account("lab-c", 50, 1000)
                .runningSaved(20, "lab-c", "n1", List.of(0, 1), 3_000, 30, 1)
                .runningSaved(21, "lab-c", "n1", List.of(2, 3), 3_000, 600, 0)
                .runningSaved(22, "lab-c", "n2", List.of(0, 1), 3_000, 60, 0)
                .rules(300, 300, 120).job(1, "lab-b", 2, 3600, true);
        assertThat(preempted(allocator.plan(b.snapshot()))).containsExactly(22L);
    }

    @Test
    void anOperatorWaitsForABorrowerWhoseWalltimeEndsWithinTheReserveWait() {
        // lab-b's attempt on lab-a's reserve ends by walltime in 200 s, within the 300-s wait.
        var soon = aCluster().operatedNode("n1", "s1", 4, "A100", "lab-a", 4)
                .account("lab-a", 50, 0).account("lab-b", 50, 0)
                .running(10, "lab-b", "n1", List.of(0, 1, 2, 3), 1_000, 1_200, true)
                .rules(300, 300, 120).job(1, "lab-a", 1, 3600, true);
        var plan = allocator.plan(soon.snapshot());
        assertThat(preempted(plan)).isEmpty();
        assertThat(byJob(plan).get(1L)).isInstanceOfSatisfying(Decision.Wait.class,
                w -> assertThat(w.detail()).contains("within the policy's reserve wait"));
        // Ending in 2,600 s, it is preempted.
        var late = aCluster().operatedNode("n1", "s1", 4, "A100", "lab-a", 4)
                .account("lab-a", 50, 0).account("lab-b", 50, 0)
                .running(10, "lab-b", "n1", List.of(0, 1, 2, 3), 1_000, 3_600, true)
                .rules(300, 300, 120).job(1, "lab-a", 1, 3600, true);
        assertThat(preempted(allocator.plan(late.snapshot()))).containsExactly(10L);
    }

    @Test
    void anOperatorsJobShorterThanTheMinimumRunPreemptsNoOneOnItsReserve() {
        // A 10-s job, under the 300-s minimum run, however long it has waited (job 1 was submitted
        // 1,000 s ago: the builder dates a job by its id in ms); a 10-min one preempts.
        var plan = allocator.plan(reserveFilled().job(1, "lab-a", 1, 10, true).snapshot());
        assertThat(preempted(plan)).isEmpty();
        assertThat(byJob(plan).get(1L)).isInstanceOfSatisfying(Decision.Wait.class,
                w -> assertThat(w.detail()).contains("shorter than the policy's minimum run (5 min) preempts no one"));
        var longer = allocator.plan(reserveFilled().job(1, "lab-a", 1, 600, true).snapshot());
        assertThat(preempted(longer)).containsExactly(10L);
    }

    @Test
    void aYoungerDueJobThatCannotReclaimIsNotReservedForAheadOfAnOlderOneThatCan() {
        // uni-c fills n1 (lab-a's node, 2 reserved) and n2. lab-b's 4-GPU job, the oldest due,
        // can take n1 back; lab-a's short jobs cannot preempt: two wait on the reserve, the third
        // is due and blocked. Reserved for before the due pass, it would bar lab-b from n1.
        var plan = allocator.plan(aCluster().operatedNode("n1", "s1", 4, "A100", "lab-a", 2)
                .mixedNode("n2", "s1", "A100", 2, "L4", 2)
                .account("lab-a", 33, 0).account("lab-b", 33, 0).account("uni-c", 34, 1000)
                .running(100, "uni-c", "n1", List.of(0, 1), 30, 45, true)
                .running(101, "uni-c", "n1", List.of(2, 3), 30, 60, true)
                .running(102, "uni-c", "n2", List.of(0, 1), 30, 55, true)
                .running(103, "uni-c", "n2", List.of(2, 3), 30, 50, true)
                .rules(20, 15, 62)
                .job(999_000, "lab-b", 4, 50, true)
                .job(999_100, "lab-a", 1, 12, true).job(999_101, "lab-a", 1, 12, true)
                .job(999_102, "lab-a", 1, 12, true).snapshot());
        assertThat(preempted(plan)).containsExactlyInAnyOrder(100L, 101L);
        assertThat(byJob(plan).get(999_000L)).isInstanceOfSatisfying(Decision.Wait.class,
                w -> assertThat(w.veto()).isEqualTo(Veto.RECLAIMING));
    }

    private static ClusterBuilder reserveFilled() {
        return aCluster().operatedNode("n1", "s1", 4, "A100", "lab-a", 4)
                .account("lab-a", 50, 0).account("lab-b", 50, 0)
                .running(10, "lab-b", "n1", List.of(0, 1, 2, 3), 1_000, 36_000, true)
                .rules(300, 300, 120);
    }
}
