package coop.scheduler.sim;

import static coop.scheduler.sim.TraceKit.aTrace;
import static coop.scheduler.sim.TraceKit.shares;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;


import coop.scheduler.allocation.Allocator;
import coop.scheduler.allocation.ClusterSnapshot;
import coop.scheduler.allocation.Decision;
import coop.scheduler.allocation.JobRequest;
import coop.scheduler.allocation.RunningAttempt;
import coop.scheduler.allocation.SchedulingPolicy;
import coop.scheduler.domain.Placement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class SimulatorTest {

    private static SimulationResult replay(Trace trace, SimulatedCluster cluster, Shares shares,
                                           SimulationOptions options, SchedulingPolicy policy) {
        return new Simulator(trace, cluster, shares, options).run(policy);
    }

    @Test
    void fifoBlocksAtTheHeadOfTheQueue() {
        Trace trace = aTrace().job(0, "a", 2, 10).job(1, "a", 1, 5).job(2, "b", 1, 5).build();
        SimulationResult r = replay(trace, new SimulatedCluster(1, 2), shares("a", 50, "b", 50),
                SimulationOptions.defaults(), new FifoPolicy());

        assertThat(TraceKit.firstStarts(r)).containsEntry(1L, 0L).containsEntry(2L, 10_000L).containsEntry(3L, 10_000L);
        assertThat(r.jobs()).extracting(JobOutcome::finishedMs).containsExactly(10_000L, 15_000L, 15_000L);
        assertThat(r.endMs()).isEqualTo(15_000);
    }

    @Test
    void fifoLetsNothingPassAJobThatDoesNotFit() {
        // Job 2 wants both GPUs; job 3 would fit beside job 1 but must wait behind job 2.
        Trace trace = aTrace().job(0, "a", 1, 10).job(1, "a", 2, 5).job(2, "b", 1, 5).build();
        SimulationResult r = replay(trace, new SimulatedCluster(1, 2), shares("a", 50, "b", 50),
                SimulationOptions.defaults(), new FifoPolicy());

        assertThat(TraceKit.firstStarts(r)).containsEntry(1L, 0L).containsEntry(2L, 10_000L).containsEntry(3L, 15_000L);
    }

    @Test
    void largeJobsBecomeGangsOfWholeNodes() {
        Trace trace = aTrace().job(0, "a", 16, 10).job(0, "a", 4, 10).build();
        SimulationResult r = replay(trace, new SimulatedCluster(3, 8), shares("a", 100),
                SimulationOptions.defaults(), new FifoPolicy());

        JobOutcome gang = r.jobs().get(0);
        assertThat(gang.nodes()).isEqualTo(2);
        assertThat(gang.gpusPerNode()).isEqualTo(8);
        assertThat(r.attempts().get(0).placements()).extracting(Placement::node).containsExactly("n1", "n2");
        assertThat(TraceKit.firstStarts(r)).containsEntry(1L, 0L).containsEntry(2L, 0L);
    }

    @Test
    void aPreemptedJobKeepsItsGpusThroughTheGraceAndResumesWithItsWorkLeft() {
        // Job 1 (2 GPUs, 100 s) runs from 0; at 30 s job 2 takes it over: job 1 stops at 40 s
        // (60 s grace... here 10 s), having done 40 s. Job 2 runs 40–60; job 1 resumes at 60 for 60 s.
        Trace trace = aTrace().job(0, "a", 2, 100).job(30, "urgent", 2, 20).build();
        SimulationResult r = replay(trace, new SimulatedCluster(1, 2), shares("a", 50, "urgent", 50),
                SimulationOptions.defaults().withGrace(Duration.ofSeconds(10)), new UrgentFirst());

        assertThat(r.attempts()).extracting(AttemptRecord::jobId, AttemptRecord::startMs, AttemptRecord::endMs,
                AttemptRecord::completed).containsExactly(
                org.assertj.core.groups.Tuple.tuple(1L, 0L, 40_000L, false),
                org.assertj.core.groups.Tuple.tuple(2L, 40_000L, 60_000L, true),
                org.assertj.core.groups.Tuple.tuple(1L, 60_000L, 120_000L, true));
        JobOutcome first = r.jobs().get(0);
        assertThat(first.preemptions()).isEqualTo(1);
        assertThat(first.attempts()).isEqualTo(2);
        assertThat(first.finishedMs()).isEqualTo(120_000);
        assertThat(r.jobs().get(1).waitMs()).isEqualTo(10_000);
    }

    @Test
    void aPreemptionLosesTheWorkSinceTheLastCheckpoint() {
        // As above: job 1 (2 GPUs, 100 s) has run 40 s when it stops. Without checkpoints it starts
        // over (100 s from 60 s); saving every 30 s it keeps 30 s and runs 70 s more; saving on the
        // signal it keeps all 40 s.
        Trace trace = aTrace().job(0, "a", 2, 100).job(30, "urgent", 2, 20).build();
        long[][] expected = {{160_000, 80_000}, {130_000, 20_000}, {120_000, 0}};
        String[] modes = {"none", "every:30s", "on-signal"};
        for (int i = 0; i < modes.length; i++) {
            Checkpointing saving = Checkpointing.parse(modes[i],
                    d -> Duration.ofSeconds(Long.parseLong(d.replace("s", ""))));
            SimulationResult r = replay(trace, new SimulatedCluster(1, 2), shares("a", 50, "urgent", 50),
                    SimulationOptions.defaults().withGrace(Duration.ofSeconds(10)).withCheckpoint(saving),
                    new UrgentFirst());

            JobOutcome first = r.jobs().get(0);
            assertThat(first.finishedMs()).as(modes[i]).isEqualTo(expected[i][0]);
            assertThat(first.lostGpuMs()).as(modes[i]).isEqualTo(expected[i][1]);
            LostWork lost = LostWork.of(r);
            assertThat(lost.lostGpuHours()).as(modes[i]).isCloseTo(expected[i][1] / 3.6e6, within(1e-9));
            assertThat(lost.maxPreemptionsPerJob()).isEqualTo(1);
            // Delivered counts the lost work too: both attempts of job 1 and job 2's 20 s, on 2 GPUs.
            assertThat(lost.deliveredGpuHours()).as(modes[i])
                    .isCloseTo(2 * (40 + 20 + (expected[i][0] - 60_000) / 1000.0) / 3600, within(1e-9));
        }
        assertThatThrownBy(() -> Checkpointing.parse("hourly", d -> Duration.ZERO))
                .hasMessageContaining("--checkpoint");
    }

    @Test
    void aPreemptionThatOutlastsTheJobLetsItFinish() {
        Trace trace = aTrace().job(0, "a", 2, 35).job(30, "urgent", 2, 20).build();
        SimulationResult r = replay(trace, new SimulatedCluster(1, 2), shares("a", 50, "urgent", 50),
                SimulationOptions.defaults().withGrace(Duration.ofSeconds(60)), new UrgentFirst());

        assertThat(r.jobs().get(0).preemptions()).isZero();
        assertThat(r.jobs().get(0).finishedMs()).isEqualTo(35_000);
        assertThat(r.jobs().get(1).firstStartMs()).isEqualTo(35_000);
    }

    @Test
    void theSnapshotShowsWhatTheSimulatorKnows() {
        Trace trace = aTrace().job(0, "a", 1, 100).job(10, "b", 1, 50).build();
        List<ClusterSnapshot> seen = new ArrayList<>();
        SchedulingPolicy spy = new SchedulingPolicy() {
            private final FifoPolicy fifo = new FifoPolicy();

            @Override
            public String name() {
                return "spy";
            }

            @Override
            public List<Decision> plan(ClusterSnapshot s) {
                seen.add(s);
                return fifo.plan(s);
            }
        };
        replay(trace, new SimulatedCluster(1, 2), shares("a", 50, "b", 50),
                SimulationOptions.defaults().withWalltimeFactor(1.5), spy);

        ClusterSnapshot second = seen.get(1);
        assertThat(second.now()).isEqualTo(10_000);
        assertThat(second.pending()).singleElement().satisfies(j -> {
            assertThat(j.account()).isEqualTo("b");
            assertThat(j.walltimeSeconds()).isEqualTo(75);
            assertThat(j.preemptible()).isTrue();
        });
        assertThat(second.running()).singleElement().satisfies(a -> {
            assertThat(a.walltimeSeconds()).isEqualTo(150);
            assertThat(a.startedAt()).isZero();
            assertThat(a.terminating()).isFalse();
        });
        assertThat(second.nodes().get(0).gpus()).extracting(g -> g.free()).containsExactly(false, true);
        // a held one GPU for 10 s; no decay to speak of in 10 s of a 7-day half-life.
        assertThat(second.accounts().get("a").usedGpuSeconds()).isCloseTo(10, org.assertj.core.data.Offset.offset(1e-3));
        assertThat(second.accounts().get("b").usedGpuSeconds()).isZero();
        assertThat(second.accounts().get("a").shareBasisPoints()).isEqualTo(5000);
    }

    @Test
    void aPolicyThatPlacesOnBusyGpusIsABug() {
        Trace trace = aTrace().job(0, "a", 1, 100).job(10, "a", 1, 50).build();
        SchedulingPolicy broken = new SchedulingPolicy() {
            @Override
            public String name() {
                return "broken";
            }

            @Override
            public List<Decision> plan(ClusterSnapshot s) {
                return s.pending().stream().<Decision>map(j -> new Decision.Admit(j.id(),
                        List.of(new Placement("n1", "sim", "GPU", List.of(0))))).toList();
            }
        };
        assertThatThrownBy(() -> replay(trace, new SimulatedCluster(1, 2), shares("a", 100),
                SimulationOptions.defaults(), broken))
                .isInstanceOf(PolicyViolation.class)
                .hasMessage("broken at t=10000 ms gives job 2 GPU 0 of n1, which is not free");
    }

    @Test
    void aJobTheClusterCanNeverHoldIsRefusedUpFront() {
        Trace trace = aTrace().job(0, "a", 32, 100).build();
        assertThatThrownBy(() -> new Simulator(trace, new SimulatedCluster(2, 8), shares("a", 100),
                SimulationOptions.defaults()))
                .hasMessageContaining("needs 4 nodes of 8 GPUs; the cluster has 2");
        Trace odd = aTrace().job(0, "a", 12, 100).build();
        assertThatThrownBy(() -> new Simulator(odd, new SimulatedCluster(2, 8), shares("a", 100),
                SimulationOptions.defaults()))
                .hasMessageContaining("not whole nodes of 8");
    }

    @Test
    void untilStopsTheReplayEarly() {
        Trace trace = aTrace().job(0, "a", 1, 100).job(10, "a", 1, 1000).build();
        SimulationResult r = replay(trace, new SimulatedCluster(1, 1), shares("a", 100),
                SimulationOptions.defaults().withUntilMs(500_000), new FifoPolicy());
        assertThat(r.endMs()).isEqualTo(500_000);
        assertThat(r.jobs().get(0).finished()).isTrue();
        assertThat(r.jobs().get(1).started()).isTrue();
        assertThat(r.jobs().get(1).finished()).isFalse();
        // The attempt still running at the cut counts up to it, so shares and utilization see it.
        assertThat(r.attempts()).hasSize(2);
        AttemptRecord cut = r.attempts().get(1);
        assertThat(cut.startMs()).isEqualTo(100_000);
        assertThat(cut.endMs()).isEqualTo(500_000);
        assertThat(cut.completed()).isFalse();
    }

    @Test
    void invariantsHoldForEveryPolicyOnRandomTraces() {
        List<String> accounts = List.of("a", "b", "urgent");
        Map<String, Integer> preemptions = new HashMap<>();
        for (long seed = 1; seed <= 4; seed++) {
            Trace trace = TraceKit.random(seed, 200, accounts, new int[] {1, 1, 2, 4, 8, 16});
            SimulatedCluster cluster = new SimulatedCluster(4, 8);
            for (SchedulingPolicy policy : List.of(new Allocator(), new FifoPolicy(), new StaticPartitionPolicy(),
                    new UrgentFirst())) {
                SimulationResult r = replay(trace, cluster, shares("a", 50, "b", 30, "urgent", 20),
                        SimulationOptions.defaults().withGrace(Duration.ofSeconds(30)), policy);
                assertInvariants(trace, cluster, r);
                preemptions.merge(r.policy(), r.jobs().stream().mapToInt(JobOutcome::preemptions).sum(),
                        Integer::sum);
            }
        }
        // The work-conservation checks above are only meaningful if jobs really were preempted.
        assertThat(preemptions.get("urgent-first")).isPositive();
    }

    /** Capacity is never exceeded, no GPU is held twice, and every job's work is done exactly once. */
    static void assertInvariants(Trace trace, SimulatedCluster cluster, SimulationResult r) {
        String who = r.policy();
        assertThat(r.maxGpusInUse()).as(who).isLessThanOrEqualTo(cluster.capacity());
        assertThat(r.allFinished()).as(who + ": all finished").isTrue();

        // Sweep: GPUs in use never exceed capacity.
        List<long[]> edges = new ArrayList<>();
        for (AttemptRecord a : r.attempts()) {
            edges.add(new long[] {a.startMs(), a.gpus()});
            edges.add(new long[] {a.endMs(), -a.gpus()});
        }
        edges.sort(Comparator.<long[]>comparingLong(e -> e[0]).thenComparingLong(e -> e[1]));
        long inUse = 0;
        for (long[] e : edges) {
            inUse += e[1];
            assertThat(inUse).as(who + " at " + e[0]).isLessThanOrEqualTo(cluster.capacity());
        }

        // No GPU is held by two attempts at once.
        Map<String, List<AttemptRecord>> byGpu = new HashMap<>();
        for (AttemptRecord a : r.attempts()) {
            for (Placement p : a.placements()) {
                for (int g : p.gpuIndices()) {
                    byGpu.computeIfAbsent(p.node() + ":" + g, k -> new ArrayList<>()).add(a);
                }
            }
        }
        byGpu.forEach((gpu, list) -> {
            list.sort(Comparator.comparingLong(AttemptRecord::startMs));
            for (int i = 1; i < list.size(); i++) {
                assertThat(list.get(i).startMs()).as(who + " " + gpu).isGreaterThanOrEqualTo(list.get(i - 1).endMs());
            }
        });

        // Every job completes exactly once, with exactly its work done over its attempts, on its GPUs.
        Map<Long, TraceJob> jobs = new HashMap<>();
        trace.jobs().forEach(j -> jobs.put(j.id(), j));
        Map<Long, Long> work = new HashMap<>();
        Map<Long, Integer> completions = new HashMap<>();
        for (AttemptRecord a : r.attempts()) {
            assertThat(a.gpus()).as(who + " job " + a.jobId()).isEqualTo(jobs.get(a.jobId()).gpus());
            work.merge(a.jobId(), a.endMs() - a.startMs(), Long::sum);
            if (a.completed()) {
                completions.merge(a.jobId(), 1, Integer::sum);
            }
        }
        for (TraceJob j : trace.jobs()) {
            assertThat(completions.get(j.id())).as(who + " completions of job " + j.id()).isEqualTo(1);
            assertThat(work.get(j.id())).as(who + " work of job " + j.id()).isEqualTo(j.durationMs());
        }
        for (JobOutcome o : r.jobs()) {
            assertThat(o.firstStartMs()).isGreaterThanOrEqualTo(o.job().submitMs());
            assertThat(o.attempts()).isEqualTo(o.preemptions() + 1);
        }
    }

    /**
     * Test policy that preempts: one queue, jobs of account "urgent" first, then submit order,
     * first-fit with head-of-line blocking; an urgent job that does not fit preempts the most
     * recently started attempts of other accounts until enough GPUs are free or freeing.
     */
    static final class UrgentFirst implements SchedulingPolicy {
        @Override
        public String name() {
            return "urgent-first";
        }

        @Override
        public List<Decision> plan(ClusterSnapshot s) {
            List<JobRequest> queue = new ArrayList<>(s.pending());
            queue.sort(Comparator.comparing((JobRequest j) -> !j.account().equals("urgent"))
                    .thenComparing(FifoPolicy.SUBMIT_ORDER));
            FirstFit free = new FirstFit(s.nodes(), false);
            List<Decision> decisions = new ArrayList<>();
            for (JobRequest j : queue) {
                var placed = free.take(j);
                if (placed.isPresent()) {
                    decisions.add(new Decision.Admit(j.id(), placed.get()));
                    continue;
                }
                if (j.account().equals("urgent")) {
                    int freeGpus = 0;
                    for (var n : s.nodes()) {
                        freeGpus += (int) n.gpus().stream().filter(g -> g.free()).count();
                    }
                    int freeing = s.running().stream().filter(RunningAttempt::terminating)
                            .mapToInt(RunningAttempt::gpus).sum();
                    List<RunningAttempt> victims = s.running().stream()
                            .filter(a -> !a.account().equals("urgent") && !a.terminating())
                            .sorted(Comparator.comparingLong(RunningAttempt::startedAt).reversed()).toList();
                    for (RunningAttempt v : victims) {
                        if (freeGpus + freeing >= j.gpus()) {
                            break;
                        }
                        decisions.add(new Decision.Preempt(v.jobId(), v.attempt(), j.id(), "urgent"));
                        freeing += v.gpus();
                    }
                }
                break;
            }
            return decisions;
        }
    }
}
