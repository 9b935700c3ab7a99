package coop.bench.scheduler;

import coop.scheduler.allocation.AccountQueue;
import coop.scheduler.allocation.AccountStanding;
import coop.scheduler.allocation.Allocator;
import coop.scheduler.allocation.ClusterSnapshot;
import coop.scheduler.allocation.GpuSlot;
import coop.scheduler.allocation.JobRequest;
import coop.scheduler.allocation.NodeView;
import coop.scheduler.allocation.RunningAttempt;
import coop.scheduler.domain.Placement;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.TreeMap;
import java.util.function.IntConsumer;

/**
 * Latency of one allocation cycle at cluster scale: after one event in a steady, full cluster
 * (one attempt ended; every account holds its share, nothing is borrowed), a full cycle on that
 * cluster from scratch, and optionally a cycle on a state where every node is busy with attempts
 * of random accounts (much borrowing, so many reclaims). Synthetic and seeded: the same sizes
 * give the same snapshots.
 */
public final class ScheduleBench {
    /**
     * Result in milliseconds, and the heap in use after building the snapshots. {@code churnMs}
     * is negative when the churn case was not run. The CPU figures are the timed cycles' CPU time
     * on the planning thread: unlike wall time, they do not grow when other work shares the cores.
     */
    public record Result(int nodes, int pending, double incrementalP50Ms, double incrementalP99Ms, double fullMs,
                         double churnMs, double heapMb, int cycles, double cpuP50Ms, double cpuP99Ms) {
    }

    private static final int GPUS_PER_NODE = 8;
    static final int WARM_UP_CYCLES = 30;
    private static final int ACCOUNTS = 20;
    private static final long NOW = 1_000_000_000_000L;
    /** One String per account, shared by its jobs, as the event loop's pending queue keeps them. */
    private static final String[] ACCOUNT_NAMES = new String[ACCOUNTS];

    static {
        for (int a = 0; a < ACCOUNTS; a++) {
            ACCOUNT_NAMES[a] = "acct-" + a;
        }
    }

    private ScheduleBench() {
    }

    public static Result run(int nodes, int pending, int cycles, long seed, boolean churn, IntConsumer progress) {
        Allocator allocator = new Allocator();
        ClusterSnapshot steady = steady(nodes, pending, seed);
        Runtime rt = Runtime.getRuntime();
        double heapMb = (rt.totalMemory() - rt.freeMemory()) / (1024.0 * 1024.0);
        SplittableRandom r = new SplittableRandom(seed);
        // Warm-up, so the JIT has compiled the allocator before anything is timed, as it has in a
        // scheduler that has been running for a minute (a cycle every 250 ms).
        for (int i = 0; i < WARM_UP_CYCLES; i++) {
            allocator.plan(afterOneEvent(steady, r));
        }
        ThreadMXBean threads = ManagementFactory.getThreadMXBean();
        double[] ms = new double[cycles];
        double[] cpuMs = new double[cycles];
        for (int i = 0; i < cycles; i++) {
            ClusterSnapshot s = afterOneEvent(steady, r);
            long cpu = threads.getCurrentThreadCpuTime();
            long t = System.nanoTime();
            allocator.plan(s);
            ms[i] = (System.nanoTime() - t) / 1e6;
            cpuMs[i] = (threads.getCurrentThreadCpuTime() - cpu) / 1e6;
            progress.accept(i + 1);
        }
        // A full rebuild: the allocator groups and orders the whole pending list itself.
        ClusterSnapshot rebuilt = new ClusterSnapshot(steady.now(), steady.nodes(), steady.pending(), steady.running(),
                steady.accounts());
        long t = System.nanoTime();
        allocator.plan(rebuilt);
        double full = (System.nanoTime() - t) / 1e6;
        double churnMs = -1;
        if (churn) {
            ClusterSnapshot busy = churning(nodes, pending, seed);
            t = System.nanoTime();
            allocator.plan(busy);
            churnMs = (System.nanoTime() - t) / 1e6;
        }
        Arrays.sort(ms);
        Arrays.sort(cpuMs);
        return new Result(nodes, pending, percentile(ms, 0.50), percentile(ms, 0.99), full, churnMs, heapMb, cycles,
                percentile(cpuMs, 0.50), percentile(cpuMs, 0.99));
    }

    static double percentile(double[] sorted, double q) {
        int i = (int) Math.ceil(q * sorted.length) - 1;
        return sorted[Math.max(0, Math.min(sorted.length - 1, i))];
    }

    private static Map<String, AccountStanding> accounts(SplittableRandom r) {
        Map<String, AccountStanding> out = new HashMap<>();
        for (int a = 0; a < ACCOUNTS; a++) {
            out.put("acct-" + a, new AccountStanding("acct-" + a, 10_000 / ACCOUNTS, 1_000_000 + r.nextInt(100_000)));
        }
        return out;
    }

    /** Random jobs, listed in queue order, as the event loop keeps its pending queue across cycles. */
    private static List<JobRequest> queue(int pending, SplittableRandom r) {
        List<JobRequest> jobs = new ArrayList<>(pending);
        for (int j = 0; j < pending; j++) {
            jobs.add(new JobRequest(j + 1, ACCOUNT_NAMES[r.nextInt(ACCOUNTS)], 1 << r.nextInt(4), r.nextInt(10) == 0 ? 2 : 1,
                    r.nextBoolean() ? List.of() : List.of(r.nextBoolean() ? "A100" : "H100"), 0,
                    NOW - r.nextInt(1_000_000), false, 600 + r.nextInt(86_400), true));
        }
        jobs.sort(JobRequest.QUEUE_ORDER);
        return jobs;
    }

    /** Every node full; node n belongs to account n mod ACCOUNTS, so each holds exactly its share. */
    static ClusterSnapshot steady(int nodes, int pending, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        List<NodeView> views = new ArrayList<>(nodes);
        List<RunningAttempt> running = new ArrayList<>(nodes * 2);
        long id = 1L << 40;
        for (int n = 0; n < nodes; n++) {
            NodeView node = busyNode(n);
            views.add(node);
            String account = "acct-" + (n % ACCOUNTS);
            for (int half = 0; half < 2; half++) {
                List<Integer> idx = half == 0 ? List.of(0, 1, 2, 3) : List.of(4, 5, 6, 7);
                running.add(new RunningAttempt(id++, 1, account, List.of(placement(node, idx)),
                        NOW - r.nextInt(3_600_000), 3600 + r.nextInt(86_400), false, true, false));
            }
        }
        List<JobRequest> jobs = queue(pending, r);
        return new ClusterSnapshot(NOW, views, jobs, running, accounts(r), queues(jobs));
    }

    /** The pending jobs grouped by account in queue order, as the event loop keeps them. */
    static List<AccountQueue> queues(List<JobRequest> jobs) {
        Map<String, List<JobRequest>> byAccount = new TreeMap<>();
        for (JobRequest j : jobs) {
            byAccount.computeIfAbsent(j.account(), a -> new ArrayList<>()).add(j);
        }
        List<AccountQueue> out = new ArrayList<>();
        byAccount.forEach((a, list) -> out.add(new AccountQueue(a, list, list.stream().mapToLong(JobRequest::gpus).sum(),
                list.stream().mapToInt(JobRequest::gpus).min().orElseThrow())));
        return out;
    }

    /** Node n of the synthetic cluster with every GPU taken: ten sites, A100 and H100 nodes in turn. */
    private static NodeView busyNode(int n) {
        String model = n % 2 == 0 ? "A100" : "H100";
        List<GpuSlot> gpus = new ArrayList<>(GPUS_PER_NODE);
        for (int g = 0; g < GPUS_PER_NODE; g++) {
            gpus.add(new GpuSlot(g, model, false));
        }
        return new NodeView("n" + n, "s" + (n % 10), gpus);
    }

    private static Placement placement(NodeView node, List<Integer> gpuIndices) {
        return new Placement(node.name(), node.site(), node.gpus().get(0).model(), gpuIndices);
    }

    /** One attempt of the steady cluster has just ended: its 4 GPUs are free. */
    static ClusterSnapshot afterOneEvent(ClusterSnapshot steady, SplittableRandom r) {
        int k = r.nextInt(steady.running().size());
        RunningAttempt ended = steady.running().get(k);
        List<RunningAttempt> running = new ArrayList<>(steady.running());
        running.remove(k);
        Placement p = ended.placements().get(0);
        List<NodeView> nodes = new ArrayList<>(steady.nodes());
        for (int i = 0; i < nodes.size(); i++) {
            NodeView n = nodes.get(i);
            if (n.name().equals(p.node())) {
                List<GpuSlot> gpus = new ArrayList<>();
                for (GpuSlot g : n.gpus()) {
                    gpus.add(new GpuSlot(g.index(), g.model(), p.gpuIndices().contains(g.index())));
                }
                nodes.set(i, new NodeView(n.name(), n.site(), gpus));
                break;
            }
        }
        // The pending jobs did not change, so neither did the event loop's per-account queues.
        return new ClusterSnapshot(NOW + 1000, nodes, steady.pending(), running, steady.accounts(), steady.queues());
    }

    /** Every node busy with attempts of random sizes and accounts: much of it borrowed. */
    static ClusterSnapshot churning(int nodes, int pending, long seed) {
        SplittableRandom r = new SplittableRandom(seed + 1);
        List<NodeView> views = new ArrayList<>(nodes);
        List<RunningAttempt> running = new ArrayList<>();
        long id = 1L << 40;
        for (int n = 0; n < nodes; n++) {
            NodeView node = busyNode(n);
            int k = 0;
            while (k < GPUS_PER_NODE) {
                int size = Math.min(GPUS_PER_NODE - k, 1 << r.nextInt(4));
                List<Integer> idx = new ArrayList<>();
                for (int x = 0; x < size; x++) {
                    idx.add(k + x);
                }
                running.add(new RunningAttempt(id++, 1, "acct-" + r.nextInt(ACCOUNTS), List.of(placement(node, idx)),
                        NOW - r.nextInt(3_600_000), 3600 + r.nextInt(86_400), false, true, false));
                k += size;
            }
            views.add(node);
        }
        return new ClusterSnapshot(NOW, views, queue(pending, r), running, accounts(r));
    }
}
