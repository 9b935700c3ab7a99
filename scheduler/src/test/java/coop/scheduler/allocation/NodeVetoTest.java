package coop.scheduler.allocation;

import static coop.scheduler.allocation.ClusterBuilder.aCluster;
import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;

/** A waiting job's why-pending counts the nodes it met by why each could not take it. */
class NodeVetoTest {
    private final Allocator allocator = new Allocator();

    private static Decision.Wait waitOf(Plan plan, long jobId) {
        return plan.stream().filter(d -> d.jobId() == jobId && d instanceof Decision.Wait)
                .map(Decision.Wait.class::cast).findFirst().orElseThrow();
    }

    @Test
    void drainingTooSmallAndBusyNodesAreCountedInFilterOrder() {
        ClusterBuilder c = aCluster().account("lab-a", 100, 0);
        for (int i = 1; i <= 5; i++) {
            c.node("d" + i, "s1", 8, "A100", true, true);
        }
        for (int i = 1; i <= 3; i++) {
            c.node("s" + i, "s1", 2, "A100");
        }
        for (int i = 1; i <= 3; i++) {
            c.node("b" + i, "s1", 8, "A100", 0, 1, 2, 3, 4, 5, 6, 7);
        }
        // The first job is reserved for; the second waits behind it, explained as of the cycle's end.
        Plan plan = allocator.plan(c.job("lab-a", 4).job("lab-a", 4).snapshot());
        assertThat(plan.get(0)).isInstanceOf(Decision.Reserve.class);
        Decision.Wait w = waitOf(plan, 2);
        assertThat(w.veto()).isEqualTo(Veto.TOO_FEW_FREE_GPUS);
        assertThat(w.detail()).isEqualTo("lab-a holds 0 GPUs of 30.0 entitled; "
                + "11 nodes: 5 draining, 3 too small, 3 busy; needs 4 GPUs; most idle: 2 on s1");
    }

    @Test
    void nodesWithOtherGpuModelsAreCountedApart() {
        Plan plan = allocator.plan(aCluster().account("lab-a", 100, 0)
                .node("h1", "s1", 4, "H100").node("h2", "s1", 4, "H100").node("a1", "s1", 4, "A100", 0, 1, 2, 3)
                .job("lab-a", 4, 1, "A100", 0).job("lab-a", 4, 1, "A100", 0).snapshot());
        assertThat(waitOf(plan, 2).detail()).contains("; 3 nodes: 2 with other GPUs, 1 busy; needs 4 A100 GPUs");
    }

    @Test
    void nodesOutOfTheirWindowAreCountedWhetherClosedOrClosingBeforeTheWalltimeEnds() {
        // Jobs run an hour; w1's window closes in a minute, off's is closed.
        Plan plan = allocator.plan(aCluster().account("lab-a", 100, 0)
                .node("off", "s1", 8, "A100", false, false).nodeUntil("w1", "s1", 8, "A100", 60)
                .node("b1", "s1", 8, "A100", 0, 1, 2, 3, 4, 5, 6, 7)
                .job("lab-a", 4).job("lab-a", 4).snapshot());
        assertThat(waitOf(plan, 2).detail()).contains("; 3 nodes: 2 outside their window, 1 busy; ");
    }

    @Test
    void freeGpusHeldForTheJobFirstInLineCountAsReserved() {
        // lab-b's attempt ends in 100 s; job 1 gets all of n1 then, and job 2 would run past that.
        Plan plan = allocator.plan(aCluster().account("lab-a", 50, 0).account("lab-b", 50, 0)
                .node("n1", "s1", 8, "A100").node("d1", "s1", 8, "A100", true, true)
                .running(9, "lab-b", "n1", List.of(0, 1, 2, 3, 4, 5), 0, 100, false)
                .job(1, "lab-a", 8, 3600, true).job(2, "lab-a", 2, 3600, true).snapshot());
        assertThat(plan.get(0)).isInstanceOfSatisfying(Decision.Reserve.class,
                r -> assertThat(r.jobId()).isEqualTo(1));
        Decision.Wait w = waitOf(plan, 2);
        assertThat(w.veto()).isEqualTo(Veto.RESERVED_FOR_EARLIER_JOB);
        assertThat(w.detail()).contains("; 2 nodes: 1 draining, 1 reserved; the GPUs it fits on are reserved for job 1");
    }

    @Test
    void aJobNoOfferedNodeFitsNamesTheNodesItMet() {
        Plan plan = allocator.plan(aCluster().account("lab-a", 100, 0)
                .node("d1", "s1", 8, "A100", true, true).node("d2", "s1", 8, "A100", true, true)
                .node("small", "s1", 2, "A100").job("lab-a", 4).snapshot());
        Decision.Wait w = waitOf(plan, 1);
        assertThat(w.veto()).isEqualTo(Veto.NO_NODE_FITS);
        assertThat(w.detail()).endsWith("; 3 nodes: 2 draining, 1 too small; no offered node has 4 GPUs of one model");
    }

    @Test
    void withNoNodeOfferedEveryJobIsToldWhy() {
        Plan plan = allocator.plan(aCluster().account("lab-a", 100, 0)
                .node("d1", "s1", 8, "A100", true, true).node("off", "s1", 8, "A100", false, false)
                .job("lab-a", 4).snapshot());
        assertThat(plan.taken()).isEmpty();
        assertThat(waitOf(plan, 1).detail())
                .endsWith("; 2 nodes: 1 draining, 1 outside their window; no offered node has 4 GPUs of one model");
    }

    @Test
    void aSingleNodeIsNotPlural() {
        Plan plan = allocator.plan(aCluster().account("lab-a", 100, 0).node("small", "s1", 2, "A100")
                .job("lab-a", 4).snapshot());
        assertThat(waitOf(plan, 1).detail()).contains("; 1 node: 1 too small; ");
    }

    @Test
    void aGangOnANodeWithTwoModelsIsToldOneModelPerRankNamingTheNode() {
        // The README's gang on 4×A100 and 2×A100 + 2×L4: 4 GPUs on n2, but not 4 of one model.
        Plan plan = allocator.plan(aCluster().account("lab-a", 100, 0)
                .node("n1", "s1", 4, "A100").mixedNode("n2", "s1", "A100", 2, "L4", 2)
                .job("lab-a", 4, 2, "", 0).snapshot());
        Decision.Wait w = waitOf(plan, 1);
        assertThat(w.veto()).isEqualTo(Veto.NO_NODE_FITS);
        assertThat(w.detail()).endsWith("; 2 nodes: 1 with too few of one model, 1 with room; "
                + "one GPU model per rank: n2 has 2×A100 + 2×L4; no site has 2 offered nodes with 4 GPUs of one "
                + "model each");
    }

    @Test
    void aNodeTooSmallEvenWithAllItsModelsIsTooSmallNotMixed() {
        Plan plan = allocator.plan(aCluster().account("lab-a", 100, 0)
                .mixedNode("n2", "s1", "A100", 1, "L4", 1).job("lab-a", 4).snapshot());
        assertThat(waitOf(plan, 1).detail()).contains("; 1 node: 1 too small; no offered node has 4 GPUs")
                .doesNotContain("one GPU model per rank");
    }

    @Test
    void aJobOfOneModelIsNotToldOfTheOtherModelsOfANode() {
        Plan plan = allocator.plan(aCluster().account("lab-a", 100, 0)
                .mixedNode("n2", "s1", "A100", 2, "L4", 2).job("lab-a", 4, 1, "A100", 0).snapshot());
        assertThat(waitOf(plan, 1).detail()).endsWith("; 1 node: 1 too small; no offered node has 4 A100 GPUs");
    }

    @Test
    void countsAreInFilterOrderWithNodesThatHaveRoomLast() {
        NodeVetoes v = new NodeVetoes();
        v.add(NodeVeto.BUSY);
        v.add(null);
        v.add(NodeVeto.DRAINING);
        v.add(NodeVeto.MODEL_MISMATCH);
        assertThat(v.count(NodeVeto.BUSY)).isEqualTo(1);
        assertThat(v.nodes()).isEqualTo(4);
        assertThat(v).hasToString("4 nodes: 1 draining, 1 with other GPUs, 1 busy, 1 with room");
        assertThat(new NodeVetoes()).hasToString("");
    }
}
