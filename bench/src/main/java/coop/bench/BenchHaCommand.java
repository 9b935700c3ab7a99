package coop.bench;

import coop.cli.CliException;
import coop.cli.Client;
import coop.cli.Identity;
import coop.cli.Main;
import coop.scheduler.audit.LedgerVerifier;
import coop.scheduler.domain.Job;
import coop.scheduler.ledger.Ledger;
import coop.scheduler.store.Store;
import coop.v1.SubmitRequest;
import io.grpc.StatusRuntimeException;
import java.io.File;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Stream;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code coop bench ha}: a replicated cooperative under faults, on this machine. Replicas run as
 * {@code coop scheduler --replica} processes on loopback; clients holding every replica's address
 * submit all along. Each round one fault: the leader killed with kill -9 (then restarted), the
 * leader paused with SIGSTOP past an election (then resumed), or a follower restarted from an
 * empty copy of the founding folder. After the rounds every replica must hold every acknowledged
 * job once and a ledger verifying to the same head. A single-node scheduler in the same run gives
 * the submit rate to compare with.
 */
@Command(name = "ha", mixinStandardHelpOptions = true,
        description = {"Run a replicated cooperative (replica processes on loopback) under client load, and fault it: "
                + "kill -9 the leader, pause it with SIGSTOP past an election, restart a follower from an empty "
                + "folder, round after round. Checks that every replica holds every acknowledged job once and a "
                + "ledger verifying to one head.",
                "Prints failovers, failover_p50_s, failover_max_s, acked_lost, duplicates, "
                        + "replicated_submits_per_s and single_submits_per_s (a single scheduler, same clients, same run)."})
final class BenchHaCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Option(names = "--replicas", defaultValue = "3", description = "Replicas, 3 or 5 (default: ${DEFAULT-VALUE}).")
    int replicas;

    @Option(names = "--rounds", defaultValue = "6",
            description = "Faults, taking turns: kill -9 of the leader, SIGSTOP of the leader, a follower from an "
                    + "empty folder (default: ${DEFAULT-VALUE}).")
    int rounds;

    @Option(names = "--clients", defaultValue = "4", description = "Submitting clients (default: ${DEFAULT-VALUE}).")
    int clients;

    @Option(names = "--rate-seconds", defaultValue = "5",
            description = "Seconds each submit rate is measured over (default: ${DEFAULT-VALUE}).")
    int rateSeconds;

    @Mixin
    BenchOptions options;

    private final List<Process> started = new ArrayList<>();
    private Path dir;

    @Override
    public Integer call() throws Exception {
        if (replicas != 3 && replicas != 5) {
            throw new CliException("--replicas: 3 or 5");
        }
        if (rounds < 1 || clients < 1 || rateSeconds < 1) {
            throw new CliException("--rounds, --clients and --rate-seconds: at least 1");
        }
        dir = Files.createTempDirectory("coop-bench-ha");
        try {
            double single = singleRate();
            return replicated(single);
        } finally {
            for (Process p : started) {
                p.destroy();
            }
            for (Process p : started) {
                if (!p.waitFor(10, TimeUnit.SECONDS)) {
                    p.destroyForcibly();
                }
            }
            ThrowawayFolder.delete(dir);
        }
    }

    /** Durable submits per second on one scheduler process, with the same clients. */
    private double singleRate() throws Exception {
        Path data = dir.resolve("single");
        String port = "127.0.0.1:" + freePort();
        run("init", "--data", data.toString(), "--founders", "bench", "--accounts", "lab-a", "--scheduler", port);
        Path portFile = dir.resolve("single.port");
        start("single", "scheduler", "--data", data.toString(), "--listen", port, "--port-file", portFile.toString());
        awaitFile(portFile);
        Identity me = Identity.read(data.resolve("identities/bench.json"));
        try (Load load = new Load(me.scheduler(), me, clients)) {
            return load.rate(rateSeconds);
        }
    }

    private int replicated(double single) throws Exception {
        List<String> raft = new ArrayList<>();
        List<String> addresses = new ArrayList<>();
        for (int i = 0; i < replicas; i++) {
            raft.add("r" + i + "=127.0.0.1:" + freePort());
            addresses.add("127.0.0.1:" + freePort());
        }
        Path founding = dir.resolve("founding");
        run("init", "--data", founding.toString(), "--founders", "bench", "--accounts", "lab-a", "--scheduler",
                String.join(",", addresses), "--replicas", String.join(",", raft));
        Process[] procs = new Process[replicas];
        Path[] portFiles = new Path[replicas];
        for (int i = 0; i < replicas; i++) {
            copy(founding, data(i));
            procs[i] = replica(i, addresses.get(i), portFiles);
        }
        Identity me = Identity.read(founding.resolve("identities/bench.json"));
        List<Double> failovers = new ArrayList<>();
        List<Double> pauseElections = new ArrayList<>();
        double rate;
        Map<Long, String> acked;
        try (Load load = new Load(me.scheduler(), me, clients)) {
            rate = load.rate(rateSeconds);
            for (int round = 0; round < rounds; round++) {
                long before = load.acks();
                await(() -> load.acks() >= before + 100, 60, "acknowledgements before round " + (round + 1));
                int leader = leader(portFiles);
                String fault = switch (round % 3) {
                    case 0 -> "kill -9 of the leader";
                    case 1 -> "SIGSTOP of the leader";
                    default -> "a follower from an empty folder";
                };
                progress("round %d: %s (r%d leads)", round + 1, fault, leader);
                if (round % 3 == 2) {
                    int follower = (leader + 1) % replicas;
                    procs[follower].destroyForcibly().waitFor();
                    ThrowawayFolder.delete(data(follower));
                    copy(founding, data(follower));
                    procs[follower] = replica(follower, addresses.get(follower), portFiles);
                    continue;
                }
                long faultAt = System.currentTimeMillis();
                if (round % 3 == 1) {
                    // Paused, it holds its clients' connections: the others elect a leader meanwhile, and
                    // once it runs again it finds the term moved on, stops serving, and its clients move.
                    signal("STOP", procs[leader]);
                    int paused = leader;
                    await(() -> servesSince(portFiles, paused, faultAt), 60, "a leader other than the paused one");
                    long elected = System.currentTimeMillis();
                    pauseElections.add((elected - faultAt) / 1000.0);
                    progress("  another replica serves %.2f s after the pause", (elected - faultAt) / 1000.0);
                    signal("CONT", procs[leader]);
                    long resumed = System.currentTimeMillis();
                    await(() -> load.lastAckAt() > resumed, 60, "an acknowledgement after the resume");
                    continue;
                }
                procs[leader].destroyForcibly().waitFor();
                await(() -> load.lastAckAt() > faultAt, 60, "an acknowledgement after the kill");
                long next = load.firstAckAfter(faultAt);
                failovers.add((next - faultAt) / 1000.0);
                progress("  next acknowledged submit %.2f s after the kill", (next - faultAt) / 1000.0);
                procs[leader] = replica(leader, addresses.get(leader), portFiles);
            }
            load.stop();
            acked = load.acknowledged();
        }
        // Every replica catches up: the same ledger length everywhere.
        await(() -> sameLength(), 120, "the replicas to hold the same ledger");
        for (Process p : procs) {
            p.destroy();
            p.waitFor(20, TimeUnit.SECONDS);
        }
        int lost = 0;
        int duplicates = 0;
        List<String> heads = new ArrayList<>();
        for (int i = 0; i < replicas; i++) {
            try (Store s = Store.open(data(i))) {
                LedgerVerifier.Report r = LedgerVerifier.verify(s);
                if (!r.ok()) {
                    throw new CliException("replica r" + i + "'s ledger does not verify: " + r.problem());
                }
                heads.add(r.head());
                Map<Long, String> stored = new HashMap<>();
                Map<String, Integer> commands = new HashMap<>();
                s.scan(Store.Kind.JOBS, Job.class, (k, j) -> {
                    stored.put(j.id(), j.command());
                    commands.merge(j.command(), 1, Integer::sum);
                });
                for (var e : acked.entrySet()) {
                    if (!e.getValue().equals(stored.get(e.getKey()))) {
                        lost++;
                    } else if (commands.get(e.getValue()) > 1) {
                        duplicates++;
                    }
                }
            }
        }
        boolean agree = heads.stream().distinct().count() == 1;
        List<Double> sorted = failovers.stream().sorted().toList();
        double p50 = sorted.isEmpty() ? 0 : sorted.get((sorted.size() - 1) / 2);
        double max = sorted.isEmpty() ? 0 : sorted.get(sorted.size() - 1);
        new BenchReport()
                .put("replicas", replicas)
                .put("rounds", rounds)
                .put("failovers", failovers.size())
                .put("failover_p50_s", round(p50))
                .put("failover_max_s", round(max))
                .put("pause_new_leader_max_s", round(pauseElections.stream().mapToDouble(d -> d).max().orElse(0)))
                .put("acked", acked.size())
                .put("acked_lost", lost)
                .put("duplicates", duplicates)
                .put("heads_agree", agree)
                .put("replicated_submits_per_s", round(rate))
                .put("single_submits_per_s", round(single))
                .line("%d replicas, %d rounds of faults: leader killed %d times, next acknowledged submit p50 %.2f s, "
                        + "max %.2f s", replicas, rounds, failovers.size(), p50, max)
                .line("leader paused with SIGSTOP %d times: another replica served within %.2f s", pauseElections.size(),
                        pauseElections.stream().mapToDouble(d -> d).max().orElse(0))
                .line("%d submits acknowledged: %d lost, %d duplicated on some replica; ledgers %s", acked.size(), lost,
                        duplicates, agree ? "verify to one head on every replica" : "DISAGREE")
                .line("durable submits/s, %d clients: replicated %.0f, single scheduler %.0f (ratio %.2f)", clients,
                        rate, single, single == 0 ? 0 : rate / single)
                .print(spec.commandLine().getOut(), options.json);
        return lost == 0 && duplicates == 0 && agree ? 0 : 1;
    }

    private Path data(int i) {
        return dir.resolve("r" + i);
    }

    private boolean sameLength() throws IOException {
        long first = -1;
        for (int i = 0; i < replicas; i++) {
            try (Store s = Store.openReadOnly(data(i))) {
                long n = Ledger.rawEntries(s).size();
                if (first >= 0 && n != first) {
                    return false;
                }
                first = n;
            }
        }
        return true;
    }

    private Process replica(int i, String listen, Path[] portFiles) throws IOException {
        portFiles[i] = dir.resolve("port-r" + i + "-" + System.nanoTime());
        return start("r" + i, "scheduler", "--data", data(i).toString(), "--replica", "r" + i, "--listen", listen,
                "--port-file", portFiles[i].toString());
    }

    /** Whether a replica other than {@code paused} began serving after {@code since}. */
    private static boolean servesSince(Path[] portFiles, int paused, long since) throws IOException {
        for (int i = 0; i < portFiles.length; i++) {
            if (i != paused && portFiles[i] != null && Files.exists(portFiles[i])
                    && Files.getLastModifiedTime(portFiles[i]).toMillis() >= since) {
                return true;
            }
        }
        return false;
    }

    /** The replica that serves: the last to write its port file. */
    private static int leader(Path[] portFiles) throws IOException {
        int found = -1;
        long newest = Long.MIN_VALUE;
        for (int i = 0; i < portFiles.length; i++) {
            if (portFiles[i] != null && Files.exists(portFiles[i])
                    && Files.getLastModifiedTime(portFiles[i]).toMillis() > newest) {
                newest = Files.getLastModifiedTime(portFiles[i]).toMillis();
                found = i;
            }
        }
        if (found < 0) {
            throw new CliException("no replica serves");
        }
        return found;
    }

    private static void signal(String signal, Process p) throws IOException, InterruptedException {
        Process kill = new ProcessBuilder("kill", "-" + signal, Long.toString(p.pid())).redirectErrorStream(true).start();
        if (kill.waitFor() != 0) {
            throw new CliException("kill -" + signal + " " + p.pid() + " failed");
        }
    }

    private void run(String... args) throws IOException, InterruptedException {
        Process p = process(dir.resolve("cli-" + args[0] + "-" + System.nanoTime() + ".log"), args);
        if (!p.waitFor(120, TimeUnit.SECONDS) || p.exitValue() != 0) {
            throw new CliException("coop " + String.join(" ", args) + " failed; see " + dir);
        }
    }

    private Process start(String name, String... args) throws IOException {
        Process p = process(dir.resolve(name + "-" + System.nanoTime() + ".log"), args);
        started.add(p);
        return p;
    }

    /** A coop process on the classpath this command runs from (the jar, or classes in a build). */
    private static Process process(Path log, String... args) throws IOException {
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xmx256m", "-cp", System.getProperty("java.class.path"), Main.class.getName()));
        cmd.addAll(List.of(args));
        return new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile())
                .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null"))).start();
    }

    private static void copy(Path from, Path to) throws IOException {
        try (Stream<Path> walk = Files.walk(from)) {
            for (Path p : walk.toList()) {
                Path target = to.resolve(from.relativize(p).toString());
                if (Files.isDirectory(p)) {
                    Files.createDirectories(target);
                } else if (!p.getFileName().toString().equals("LOCK")) {
                    Files.copy(p, target);
                }
            }
        }
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }

    private static void awaitFile(Path file) throws Exception {
        await(() -> Files.exists(file), 60, file.toString());
    }

    private interface Check {
        boolean ok() throws Exception;
    }

    private static void await(Check check, int seconds, String what) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
        while (!check.ok()) {
            if (System.nanoTime() > deadline) {
                throw new CliException("gave up after " + seconds + " s waiting for " + what);
            }
            Thread.sleep(50);
        }
    }

    private static void progress(String format, Object... args) {
        System.err.println(String.format(format, args));
    }

    private static double round(double v) {
        return Math.round(v * 100) / 100.0;
    }

    /**
     * Clients submitting in a loop until stopped; a submit that fails (no leader, or the leader
     * died under it) is not acknowledged, and the client goes on with a new command.
     */
    private static final class Load implements AutoCloseable {
        private final Client client;
        private final ExecutorService pool;
        private final List<Future<?>> workers = new ArrayList<>();
        private final AtomicBoolean stop = new AtomicBoolean();
        private final Map<Long, String> acknowledged = new ConcurrentHashMap<>();
        /** Times of acknowledgements, in the order they came. */
        private final java.util.concurrent.ConcurrentLinkedQueue<Long> ackTimes =
                new java.util.concurrent.ConcurrentLinkedQueue<>();
        private final AtomicLong lastAck = new AtomicLong();

        Load(String target, Identity me, int clients) {
            client = new Client(target, me);
            pool = Executors.newFixedThreadPool(clients);
            for (int t = 0; t < clients; t++) {
                int thread = t;
                workers.add(pool.submit(() -> {
                    for (int i = 0; !stop.get(); i++) {
                        String command = "echo " + thread + "-" + i;
                        try {
                            long id = client.jobs().submit(SubmitRequest.newBuilder().setAccount("lab-a")
                                    .setGpusPerNode(1).setGpuModel("H100").setCommand(command).build()).getJobId();
                            long now = System.currentTimeMillis();
                            acknowledged.put(id, command);
                            ackTimes.add(now);
                            lastAck.accumulateAndGet(now, Math::max);
                        } catch (StatusRuntimeException e) {
                            // The leader died or stepped down: dial the replicas again now, not after gRPC's backoff.
                            client.resetConnectBackoff();
                            Thread.sleep(20);
                        }
                    }
                    return null;
                }));
            }
        }

        /** Acknowledgements per second over the next {@code seconds}, once the first has come. */
        double rate(int seconds) throws Exception {
            await(() -> acks() > 0, 60, "the first acknowledged submit");
            long from = acks();
            long t = System.nanoTime();
            Thread.sleep(seconds * 1000L);
            return (acks() - from) / ((System.nanoTime() - t) / 1e9);
        }

        long acks() {
            return acknowledged.size();
        }

        long lastAckAt() {
            return lastAck.get();
        }

        long firstAckAfter(long at) {
            return ackTimes.stream().filter(x -> x > at).min(Long::compare).orElse(at);
        }

        Map<Long, String> acknowledged() {
            return Map.copyOf(acknowledged);
        }

        void stop() throws Exception {
            stop.set(true);
            for (Future<?> f : workers) {
                f.get();
            }
        }

        @Override
        public void close() {
            stop.set(true);
            pool.shutdownNow();
            client.close();
        }
    }
}
