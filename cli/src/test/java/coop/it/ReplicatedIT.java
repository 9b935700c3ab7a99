package coop.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import coop.cli.Client;
import coop.cli.Identity;
import coop.scheduler.audit.LedgerVerifier;
import coop.scheduler.domain.Job;
import coop.scheduler.ledger.Ledger;
import coop.scheduler.store.Store;
import coop.v1.GetJobRequest;
import coop.v1.JobState;
import coop.v1.ListNodesRequest;
import coop.v1.SubmitRequest;
import io.grpc.StatusRuntimeException;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A replicated cooperative of three scheduler processes on loopback, founded with
 * {@code coop init --replicas} and copied to each replica's folder: four clients that hold every
 * replica's address submit while the leader is killed with kill -9; another replica is elected and
 * they go on through it; the killed replica, restarted, catches up. Every acknowledged job is on
 * all three stores once, and every store's ledger verifies to one head.
 */
class ReplicatedIT {
    @TempDir
    Path dir;

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }

    @Test
    void aRankRunningWhenTheLeaderDiesRunsOnOnceAndItsJobEndsUnderTheNextLeader() throws Exception {
        try (CoopProcesses coop = new CoopProcesses(dir)) {
            List<String> clients = found(coop);
            Path founded = dir.resolve("d0");
            Process[] replicas = new Process[3];
            Path[] portFiles = new Path[3];
            for (int i = 0; i < 3; i++) {
                replicas[i] = startReplica(coop, i, clients.get(i), portFiles);
            }
            Path aliceFile = founded.resolve("identities/alice.json");
            Identity alice = Identity.read(aliceFile);
            String target = String.join(",", clients);
            Path workDir = dir.resolve("n1");
            await().atMost(Duration.ofSeconds(60)).until(() -> Stream.of(portFiles).anyMatch(Files::exists));
            coop.agent(target, aliceFile, "lab-a", "n1", "north", "sim:1xA100-80GB", workDir);
            try (Client client = new Client(target, alice)) {
                await().atMost(Duration.ofSeconds(60)).until(() -> client.nodes()
                        .listNodes(ListNodesRequest.getDefaultInstance()).getNodesList().stream()
                        .anyMatch(n -> n.getState().equals("online")));
                long id = client.jobs().submit(SubmitRequest.newBuilder().setAccount("lab-a").setGpusPerNode(1)
                        .setCommand("sleep 12").build()).getJobId();
                await().atMost(Duration.ofSeconds(30)).until(() -> job(client, id).getState()
                        == JobState.RUNNING);
                int killed = leader(portFiles);
                replicas[killed].destroyForcibly();
                replicas[killed].waitFor();
                // The next leader starts from the committed state: the job runs, on its first attempt, and
                // the agent, back on the new leader, reports it to its end.
                await().atMost(Duration.ofSeconds(60)).ignoreExceptions().until(() -> job(client, id).getState()
                        == JobState.SUCCEEDED);
                var done = job(client, id);
                assertThat(done.getAttemptsCount()).as("attempts").isEqualTo(1);
                // One rank ever ran: the agent kept it through the failover, and nothing placed it again.
                assertThat(AgentRestartIT.all(workDir)).hasSize(1);
            }
        }
    }

    /**
     * Founds a cooperative of three replicas in {@code d0} with {@code coop init --replicas} and copies
     * it to {@code d1} and {@code d2}, as an operator copies it to each site; returns the replicas'
     * client addresses.
     */
    private List<String> found(CoopProcesses coop) throws IOException, InterruptedException {
        List<String> raft = new ArrayList<>();
        List<String> clients = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            raft.add("r" + i + "=127.0.0.1:" + freePort());
            clients.add("127.0.0.1:" + freePort());
        }
        Path founded = dir.resolve("d0");
        var init = coop.run("init", "--data", founded.toString(), "--founders", "alice", "--accounts", "lab-a",
                "--scheduler", String.join(",", clients), "--replicas", String.join(",", raft));
        assertThat(init.exitCode()).as(init.stderr()).isZero();
        assertThat(init.stdout()).contains("replicas: r0 at").contains("--replica ID");
        for (int i = 1; i < 3; i++) {
            CoopProcesses.copyData(founded, dir.resolve("d" + i));
        }
        return clients;
    }

    private static coop.v1.Job job(Client client, long id) {
        return client.jobs().getJob(GetJobRequest.newBuilder().setJobId(id).build());
    }

    @Test
    void killingTheLeaderUnderFourClientsLosesNoAcknowledgedJobAndTheReplicasAgree() throws Exception {
        try (CoopProcesses coop = new CoopProcesses(dir)) {
            List<String> clients = found(coop);
            Path founded = dir.resolve("d0");
            Identity alice = Identity.read(founded.resolve("identities/alice.json"));
            assertThat(alice.scheduler()).isEqualTo(String.join(",", clients));
            Process[] replicas = new Process[3];
            Path[] portFiles = new Path[3];
            for (int i = 0; i < 3; i++) {
                replicas[i] = startReplica(coop, i, clients.get(i), portFiles);
            }

            Map<Long, String> acknowledged = new ConcurrentHashMap<>();
            AtomicBoolean stop = new AtomicBoolean();
            ExecutorService pool = Executors.newFixedThreadPool(4);
            int killed;
            try (Client client = new Client(alice.scheduler(), alice)) {
                List<Future<?>> submitters = new ArrayList<>();
                for (int t = 0; t < 4; t++) {
                    int thread = t;
                    submitters.add(pool.submit(() -> {
                        for (int i = 0; !stop.get(); i++) {
                            String command = "echo " + thread + "-" + i;
                            try {
                                long id = client.jobs().submit(SubmitRequest.newBuilder().setAccount("lab-a")
                                        .setGpusPerNode(1).setCommand(command).build()).getJobId();
                                acknowledged.put(id, command);
                            } catch (StatusRuntimeException e) {
                                // No leader yet, or it just died: this submit is not acknowledged; go on.
                                Thread.sleep(50);
                            }
                        }
                        return null;
                    }));
                }
                await().atMost(Duration.ofSeconds(90)).until(() -> acknowledged.size() >= 100);
                killed = leader(portFiles);
                replicas[killed].destroyForcibly();
                replicas[killed].waitFor();
                int before = acknowledged.size();
                // The others elect a leader and the clients find it: acknowledgements go on.
                await().atMost(Duration.ofSeconds(60)).until(() -> acknowledged.size() >= before + 100);
                stop.set(true);
                for (Future<?> f : submitters) {
                    f.get();
                }
            } finally {
                pool.shutdownNow();
            }
            // The replicas as the new leader sees them: the killed one unreachable.
            var status = coop.run("replicas", "--identity", founded.resolve("identities/alice.json").toString(),
                    "--json");
            assertThat(status.exitCode()).as(status.stderr()).isZero();
            var tree = new com.fasterxml.jackson.databind.ObjectMapper().readTree(status.stdout());
            assertThat(tree.get("leader").asText()).isNotEqualTo("r" + killed).startsWith("r");
            for (var r : tree.get("replicas")) {
                assertThat(r.get("role").asText()).as(r.toString()).isEqualTo(r.get("id").asText().equals("r" + killed)
                        ? "unreachable" : r.get("id").asText().equals(tree.get("leader").asText()) ? "leader"
                        : "follower");
            }
            replicas[killed] = startReplica(coop, killed, clients.get(killed), portFiles);
            // The killed replica catches up: every store holds the same ledger.
            await().atMost(Duration.ofSeconds(60)).until(() -> {
                long[] sizes = new long[3];
                for (int i = 0; i < 3; i++) {
                    try (Store s = Store.openReadOnly(dir.resolve("d" + i))) {
                        sizes[i] = Ledger.rawEntries(s).size();
                    }
                }
                return sizes[0] == sizes[1] && sizes[1] == sizes[2];
            });
            for (Process p : replicas) {
                p.destroy();
                p.waitFor();
            }
            List<String> heads = new ArrayList<>();
            for (int i = 0; i < 3; i++) {
                try (Store s = Store.open(dir.resolve("d" + i))) {
                    LedgerVerifier.Report r = LedgerVerifier.verify(s);
                    assertThat(r.problem()).as("d%d", i).isNull();
                    heads.add(r.head());
                    Map<Long, String> stored = new HashMap<>();
                    Map<String, Integer> commands = new HashMap<>();
                    s.scan(Store.Kind.JOBS, Job.class, (k, j) -> {
                        stored.put(j.id(), j.command());
                        commands.merge(j.command(), 1, Integer::sum);
                    });
                    for (var e : acknowledged.entrySet()) {
                        assertThat(stored.get(e.getKey())).as("d%d job %d", i, e.getKey()).isEqualTo(e.getValue());
                        assertThat(commands.get(e.getValue())).as("d%d %s", i, e.getValue()).isEqualTo(1);
                    }
                }
            }
            assertThat(heads).containsOnly(heads.get(0));
        }
    }

    private Process startReplica(CoopProcesses coop, int i, String listen, Path[] portFiles) throws IOException {
        portFiles[i] = dir.resolve("port-r" + i + "-" + System.nanoTime());
        return coop.start("scheduler", "--data", dir.resolve("d" + i).toString(), "--replica", "r" + i, "--listen",
                listen, "--heartbeat", "1s", "--port-file", portFiles[i].toString());
    }

    /** The replica that serves: the last to write its port file. */
    private static int leader(Path[] portFiles) throws IOException {
        int found = -1;
        long newest = Long.MIN_VALUE;
        for (int i = 0; i < portFiles.length; i++) {
            if (Files.exists(portFiles[i]) && Files.getLastModifiedTime(portFiles[i]).toMillis() > newest) {
                newest = Files.getLastModifiedTime(portFiles[i]).toMillis();
                found = i;
            }
        }
        if (found < 0) {
            throw new IllegalStateException("no replica serves");
        }
        return found;
    }
}
