package coop.scheduler.allocation;

import static org.assertj.core.api.Assertions.assertThat;

import coop.scheduler.domain.Placement;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.stream.LongStream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Invariants of the allocator over random clusters, running attempts and queues. Each case is
 * built from its seed, so a failure names the seed that reproduces it.
 */
class AllocatorPropertiesTest {
    private static final String[] MODELS = {"A100", "H100"};
    private static final String[] ACCOUNTS = {"a", "b", "c"};
    private static final long NOW = 10_000_000;
    private final Allocator allocator = new Allocator();

    static LongStream seeds() {
        return LongStream.range(0, 250);
    }

    /** A random snapshot: nodes at two sites, attempts holding some GPUs, a queue. */
    static ClusterSnapshot random(long seed, int pendingJobs) {
        SplittableRandom r = new SplittableRandom(seed);
        List<NodeView> nodes = new ArrayList<>();
        List<RunningAttempt> running = new ArrayList<>();
        long id = 1000;
        int nodeCount = 1 + r.nextInt(6);
        for (int n = 0; n < nodeCount; n++) {
            String name = "n" + n;
            String site = "s" + r.nextInt(2);
            String model = MODELS[r.nextInt(MODELS.length)];
            int size = 1 << r.nextInt(4);
            List<GpuSlot> slots = new ArrayList<>();
            List<Integer> free = new ArrayList<>();
            for (int g = 0; g < size; g++) {
                free.add(g);
            }
            Set<Integer> busy = new HashSet<>();
            while (!free.isEmpty() && r.nextInt(3) > 0) {
                int take = 1 + r.nextInt(free.size());
                List<Integer> gpus = new ArrayList<>(free.subList(0, take));
                free.subList(0, take).clear();
                busy.addAll(gpus);
                running.add(new RunningAttempt(id++, 1, ACCOUNTS[r.nextInt(3)],
                        List.of(new Placement(name, site, model, gpus)), NOW - r.nextInt(1000) * 1000L,
                        60 + r.nextInt(3600), r.nextBoolean(), r.nextInt(5) > 0, r.nextInt(8) == 0));
            }
            for (int g = 0; g < size; g++) {
                slots.add(new GpuSlot(g, model, !busy.contains(g)));
            }
            // Some nodes keep a reserve for their operator's account, some close their window soon.
            boolean operated = r.nextInt(4) == 0;
            nodes.add(new NodeView(name, site, slots, operated ? ACCOUNTS[r.nextInt(3)] : "",
                    operated ? r.nextInt(size + 1) : 0, r.nextInt(10) > 0, r.nextInt(10) == 0,
                    r.nextInt(5) == 0 ? NOW + r.nextInt(7200) * 1000L : Long.MAX_VALUE));
        }
        List<JobRequest> pending = new ArrayList<>();
        for (int j = 0; j < pendingJobs; j++) {
            int nodesWanted = r.nextInt(4) == 0 ? 2 : 1;
            List<String> models = r.nextBoolean() ? List.of() : List.of(MODELS[r.nextInt(MODELS.length)]);
            pending.add(new JobRequest(j + 1, ACCOUNTS[r.nextInt(3)], 1 << r.nextInt(3), nodesWanted, models,
                    r.nextInt(3), NOW - r.nextInt(100_000), r.nextInt(4) == 0, 30 + r.nextInt(7200),
                    r.nextInt(5) > 0));
        }
        int[] shares = {r.nextInt(10_001), 0, 0};
        shares[1] = r.nextInt(10_001 - shares[0]);
        shares[2] = 10_000 - shares[0] - shares[1];
        Map<String, AccountStanding> accounts = new HashMap<>();
        for (int a = 0; a < 3; a++) {
            accounts.put(ACCOUNTS[a], new AccountStanding(ACCOUNTS[a], shares[a], r.nextInt(100_000)));
        }
        return new ClusterSnapshot(NOW, nodes, pending, running, accounts);
    }

    @ParameterizedTest(name = "seed {0}")
    @MethodSource("seeds")
    void admissionsUseOnlyFreeGpusOfOfferedNodesAndEachGpuOnce(long seed) {
        ClusterSnapshot s = random(seed, 12);
        Map<String, NodeView> nodes = new HashMap<>();
        s.nodes().forEach(n -> nodes.put(n.name(), n));
        Set<String> given = new HashSet<>();
        for (Decision d : allocator.plan(s)) {
            if (d instanceof Decision.Admit a) {
                for (Placement p : a.placements()) {
                    NodeView n = nodes.get(p.node());
                    assertThat(n.schedulable()).as("seed %d: placed on unoffered or draining %s", seed, p.node()).isTrue();
                    for (int g : p.gpuIndices()) {
                        GpuSlot slot = n.gpus().stream().filter(x -> x.index() == g).findFirst().orElseThrow();
                        assertThat(slot.free()).as("seed %d: busy GPU %s/%d given", seed, p.node(), g).isTrue();
                        assertThat(slot.model()).isEqualTo(p.gpuModel());
                        assertThat(given.add(p.node() + "/" + g)).as("seed %d: GPU %s/%d twice", seed, p.node(), g)
                                .isTrue();
                    }
                }
            }
        }
    }

    @ParameterizedTest(name = "seed {0}")
    @MethodSource("seeds")
    void gangsAreAllOrNothingOnDistinctNodesOfOneSiteAndModel(long seed) {
        ClusterSnapshot s = random(seed, 12);
        Map<Long, JobRequest> jobs = new HashMap<>();
        s.pending().forEach(j -> jobs.put(j.id(), j));
        for (Decision d : allocator.plan(s)) {
            if (d instanceof Decision.Admit a) {
                JobRequest j = jobs.get(a.jobId());
                assertThat(a.placements()).as("seed %d", seed).hasSize(j.nodes());
                assertThat(a.placements().stream().map(Placement::node).distinct().count()).isEqualTo(j.nodes());
                assertThat(a.placements()).allSatisfy(p -> {
                    assertThat(p.gpuIndices()).hasSize(j.gpusPerNode());
                    assertThat(j.accepts(p.gpuModel())).isTrue();
                });
                assertThat(a.placements().stream().map(Placement::gpuModel).distinct().count()).isEqualTo(1);
                if (!j.crossSite()) {
                    assertThat(a.placements().stream().map(Placement::site).distinct().count()).isEqualTo(1);
                }
            }
        }
    }

    @ParameterizedTest(name = "seed {0}")
    @MethodSource("seeds")
    void aBackfilledJobNeverDelaysTheReservation(long seed) {
        ClusterSnapshot s = random(seed, 16);
        Map<Long, JobRequest> jobs = new HashMap<>();
        s.pending().forEach(j -> jobs.put(j.id(), j));
        List<Decision> plan = allocator.plan(s);
        Decision.Reserve reserve = null;
        Map<String, Integer> takenAfter = new HashMap<>();
        Set<Long> preempted = new HashSet<>();
        for (Decision d : plan) {
            if (d instanceof Decision.Preempt p) {
                preempted.add(p.jobId());
            }
            if (d instanceof Decision.Reserve r) {
                reserve = r;
            } else if (reserve != null && d instanceof Decision.Admit a
                    && NOW + jobs.get(a.jobId()).walltimeSeconds() * 1000 > reserve.startAt()) {
                for (Placement p : a.placements()) {
                    takenAfter.merge(p.node(), p.gpuIndices().size(), Integer::sum);
                }
            }
        }
        if (reserve == null || reserve.startAt() == Long.MAX_VALUE) {
            return;
        }
        JobRequest held = jobs.get(reserve.jobId());
        for (String node : reserve.nodes()) {
            NodeView n = s.nodes().stream().filter(v -> v.name().equals(node)).findFirst().orElseThrow();
            int freeAtStart = (int) n.gpus().stream().filter(GpuSlot::free).filter(g -> held.accepts(g.model())).count();
            for (RunningAttempt a : s.running()) {
                if (a.terminating() || preempted.contains(a.jobId()) || a.endsBy() <= reserve.startAt()) {
                    freeAtStart += a.placements().stream().filter(p -> p.node().equals(node))
                            .mapToInt(p -> p.gpuIndices().size()).sum();
                }
            }
            // Admissions before the reservation in the cycle may have used GPUs too (until their
            // walltimes end, which the reservation counts on); only later ones are backfill.
            int before = 0;
            for (Decision d : plan) {
                if (d == reserve) {
                    break;
                }
                if (d instanceof Decision.Admit a && NOW + jobs.get(a.jobId()).walltimeSeconds() * 1000 > reserve.startAt()) {
                    before += a.placements().stream().filter(p -> p.node().equals(node))
                            .mapToInt(p -> p.gpuIndices().size()).sum();
                }
            }
            int left = freeAtStart - before - takenAfter.getOrDefault(node, 0);
            assertThat(left).as("seed %d: GPUs left on %s for job %d at its reserved start", seed, node, held.id())
                    .isGreaterThanOrEqualTo(Math.min(held.gpusPerNode(), freeAtStart - before));
        }
    }

    @ParameterizedTest(name = "seed {0}")
    @MethodSource("seeds")
    void aDueJobIsNeverLeftWaitingWhileBorrowersHoldTheGpusItNeeds(long seed) {
        ClusterSnapshot base = random(seed, 1);
        JobRequest job = base.pending().get(0);
        ClusterSnapshot s = new ClusterSnapshot(base.now(), base.nodes(), List.of(new JobRequest(job.id(), job.account(),
                job.gpusPerNode(), 1, job.models(), 0, job.submittedAt(), false, job.walltimeSeconds(), true)),
                base.running(), base.accounts());
        JobRequest j = s.pending().get(0);
        Map<String, Integer> held = new HashMap<>();
        s.running().forEach(a -> held.merge(a.account(), a.gpus(), Integer::sum));
        // An operator's use of its own reserve is not the cooperative's, nor is the reserve.
        Map<String, NodeView> byName = new HashMap<>();
        s.nodes().forEach(n -> byName.put(n.name(), n));
        for (NodeView n : s.nodes()) {
            if (n.schedulable() && n.reservedGpus() > 0) {
                int own = s.running().stream().filter(a -> a.account().equals(n.operatorAccount()))
                        .flatMap(a -> a.placements().stream()).filter(p -> p.node().equals(n.name()))
                        .mapToInt(p -> p.gpuIndices().size()).sum();
                held.merge(n.operatorAccount(), -Math.min(own, n.reservedGpus()), Integer::sum);
            }
        }
        double capacity = s.nodes().stream().filter(NodeView::schedulable)
                .mapToInt(n -> n.gpus().size() - n.reservedGpus()).sum();
        // Borrowing is judged against each account's water-filling level for the current demand.
        Map<String, Double> demand = new HashMap<>();
        held.forEach((a, g) -> demand.merge(a, (double) g, Double::sum));
        demand.merge(j.account(), (double) j.gpus(), Double::sum);
        Map<String, Double> fair = FairLevels.waterFill(capacity, demand, s.accounts());
        Map<String, Double> entitled = new HashMap<>();
        s.accounts().forEach((a, st) -> entitled.put(a, st.shareBasisPoints() / 10_000.0 * capacity));
        // Only the entitlement rule: a due job by the voted share alone, the guarantee the issue names.
        boolean due = held.getOrDefault(j.account(), 0) + j.gpus() / 2.0 <= entitled.get(j.account());
        boolean reclaimableSomewhere = false;
        for (NodeView n : s.nodes()) {
            if (!n.schedulable() || !n.fitsWindow(s.now(), j.walltimeSeconds())) {
                continue;
            }
            for (String model : MODELS) {
                if (!j.accepts(model)) {
                    continue;
                }
                int avail = (int) n.gpus().stream().filter(g -> g.free() && g.model().equals(model)).count();
                for (RunningAttempt a : s.running()) {
                    boolean own = n.reservedGpus() > 0 && a.account().equals(n.operatorAccount());
                    boolean borrowed = a.preemptible() && !a.terminating() && !a.account().equals(j.account()) && !own
                            && held.getOrDefault(a.account(), 0) - a.gpus() / 2.0 > fair.getOrDefault(a.account(), 0.0)
                            && !(held.get(a.account()) == a.gpus() && behind(s, a.account()));
                    if (borrowed || a.terminating()) {
                        avail += a.placements().stream().filter(p -> p.node().equals(n.name())
                                && p.gpuModel().equals(model)).mapToInt(p -> p.gpuIndices().size()).sum();
                    }
                }
                reclaimableSomewhere |= avail >= j.gpusPerNode();
            }
        }
        Decision d = allocator.plan(s).stream().filter(x -> x.jobId() == j.id()).findFirst().orElseThrow();
        if (due && reclaimableSomewhere) {
            assertThat(d).as("seed %d: due job left waiting: %s", seed, d).satisfiesAnyOf(
                    x -> assertThat(x).isInstanceOf(Decision.Admit.class),
                    x -> assertThat(x).isInstanceOfSatisfying(Decision.Wait.class,
                            w -> assertThat(w.veto()).isEqualTo(Veto.RECLAIMING)));
        }
    }

    private static boolean behind(ClusterSnapshot s, String account) {
        double total = s.accounts().values().stream().mapToDouble(AccountStanding::usedGpuSeconds).sum();
        AccountStanding st = s.accounts().get(account);
        return st.shareBasisPoints() > 0
                && (total <= 0 || st.usedGpuSeconds() / total < st.shareBasisPoints() / 10_000.0);
    }

    @ParameterizedTest(name = "seed {0}")
    @MethodSource("seeds")
    void theSameSnapshotAlwaysGivesTheSamePlan(long seed) {
        ClusterSnapshot s = random(seed, 12);
        assertThat(allocator.plan(s)).isEqualTo(allocator.plan(s));
    }

    @ParameterizedTest(name = "seed {0}")
    @MethodSource("seeds")
    void queuesHandedOverGiveTheSamePlanAsThePendingList(long seed) {
        ClusterSnapshot s = random(seed, 30);
        Map<String, List<JobRequest>> grouped = new java.util.TreeMap<>();
        s.pending().forEach(j -> grouped.computeIfAbsent(j.account(), a -> new ArrayList<>()).add(j));
        List<AccountQueue> queues = new ArrayList<>();
        grouped.forEach((a, jobs) -> {
            jobs.sort(JobRequest.QUEUE_ORDER);
            queues.add(new AccountQueue(a, jobs, jobs.stream().mapToLong(JobRequest::gpus).sum(),
                    jobs.stream().mapToInt(JobRequest::gpus).min().orElseThrow()));
        });
        ClusterSnapshot withQueues = new ClusterSnapshot(s.now(), s.nodes(), s.pending(), s.running(), s.accounts(),
                queues);
        assertThat(List.copyOf(allocator.plan(withQueues))).as("seed %d", seed)
                .isEqualTo(List.copyOf(allocator.plan(s)));
    }

    @ParameterizedTest(name = "seed {0}")
    @MethodSource("seeds")
    void everyPendingJobGetsExactlyOneDecision(long seed) {
        ClusterSnapshot s = random(seed, 30);
        List<Long> decided = allocator.plan(s).stream().filter(d -> !(d instanceof Decision.Preempt))
                .map(Decision::jobId).toList();
        assertThat(decided).as("seed %d", seed).doesNotHaveDuplicates()
                .containsExactlyInAnyOrderElementsOf(s.pending().stream().map(JobRequest::id).toList());
    }
}
