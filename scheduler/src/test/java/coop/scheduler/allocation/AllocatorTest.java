package coop.scheduler.allocation;

import static coop.scheduler.allocation.ClusterBuilder.aCluster;
import static org.assertj.core.api.Assertions.assertThat;

import coop.scheduler.domain.Placement;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

class AllocatorTest {
    private final Allocator allocator = new Allocator();

    private static Map<Long, Decision> byJob(List<Decision> ds) {
        Map<Long, Decision> m = new HashMap<>();
        ds.forEach(d -> m.put(d.jobId(), d));
        return m;
    }

    @Test
    void admitsAJobWhenItsGpusAreFree() {
        var plan = allocator.plan(aCluster().node("n1", "s1", 8, "A100").account("lab-a", 100, 0)
                .job("lab-a", 4).snapshot());
        assertThat(plan).hasSize(1);
        var admit = (Decision.Admit) plan.get(0);
        assertThat(admit.placements()).containsExactly(new Placement("n1", "s1", "A100", List.of(0, 1, 2, 3)));
    }

    @Test
    void ordersAccountsByUsageOverShareLowestFirst() {
        // Both are due a 4-GPU job and only one fits; lab-b used less per unit of share.
        var plan = allocator.plan(aCluster().node("n1", "s1", 4, "A100")
                .account("lab-a", 50, 100).account("lab-b", 50, 30)
                .job("lab-a", 4).job("lab-b", 4).snapshot());
        var d = byJob(plan);
        assertThat(d.get(2L)).isInstanceOf(Decision.Admit.class);
        assertThat(d.get(1L)).isInstanceOf(Decision.Reserve.class);
    }

    @Test
    void anAccountWithNoShareGoesLast() {
        var plan = allocator.plan(aCluster().node("n1", "s1", 1, "A100")
                .account("lab-a", 0, 0).account("lab-b", 100, 1_000_000)
                .job("lab-a", 1).job("lab-b", 1).snapshot());
        assertThat(byJob(plan).get(2L)).isInstanceOf(Decision.Admit.class);
    }

    @Test
    void withinAnAccountHigherPriorityThenOlderFirst() {
        var plan = allocator.plan(aCluster().node("n1", "s1", 1, "A100").account("lab-a", 100, 0)
                .job("lab-a", 1, 1, "", 0).job("lab-a", 1, 1, "", 5).snapshot());
        assertThat(byJob(plan).get(2L)).isInstanceOf(Decision.Admit.class);
    }

    @Test
    void respectsTheRequestedGpuModel() {
        var plan = allocator.plan(aCluster().node("h", "s1", 4, "H100").node("a", "s1", 4, "A100")
                .account("lab-a", 100, 0).job("lab-a", 2, 1, "a100", 0).snapshot());
        var admit = (Decision.Admit) plan.get(0);
        assertThat(admit.placements().get(0).node()).isEqualTo("a");
    }

    @Test
    void aModelNoNodeHasWaitsWithANamedVetoAndHoldsNothing() {
        var plan = allocator.plan(aCluster().node("n1", "s1", 4, "A100").account("lab-a", 100, 0)
                .job("lab-a", 1, 1, "H200", 0).job("lab-a", 1).snapshot());
        var d = byJob(plan);
        assertThat(d.get(1L)).isInstanceOfSatisfying(Decision.Wait.class, w -> {
            assertThat(w.veto()).isEqualTo(Veto.NO_NODE_FITS);
            assertThat(w.detail()).contains("H200");
        });
        assertThat(d.get(2L)).isInstanceOf(Decision.Admit.class);
    }

    @Test
    void placesAGangAllOrNothingOnOneSite() {
        var plan = allocator.plan(aCluster()
                .node("a1", "north", 4, "A100").node("a2", "north", 4, "A100").node("b1", "south", 4, "A100", 0, 1)
                .account("lab-a", 100, 0).job("lab-a", 4, 2, "", 0).snapshot());
        var admit = (Decision.Admit) plan.get(0);
        assertThat(admit.placements()).extracting(Placement::node).containsExactlyInAnyOrder("a1", "a2");
        assertThat(admit.placements()).allSatisfy(p -> assertThat(p.gpuIndices()).hasSize(4));
    }

    @Test
    void aGangDoesNotSpanSitesUnlessAllowed() {
        var cluster = aCluster().node("a1", "north", 4, "A100").node("b1", "south", 4, "A100").account("lab-a", 100, 0);
        var sameSite = allocator.plan(cluster.job("lab-a", 4, 2, "", 0).snapshot());
        assertThat(sameSite.get(0)).isInstanceOfSatisfying(Decision.Wait.class,
                w -> assertThat(w.veto()).isEqualTo(Veto.NO_NODE_FITS));
        var crossing = allocator.plan(aCluster().node("a1", "north", 4, "A100").node("b1", "south", 4, "A100")
                .account("lab-a", 100, 0).crossSiteJob("lab-a", 4, 2).snapshot());
        assertThat(crossing.get(0)).isInstanceOf(Decision.Admit.class);
    }

    @Test
    void aJobPrefersTheSiteOfItsCheckpointsOverATighterFitElsewhere() {
        // Without a preference, the gang takes south's two 2-GPU nodes, the tightest fit.
        var tightest = allocator.plan(aCluster().node("a1", "north", 4, "A100").node("a2", "north", 4, "A100")
                .node("b1", "south", 2, "A100").node("b2", "south", 2, "A100").account("lab-a", 100, 0)
                .job("lab-a", 2, 2, "", 0).snapshot());
        assertThat(((Decision.Admit) tightest.get(0)).placements()).extracting(Placement::node)
                .containsExactlyInAnyOrder("b1", "b2");
        var preferring = allocator.plan(aCluster().node("a1", "north", 4, "A100").node("a2", "north", 4, "A100")
                .node("b1", "south", 2, "A100").node("b2", "south", 2, "A100").account("lab-a", 100, 0)
                .jobPreferring("north", "lab-a", 2, 2, false).snapshot());
        assertThat(((Decision.Admit) preferring.get(0)).placements()).extracting(Placement::node)
                .containsExactlyInAnyOrder("a1", "a2");
    }

    @Test
    void aJobThatCrossesSitesPutsAsManyRanksAsItCanOnThePreferredSite() {
        var plan = allocator.plan(aCluster().node("a1", "north", 4, "A100").node("b1", "south", 2, "A100")
                .node("b2", "south", 2, "A100").account("lab-a", 100, 0)
                .jobPreferring("north", "lab-a", 2, 2, true).snapshot());
        assertThat(((Decision.Admit) plan.get(0)).placements()).extracting(Placement::node).contains("a1");
    }

    @Test
    void thePreferenceNeverMakesAJobWaitWhereAnotherSiteHasRoom() {
        var plan = allocator.plan(aCluster().node("a1", "north", 4, "A100", 0, 1, 2, 3).node("b1", "south", 4, "A100")
                .account("lab-a", 100, 0).jobPreferring("north", "lab-a", 2, 1, false).snapshot());
        assertThat(((Decision.Admit) plan.get(0)).placements()).extracting(Placement::node).containsExactly("b1");
    }

    @Test
    void jobsWithinEntitlementGoBeforeBorrowersWhateverTheirUsage() {
        // lab-a has the lower usage but wants 4 GPUs beyond its 2 entitled; lab-b's job is within.
        var plan = allocator.plan(aCluster().node("n1", "s1", 4, "A100", 0, 1)
                .account("lab-a", 50, 0).account("lab-b", 50, 100)
                .job("lab-a", 4).job("lab-b", 1).snapshot());
        var d = byJob(plan);
        assertThat(d.get(2L)).isInstanceOfSatisfying(Decision.Admit.class, a -> assertThat(a.borrowed()).isFalse());
        assertThat(d.get(1L)).isInstanceOf(Decision.Reserve.class);
    }

    @Test
    void beyondItsEntitlementAJobStartsOnBorrowedGpus() {
        var plan = allocator.plan(aCluster().node("n1", "s1", 4, "A100")
                .account("lab-a", 50, 0).account("lab-b", 50, 0).job("lab-a", 3).snapshot());
        assertThat(plan.get(0)).isInstanceOfSatisfying(Decision.Admit.class, a -> assertThat(a.borrowed()).isTrue());
    }

    @Test
    void aNoPreemptJobRunsOnlyWithinItsEntitlement() {
        var plan = allocator.plan(aCluster().node("n1", "s1", 4, "A100")
                .account("lab-a", 50, 0).account("lab-b", 50, 0)
                .job(1, "lab-a", 3, 60, false).job(2, "lab-a", 2, 60, false).snapshot());
        var d = byJob(plan);
        assertThat(d.get(1L)).isInstanceOfSatisfying(Decision.Wait.class,
                w -> assertThat(w.veto()).isEqualTo(Veto.NOT_PREEMPTIBLE_BEYOND_ENTITLEMENT));
        assertThat(d.get(2L)).isInstanceOfSatisfying(Decision.Admit.class, a -> assertThat(a.borrowed()).isFalse());
    }

    @Test
    void anAccountUnderItsEntitlementReclaimsTheMostRecentlyStartedBorrowedGpus() {
        // lab-b holds all 4 GPUs (entitled to 2) and has used them: the newest attempts are the borrowed ones.
        var plan = allocator.plan(aCluster().node("n1", "s1", 4, "A100")
                .account("lab-a", 50, 0).account("lab-b", 50, 1000)
                .running(10, "lab-b", "n1", List.of(0), 300, 3600, true)
                .running(11, "lab-b", "n1", List.of(1), 200, 3600, true)
                .running(12, "lab-b", "n1", List.of(2), 100, 3600, true)
                .running(13, "lab-b", "n1", List.of(3), 50, 3600, true)
                .job(1, "lab-a", 2, 60, true).snapshot());
        assertThat(plan).filteredOn(d -> d instanceof Decision.Preempt).extracting(Decision::jobId)
                .containsExactlyInAnyOrder(13L, 12L);
        assertThat(byJob(plan).get(1L)).isInstanceOfSatisfying(Decision.Wait.class,
                w -> assertThat(w.veto()).isEqualTo(Veto.RECLAIMING));
    }

    @Test
    void anAccountOwedTimeIsDueAJobLargerThanItsFairLevelButPreemptsNoOneForIt() {
        // 16 GPUs; mid wants 1, the other 15 divide 15:4 between big (11.8) and tiny (3.2). tiny's
        // 8-GPU job is due because tiny holds nothing and has used less than its 4 % share, but
        // it would take 8 GPUs for a level of 3.2: it waits first in line for GPUs that free up
        // by themselves instead of preempting big's attempts, which tiny would then hold more of
        // its entitlement than big does.
        var plan = allocator.plan(owing(10).snapshot());
        assertThat(plan).noneMatch(d -> d instanceof Decision.Preempt p && p.forJobId() == 1);
        assertThat(byJob(plan).get(1L)).isInstanceOf(Decision.Reserve.class);
    }

    private static ClusterBuilder owing(double tinyUsage) {
        return aCluster().node("n1", "s1", 8, "A100").node("n2", "s1", 8, "A100")
                .account("big", 15, 1000).account("mid", 81, 1000).account("tiny", 4, tinyUsage)
                .running(10, "big", "n1", List.of(0, 1, 2, 3, 4, 5, 6, 7), 200, 3600, true)
                .running(11, "big", "n2", List.of(0, 1, 2, 3, 4, 5, 6, 7), 100, 3600, true)
                .job(1, "tiny", 8, 60, true).job(2, "mid", 1, 60, true);
    }

    @Test
    void anAccountOwedTimeKeepsItsLevelRoundedUpToAWholeGpu() {
        // 10 GPUs, levels a 2.2, b 7.8. a holds 3 (its level rounded up); b holds 7 and wants one
        // more. If a has used less than its level would have given it, its newest attempt is kept;
        // otherwise it is borrowed and b takes it back.
        var owed = allocator.plan(past(100).snapshot());
        assertThat(owed).noneMatch(d -> d instanceof Decision.Preempt);
        var even = allocator.plan(past(220).snapshot());
        assertThat(even).filteredOn(d -> d instanceof Decision.Preempt).extracting(Decision::jobId)
                .containsExactly(11L);
    }

    private static ClusterBuilder past(double usedByA) {
        return aCluster().node("n1", "s1", 10, "A100")
                .accountWithHistory("a", 22, usedByA, 220).accountWithHistory("b", 78, 780, 780)
                .running(10, "a", "n1", List.of(0, 1), 200, 3600, true)
                .running(11, "a", "n1", List.of(2), 100, 3600, true)
                .running(20, "b", "n1", List.of(3, 4, 5, 6, 7, 8, 9), 300, 3600, true)
                .job(1, "b", 1, 60, true);
    }

    @Test
    void neverPreemptsWithinEntitlementOrNoPreemptAttempts() {
        // lab-b holds exactly its entitlement; uni-c (no share) holds GPUs it asked never to give back.
        var plan = allocator.plan(aCluster().node("n1", "s1", 4, "A100")
                .account("lab-a", 50, 0).account("lab-b", 50, 0).account("uni-c", 0, 0)
                .running(10, "lab-b", "n1", List.of(0, 1), 300, 3600, true)
                .running(11, "uni-c", "n1", List.of(2, 3), 100, 3600, false)
                .job(1, "lab-a", 2, 60, true).snapshot());
        assertThat(plan).noneMatch(d -> d instanceof Decision.Preempt);
    }

    @Test
    void preemptsTheMostOverEntitledAccountFirst() {
        var plan = allocator.plan(aCluster().node("n1", "s1", 8, "A100")
                // lab-b and uni-c have used more than their shares, so neither is owed time.
                .account("lab-a", 50, 0).account("lab-b", 25, 1000).account("uni-c", 25, 1000)
                // lab-b: 5 GPUs of 2.5 fair (2x), uni-c: 3 of 2.5; newest first alone would pick uni-c.
                .running(10, "lab-b", "n1", List.of(0), 300, 3600, true)
                .running(11, "lab-b", "n1", List.of(1), 300, 3600, true)
                .running(12, "lab-b", "n1", List.of(2), 300, 3600, true)
                .running(13, "lab-b", "n1", List.of(3), 300, 3600, true)
                .running(14, "lab-b", "n1", List.of(4), 300, 3600, true)
                .running(20, "uni-c", "n1", List.of(5), 10, 3600, true)
                .running(21, "uni-c", "n1", List.of(6), 10, 3600, true)
                .running(22, "uni-c", "n1", List.of(7), 10, 3600, true)
                .job(1, "lab-a", 2, 60, true).snapshot());
        assertThat(plan).filteredOn(d -> d instanceof Decision.Preempt).extracting(Decision::jobId)
                .hasSize(2).allMatch(id -> id >= 10 && id <= 14);
    }

    @Test
    void backfillsOnlyJobsThatEndBeforeTheReservation() {
        // n1 fully busy until 600 s from now; n2 has 2 of 4 free, its 2 busy GPUs free in 100 s.
        var plan = allocator.plan(aCluster().node("n1", "s1", 4, "A100").node("n2", "s1", 4, "A100")
                .account("lab-a", 50, 0).account("lab-b", 50, 1000)
                .running(10, "lab-b", "n1", List.of(0, 1, 2, 3), 0, 600, false)
                .running(11, "lab-b", "n2", List.of(0, 1), 0, 100, false)
                .job(1, "lab-a", 4, 3600, true)     // needs a whole node: reserved on n2 in 100 s
                .job(2, "lab-a", 2, 500, true)      // would delay it: waits
                .job(3, "lab-a", 2, 50, true)       // ends before the reservation: backfills
                .snapshot());
        var d = byJob(plan);
        assertThat(d.get(1L)).isInstanceOfSatisfying(Decision.Reserve.class, r -> {
            assertThat(r.nodes()).containsExactly("n2");
            assertThat(r.startAt()).isEqualTo(1_000_000 + 100_000);
        });
        assertThat(d.get(3L)).isInstanceOf(Decision.Admit.class);
        // Why job 2 waits is told as of the end of the cycle: job 3 took the GPUs it fitted on.
        assertThat(d.get(2L)).isInstanceOfSatisfying(Decision.Wait.class,
                w -> assertThat(w.veto()).isEqualTo(Veto.TOO_FEW_FREE_GPUS));
    }

    @Test
    void aJobThatWouldDelayTheReservationWaitsForIt() {
        var plan = allocator.plan(aCluster().node("n1", "s1", 4, "A100").node("n2", "s1", 4, "A100")
                .account("lab-a", 50, 0).account("lab-b", 50, 1000)
                .running(10, "lab-b", "n1", List.of(0, 1, 2, 3), 0, 600, false)
                .running(11, "lab-b", "n2", List.of(0, 1), 0, 100, false)
                .job(1, "lab-a", 4, 3600, true)
                .job(2, "lab-a", 2, 500, true)
                .snapshot());
        assertThat(byJob(plan).get(2L)).isInstanceOfSatisfying(Decision.Wait.class, w -> {
            assertThat(w.veto()).isEqualTo(Veto.RESERVED_FOR_EARLIER_JOB);
            assertThat(w.detail()).contains("reserved for job 1");
        });
    }

    @Test
    void aReservationCountsTheGpusItsCycleJustGaveOutAndSoBlocksLaterBackfill() {
        // lab-c holds 10 of 12 GPUs; lab-b's 1-GPU job takes one of the two free ones on n1, then
        // lab-a's whole-cluster gang (not due: lab-a has used its share) cannot start and is reserved for. n1's busy GPUs include the
        // one just given out, which no running attempt holds yet: its walltime still bounds the
        // start, so the reservation has a time, and lab-c's later job, which would end after it,
        // may not take n1's last free GPU.
        var b = aCluster().node("n1", "s1", 4, "A100").node("n2", "s1", 4, "A100").node("n3", "s1", 4, "A100")
                .account("lab-a", 34, 900).account("lab-b", 33, 0).account("lab-c", 33, 1000);
        long id = 10;
        for (String node : List.of("n1", "n2", "n3")) {
            for (int g = 0; g < (node.equals("n1") ? 2 : 4); g++) {
                b.running(id++, "lab-c", node, List.of(g), 0, 600, true);
            }
        }
        var plan = allocator.plan(b.job(1, "lab-b", 1, 3600, true)
                .gang(2, "lab-a", 4, 3, 3600)
                .job(3, "lab-c", 1, 7200, true)
                .snapshot());
        var d = byJob(plan);
        assertThat(d.get(1L)).isInstanceOf(Decision.Admit.class);
        assertThat(d.get(2L)).isInstanceOfSatisfying(Decision.Reserve.class, r -> {
            assertThat(r.nodes()).containsExactlyInAnyOrder("n1", "n2", "n3");
            assertThat(r.startAt()).isEqualTo(1_000_000 + 3_600_000);
        });
        assertThat(d.get(3L)).isInstanceOfSatisfying(Decision.Wait.class,
                w -> assertThat(w.veto()).isEqualTo(Veto.RESERVED_FOR_EARLIER_JOB));
    }

    @Test
    void drainingAndUnofferedNodesTakeNoNewWork() {
        var plan = allocator.plan(aCluster().node("d", "s1", 4, "A100", true, true)
                .node("w", "s1", 4, "A100", false, false).node("ok", "s1", 1, "A100")
                .account("lab-a", 100, 0).job("lab-a", 1).job("lab-a", 2).snapshot());
        var d = byJob(plan);
        assertThat(d.get(1L)).isInstanceOfSatisfying(Decision.Admit.class,
                a -> assertThat(a.placements().get(0).node()).isEqualTo("ok"));
        assertThat(d.get(2L)).isInstanceOfSatisfying(Decision.Wait.class,
                w -> assertThat(w.veto()).isEqualTo(Veto.NO_NODE_FITS));
    }

    @Test
    void bestFitKeepsWholeNodesFreeForGangs() {
        var plan = allocator.plan(aCluster().node("big", "s1", 8, "A100").node("small", "s1", 4, "A100", 0, 1, 2)
                .account("lab-a", 100, 0).job("lab-a", 1).snapshot());
        var admit = (Decision.Admit) plan.get(0);
        assertThat(admit.placements().get(0).node()).isEqualTo("small");
        assertThat(admit.placements().get(0).gpuIndices()).containsExactly(3);
    }

    @Test
    void neverGivesOutMoreGpusThanFreeAndNeverTheSameGpuTwice() {
        var b = aCluster().node("n1", "s1", 8, "A100", 0).node("n2", "s1", 4, "H100").node("n3", "s2", 4, "A100")
                .account("lab-a", 50, 10).account("lab-b", 50, 0);
        for (int i = 0; i < 12; i++) {
            b.job(i % 2 == 0 ? "lab-a" : "lab-b", 1 + i % 3, i % 4 == 0 ? 2 : 1, "", 0);
        }
        Set<String> used = new HashSet<>();
        for (Decision d : allocator.plan(b.snapshot())) {
            if (d instanceof Decision.Admit a) {
                for (Placement p : a.placements()) {
                    for (int g : p.gpuIndices()) {
                        assertThat(used.add(p.node() + "/" + g)).as("GPU %s/%d given twice", p.node(), g).isTrue();
                        assertThat(p.node().equals("n1") && g == 0).as("busy GPU given out").isFalse();
                    }
                }
            }
        }
        assertThat(used).hasSizeLessThanOrEqualTo(15);
    }

    @Test
    void theSameSnapshotGivesTheSamePlan() {
        var s = aCluster().node("n1", "s1", 8, "A100", 2).node("n2", "s1", 8, "A100")
                .account("lab-a", 60, 5).account("lab-b", 40, 3)
                .job("lab-a", 3).job("lab-b", 4, 2, "", 1).job("lab-a", 5).job("lab-b", 1).snapshot();
        assertThat(allocator.plan(s)).isEqualTo(allocator.plan(s));
    }

    @Test
    void anAccountsLaterSmallJobsDoNotPassItsBlockedGang() {
        // lab-b borrowed all 8 GPUs. lab-a is due its 2x4 gang, which cannot take both of lab-b's
        // attempts (the second is within lab-b's level once the first stops). lab-a's later 1-GPU
        // job, short enough not to delay the gang's reservation, would be due too and could
        // reclaim one attempt, but it may not pass the gang.
        var plan = allocator.plan(aCluster().node("n1", "s1", 4, "A100").node("n2", "s1", 4, "A100")
                .account("lab-a", 50, 0).account("lab-b", 50, 0)
                .running(10, "lab-b", "n1", List.of(0, 1, 2, 3), 0, 600, true)
                .running(11, "lab-b", "n2", List.of(0, 1, 2, 3), 0, 900, true)
                .job("lab-a", 4, 2, "", 0)
                .job(2, "lab-a", 1, 60, true)
                .snapshot());
        var d = byJob(plan);
        assertThat(d.get(1L)).isInstanceOf(Decision.Reserve.class);
        assertThat(plan).noneMatch(x -> x instanceof Decision.Preempt);
        assertThat(d.get(2L)).isInstanceOf(Decision.Wait.class);
    }

    @Test
    void gpusBeingFreedForOneJobAreNotCountedByAnother() {
        // lab-c borrowed all 4 GPUs; its attempt 10 is already stopping for lab-a's job 1. lab-b's
        // job 2 is due 2 GPUs too: it must preempt lab-c's other attempt, not wait on job 1's GPUs.
        var plan = allocator.plan(aCluster().node("n1", "s1", 4, "A100")
                .account("lab-a", 40, 0).account("lab-b", 40, 0).account("lab-c", 20, 0)
                .stopping(10, "lab-c", "n1", List.of(0, 1), 1)
                .running(11, "lab-c", "n1", List.of(2, 3), 30, 3600, true)
                .job(1, "lab-a", 2, 3600, true)
                .job(2, "lab-b", 2, 3600, true)
                .snapshot());
        assertThat(plan).filteredOn(x -> x instanceof Decision.Preempt).singleElement()
                .isInstanceOfSatisfying(Decision.Preempt.class, p -> {
                    assertThat(p.jobId()).isEqualTo(11L);
                    assertThat(p.forJobId()).isEqualTo(2L);
                });
        // Job 1 waits on the GPUs freed for it, preempting nobody more.
        assertThat(byJob(plan).get(1L)).isInstanceOfSatisfying(Decision.Wait.class,
                w -> assertThat(w.detail()).contains("already stopping"));
    }

    @Test
    void theOldestBlockedDueJobGetsTheReservation() {
        // Both accounts are due a whole node and none is free; lab-b comes first in fair order, but
        // lab-a's job is older, so lab-a's is reserved for.
        var plan = allocator.plan(aCluster().node("n1", "s1", 4, "A100").node("n2", "s1", 4, "A100")
                .account("lab-a", 50, 100).account("lab-b", 50, 0)
                .running(10, "lab-c", "n1", List.of(0, 1, 2, 3), 0, 600, false)
                .running(11, "lab-c", "n2", List.of(0, 1, 2, 3), 0, 900, false)
                .job(1, "lab-a", 4, 3600, false)
                .job(2, "lab-b", 4, 3600, false)
                .snapshot());
        var d = byJob(plan);
        assertThat(d.get(1L)).isInstanceOfSatisfying(Decision.Reserve.class,
                r -> assertThat(r.nodes()).containsExactly("n1"));
        assertThat(d.get(2L)).isInstanceOf(Decision.Wait.class);
    }

    @Test
    void jobsBehindAFullClusterAreExplainedOnDemand() {
        var cluster = aCluster().node("n1", "s1", 4, "A100").account("lab-a", 50, 0).account("lab-b", 50, 0)
                .running(10, "lab-b", "n1", List.of(0, 1, 2, 3), 0, 600, true);
        for (int i = 0; i < 500; i++) {
            cluster.job("lab-a", 1 + i % 4);
        }
        cluster.job("lab-a", 8);
        Plan plan = allocator.plan(cluster.snapshot());
        // One reservation decided; the other 500 wait without being built in the cycle.
        assertThat(plan.taken()).hasSize(1).first().isInstanceOf(Decision.Reserve.class);
        assertThat(plan.behind()).hasSize(500);
        assertThat(plan).hasSize(501);
        Decision.Wait w = plan.explain(plan.behind().get(0));
        assertThat(w.veto()).isEqualTo(Veto.TOO_FEW_FREE_GPUS);
        assertThat(w.detail()).startsWith("lab-a holds 0 GPUs of 2.0 entitled; ");
        Decision.Wait never = plan.explain(plan.behind().stream().filter(j -> j.gpus() == 8).findFirst().orElseThrow());
        assertThat(never.veto()).isEqualTo(Veto.NO_NODE_FITS);
        assertThat(plan.stream().map(Decision::jobId).distinct()).hasSize(501);
    }

    @Test
    void withNoNodeOfferedEveryPendingJobIsExplainedOnDemand() {
        // The only node drains: nothing can start, fit or be reserved for, and nothing is decided in the cycle.
        var cluster = aCluster().node("n1", "s1", 4, "A100", true, true).account("lab-a", 50, 0)
                .account("lab-b", 50, 0);
        for (int i = 0; i < 1000; i++) {
            cluster.job(i % 2 == 0 ? "lab-a" : "lab-b", 1 + i % 4);
        }
        cluster.job(1001, "lab-b", 1, 3600, false);
        Plan plan = allocator.plan(cluster.snapshot());
        assertThat(plan.taken()).isEmpty();
        assertThat(plan.behind()).hasSize(1001);
        assertThat(plan.stream().map(Decision::jobId).distinct()).hasSize(1001);
        Decision.Wait w = plan.explain(plan.behind().get(0));
        assertThat(w.veto()).isEqualTo(Veto.NO_NODE_FITS);
        assertThat(w.detail()).startsWith(w.jobId() % 2 == 1 ? "lab-a holds 0 GPUs of 0.0 entitled; "
                : "lab-b holds 0 GPUs of 0.0 entitled; ");
        Decision.Wait pinned = plan.explain(plan.behind().stream().filter(j -> j.id() == 1001).findFirst()
                .orElseThrow());
        assertThat(pinned.veto()).isEqualTo(Veto.NOT_PREEMPTIBLE_BEYOND_ENTITLEMENT);
        // One submitted after the cycle is told the same as those the cycle saw.
        var later = new JobRequest(2000, "lab-a", 1, 1, "", 0, 5, false);
        assertThat(plan.explain(later).veto()).isEqualTo(Veto.NO_NODE_FITS);
    }

    @Test
    void aJobTheCycleDidNotSeeIsToldTheNextOneWillConsiderIt() {
        Plan plan = allocator.plan(aCluster().node("n1", "s1", 4, "A100").account("lab-a", 100, 0)
                .job("lab-a", 1).snapshot());
        var later = new JobRequest(99, "lab-a", 1, 1, "", 0, 5, false);
        assertThat(plan.explain(later).detail()).endsWith("the next one considers it");
    }

    @Test
    void operatorsReservesAreNotTheCooperativesCapacity() {
        // 8 GPUs, 4 of them lab-a's operator reserve: the cooperative has 4, half each.
        var plan = allocator.plan(aCluster().operatedNode("n1", "s1", 8, "A100", "lab-a", 4)
                .account("lab-a", 50, 0).account("lab-b", 50, 0)
                .job("lab-b", 2).job("lab-b", 8).snapshot());
        var d = byJob(plan);
        assertThat(d.get(1L)).isInstanceOf(Decision.Admit.class);
        assertThat(d.get(2L)).isInstanceOfSatisfying(Decision.Reserve.class,
                r -> assertThat(r.detail()).startsWith("lab-b holds 2 GPUs of 2.0 entitled; "));
    }

    @Test
    void anOperatorsJobGoesOntoItsReserveFirstAndIsNotBorrowed() {
        // n2 would be the tighter fit, but lab-a's job takes its reserve on n1, beyond its 0 % share.
        var plan = allocator.plan(aCluster().operatedNode("n1", "s1", 8, "A100", "lab-a", 4)
                .node("n2", "s1", 2, "A100")
                .account("lab-a", 0, 0).account("lab-b", 100, 0)
                .job("lab-a", 2).snapshot());
        assertThat(byJob(plan).get(1L)).isInstanceOfSatisfying(Decision.Admit.class, a -> {
            assertThat(a.placements()).extracting(Placement::node).containsExactly("n1");
            assertThat(a.borrowed()).isFalse();
        });
    }

    @Test
    void anOperatorTakesItsReserveBackFromOtherAccounts() {
        // lab-b fills lab-a's node; lab-a's 4-GPU job claims the reserve: lab-b's newest attempts go.
        var plan = allocator.plan(aCluster().operatedNode("n1", "s1", 8, "A100", "lab-a", 4)
                .account("lab-a", 50, 0).account("lab-b", 50, 0)
                .running(10, "lab-b", "n1", List.of(0, 1, 2, 3), 300, 3600, true)
                .running(11, "lab-b", "n1", List.of(4, 5), 200, 3600, true)
                .running(12, "lab-b", "n1", List.of(6, 7), 100, 3600, true)
                .job("lab-a", 4).snapshot());
        assertThat(plan).filteredOn(x -> x instanceof Decision.Preempt).extracting(Decision::jobId)
                .containsExactlyInAnyOrder(11L, 12L);
        assertThat(byJob(plan).get(1L)).isInstanceOfSatisfying(Decision.Wait.class,
                w -> assertThat(w.veto()).isEqualTo(Veto.RECLAIMING));
    }

    @Test
    void anOperatorsAttemptsOnItsReserveAreNotReclaimedByOthers() {
        // lab-a runs 4 GPUs on its own reserve and borrows n2; lab-b, due 4 GPUs, takes back n2 only.
        var plan = allocator.plan(aCluster().operatedNode("n1", "s1", 4, "A100", "lab-a", 4)
                .node("n2", "s1", 4, "A100")
                .account("lab-a", 25, 1000).account("lab-b", 75, 0)
                .running(10, "lab-a", "n1", List.of(0, 1, 2, 3), 100, 3600, true)
                .running(11, "lab-a", "n2", List.of(0, 1, 2, 3), 100, 3600, true)
                .job("lab-b", 4).snapshot());
        assertThat(plan).filteredOn(x -> x instanceof Decision.Preempt).extracting(Decision::jobId)
                .containsExactly(11L);
    }

    @Test
    void aJobGoesOnlyWhereItEndsBeforeTheWindowCloses() {
        // n1 is offered for 10 more minutes only: the hour-long job goes to n2, the short one may use n1.
        var plan = allocator.plan(aCluster().nodeUntil("n1", "s1", 2, "A100", 600).node("n2", "s1", 4, "A100")
                .account("lab-a", 100, 0)
                .job(1, "lab-a", 2, 3600, true).job(2, "lab-a", 2, 300, true).job(3, "lab-a", 2, 3600, true)
                .job(4, "lab-a", 2, 3600, true).snapshot());
        var d = byJob(plan);
        assertThat(((Decision.Admit) d.get(1L)).placements().get(0).node()).isEqualTo("n2");
        assertThat(((Decision.Admit) d.get(2L)).placements().get(0).node()).isEqualTo("n1");
        assertThat(((Decision.Admit) d.get(3L)).placements().get(0).node()).isEqualTo("n2");
        assertThat(d.get(4L)).isInstanceOf(Decision.Reserve.class);
    }

    @Test
    void aShortJobUsesANodeWhoseWindowALongerJobOfTheSameShapeCouldNot() {
        var plan = allocator.plan(aCluster().nodeUntil("n1", "s1", 2, "A100", 600).node("n2", "s1", 2, "A100", 0, 1)
                .account("lab-a", 100, 0)
                .job(1, "lab-a", 2, 3600, true).job(2, "lab-a", 2, 300, true).snapshot());
        assertThat(byJob(plan).get(2L)).isInstanceOfSatisfying(Decision.Admit.class,
                a -> assertThat(a.placements().get(0).node()).isEqualTo("n1"));
    }

    @Test
    void anOperatorsJobOnItsReserveIsDecidedOnce() {
        var plan = allocator.plan(aCluster().operatedNode("n1", "s1", 8, "A100", "lab-a", 4)
                .node("n2", "s1", 2, "A100")
                .account("lab-a", 50, 0).account("lab-b", 50, 0)
                .job("lab-a", 2).snapshot());
        assertThat(plan).hasSize(1).first().isInstanceOfSatisfying(Decision.Admit.class,
                a -> assertThat(a.placements().get(0).node()).isEqualTo("n1"));
    }
}
