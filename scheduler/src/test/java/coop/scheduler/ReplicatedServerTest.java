package coop.scheduler;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import coop.scheduler.audit.LedgerVerifier;
import coop.scheduler.engine.ClusterState;
import coop.scheduler.governance.TestMembers;
import coop.scheduler.replica.Replica;
import coop.scheduler.rpc.Caller;
import coop.scheduler.store.Store;
import coop.scheduler.trust.Authority;
import coop.v1.GetJobRequest;
import coop.v1.JobsGrpc;
import coop.v1.SubmitRequest;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.stub.MetadataUtils;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Duration;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Three replicas of one cooperative in one JVM, each a Raft member with its own store: only the
 * leader serves; what it acknowledged is on the others; when it dies another is elected and
 * serves the same jobs, numbering new ones after them; the dead one, back, catches up; and every
 * store's ledger verifies to one head.
 */
class ReplicatedServerTest {
    @TempDir
    Path dir;
    final List<Replica.Peer> peers = new ArrayList<>();
    final ReplicatedServer[] replicas = new ReplicatedServer[3];

    @BeforeEach
    void found(org.junit.jupiter.api.TestInfo test) throws IOException {
        try (Store store = Store.open(dir.resolve("r0"))) {
            ClusterState.found(store, List.of(new TestMembers().member("alice", List.of("lab-a"))),
                    List.of("lab-a", "lab-b"), System.currentTimeMillis());
        }
        // Raft traffic over mutual TLS, with the replicas' certificate from the cooperative's CA.
        Authority.create(dir.resolve("r0"), "replicated", List.of(), new SecureRandom()).issueReplica(List.of());
        // One founding, copied to every replica's folder, as an operator copies it to each site.
        for (int i = 1; i < 3; i++) {
            copy(dir.resolve("r0"), dir.resolve("r" + i));
        }
        for (int i = 0; i < 3; i++) {
            try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
                peers.add(new Replica.Peer("r" + i, "127.0.0.1:" + s.getLocalPort()));
            }
        }
        if (test.getTags().contains("foreign")) {
            // r2 shows a certificate of another cooperative's CA.
            Path tls = dir.resolve("r2").resolve(Authority.FOLDER);
            try (Stream<Path> files = Files.walk(tls)) {
                for (Path p : files.sorted(java.util.Comparator.reverseOrder()).toList()) {
                    Files.delete(p);
                }
            }
            Authority.create(dir.resolve("r2"), "other", List.of(), new SecureRandom()).issueReplica(List.of());
        }
        for (int i = 0; i < 3; i++) {
            replicas[i] = start(i);
        }
    }

    @AfterEach
    void stop() {
        for (ReplicatedServer r : replicas) {
            if (r != null) {
                r.close();
            }
        }
    }

    private ReplicatedServer start(int i) {
        return ReplicatedServer.start(new SchedulerServer.Config(dir.resolve("r" + i), "127.0.0.1", 0,
                Duration.ofSeconds(1), null, true), new ReplicatedServer.ReplicaConfig("r" + i, peers),
                InstantSource.system());
    }

    private static void copy(Path from, Path to) {
        try (Stream<Path> files = Files.walk(from)) {
            for (Path p : files.toList()) {
                Path target = to.resolve(from.relativize(p).toString());
                if (Files.isDirectory(p)) {
                    Files.createDirectories(target);
                } else {
                    Files.copy(p, target);
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The index of the replica that serves, once exactly one does. */
    private int serving() {
        int[] found = {-1};
        await().atMost(Duration.ofSeconds(30)).until(() -> {
            int n = 0;
            for (int i = 0; i < 3; i++) {
                if (replicas[i] != null && replicas[i].serving() != null) {
                    found[0] = i;
                    n++;
                }
            }
            return n == 1;
        });
        return found[0];
    }

    private static JobsGrpc.JobsBlockingStub jobs(ManagedChannel channel) {
        return JobsGrpc.newBlockingStub(channel);
    }

    private ManagedChannel channel(int replica) {
        Metadata alice = new Metadata();
        alice.put(Caller.MEMBER, "alice");
        alice.put(Caller.TOKEN, "token-alice");
        return NettyChannelBuilder.forAddress("127.0.0.1", replicas[replica].serving().port()).usePlaintext()
                .intercept(MetadataUtils.newAttachHeadersInterceptor(alice)).build();
    }

    private List<Long> submit(int replica, int n) {
        ManagedChannel c = channel(replica);
        try {
            List<Long> ids = new ArrayList<>();
            for (int i = 0; i < n; i++) {
                ids.add(jobs(c).submit(SubmitRequest.newBuilder().setAccount("lab-a").setGpusPerNode(1)
                        .setGpuModel("H100").setCommand("true").setWalltimeSeconds(60).build()).getJobId());
            }
            return ids;
        } finally {
            c.shutdownNow();
        }
    }

    @Test
    @org.junit.jupiter.api.Tag("foreign")
    void aReplicaWhoseCertificateIsNotTheCooperativesTakesNoPartAndGetsNothing() {
        int leader = serving();
        assertThat(leader).isNotEqualTo(2);
        submit(leader, 3);
        long size = replicas[leader].replica().stateMachine().ledgerSize();
        assertThat(size).isGreaterThan(3);
        assertThat(replicas[2].replica().stateMachine().ledgerSize()).isEqualTo(1);
        assertThat(replicas[2].serving()).isNull();
    }

    @Test
    void whenTheLeaderDiesAnotherServesWhatItAcknowledgedAndTheDeadOneCatchesUpOnReturn() {
        int first = serving();
        List<Long> before = submit(first, 5);
        replicas[first].close();
        replicas[first] = null;

        int second = serving();
        assertThat(second).isNotEqualTo(first);
        ManagedChannel c = channel(second);
        try {
            for (long id : before) {
                assertThat(jobs(c).getJob(GetJobRequest.newBuilder().setJobId(id).build()).getId()).isEqualTo(id);
            }
        } finally {
            c.shutdownNow();
        }
        // The replicas as the new leader sees them: itself leading, one following, the dead one unreachable.
        ManagedChannel admin = channel(second);
        try {
            var status = coop.v1.AdminGrpc.newBlockingStub(admin).replicas(coop.v1.ReplicasRequest.getDefaultInstance());
            assertThat(status.getReplicated()).isTrue();
            assertThat(status.getLeader()).isEqualTo("r" + second);
            assertThat(status.getReplicasList()).extracting(s -> s.getId() + " " + s.getRole())
                    .containsExactlyInAnyOrder("r" + second + " leader", "r" + (3 - first - second) + " follower",
                            "r" + first + " unreachable");
            assertThat(status.getReplicasList()).filteredOn(s -> s.getRole().equals("leader"))
                    .allSatisfy(s -> assertThat(s.getCommitIndex()).isPositive());
        } finally {
            admin.shutdownNow();
        }
        List<Long> after = submit(second, 5);
        assertThat(after.get(0)).isGreaterThan(before.get(before.size() - 1));

        replicas[first] = start(first);
        String head = replicas[second].replica().stateMachine().ledgerHead();
        await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> {
            for (ReplicatedServer r : replicas) {
                assertThat(r.replica().stateMachine().ledgerHead()).isEqualTo(
                        replicas[serving()].replica().stateMachine().ledgerHead());
            }
        });
        assertThat(head).isNotNull();
        for (int i = 0; i < 3; i++) {
            replicas[i].close();
            replicas[i] = null;
        }
        List<String> heads = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            try (Store s = Store.open(dir.resolve("r" + i))) {
                LedgerVerifier.Report r = LedgerVerifier.verify(s);
                assertThat(r.problem()).as("r%d", i).isNull();
                heads.add(r.head());
            }
        }
        assertThat(heads).containsOnly(heads.get(0));
    }
}
