package coop.cli;

import static org.assertj.core.api.Assertions.assertThat;

import coop.scheduler.ReplicatedServer;
import coop.scheduler.replica.Replica;
import coop.scheduler.store.Store;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code coop init --replicas} and {@code coop scheduler --replica}: a bad replica list is refused
 * naming the rule before anything is founded; a good one is in the store with the replicas'
 * certificate beside it; a replica id the cooperative does not have is refused.
 */
class ReplicasOptionsTest {
    @TempDir
    Path dir;

    private CliRun init(Path data, String replicas) {
        return CliRun.of("init", "--data", data.toString(), "--founders", "alice", "--accounts", "lab-a",
                "--replicas", replicas);
    }

    @Test
    void aBadReplicaListIsRefusedNamingTheRuleAndNothingIsFounded() {
        String[][] cases = {
            {"s1", "--replicas: expected ID=HOST:PORT, got 's1'"},
            {"s1=host", "--replicas: replica s1's address must be HOST:PORT"},
            {"s1=host:0", "--replicas: replica s1's address must be HOST:PORT with a port from 1 to 65535"},
            {"s1=h1:7071,s1=h2:7071", "--replicas: replica 's1' appears twice"},
            {"s1=h1:7071,s2=h1:7071", "--replicas: address h1:7071 appears twice"},
            {"S1=h1:7071", "--replicas: 'S1' must match"},
        };
        int n = 0;
        for (String[] c : cases) {
            Path data = dir.resolve("bad" + n++);
            CliRun run = init(data, c[0]);
            assertThat(run.exitCode()).as(c[0]).isNotZero();
            assertThat(run.err()).as(c[0]).contains(c[1]);
            assertThat(Store.exists(data)).as(c[0]).isFalse();
        }
    }

    @Test
    void theReplicasAreInTheStoreWithTheirCertificateAndAnUnknownReplicaIsRefused() {
        Path data = dir.resolve("coop");
        CliRun run = init(data, "s1=127.0.0.1:7071,s2=127.0.0.1:7072,s3=127.0.0.1:7073");
        assertThat(run.exitCode()).as(run.err()).isZero();
        try (Store store = Store.openReadOnly(data)) {
            assertThat(ReplicatedServer.replicas(store)).containsExactly(new Replica.Peer("s1", "127.0.0.1:7071"),
                    new Replica.Peer("s2", "127.0.0.1:7072"), new Replica.Peer("s3", "127.0.0.1:7073"));
        }
        assertThat(Files.isRegularFile(data.resolve("tls/replica.crt"))).isTrue();
        assertThat(Files.isRegularFile(data.resolve("tls/replica.key"))).isTrue();
        CliRun unknown = CliRun.of("scheduler", "--data", data.toString(), "--replica", "s9", "--listen",
                "127.0.0.1:0");
        assertThat(unknown.exitCode()).isNotZero();
        assertThat(unknown.err()).contains("--replica: no replica named 's9' in this cooperative (replicas: s1, s2, s3)");
    }

    @Test
    void aReplicaOfACooperativeFoundedWithoutReplicasIsRefused() {
        Path data = dir.resolve("single");
        CliRun run = CliRun.of("init", "--data", data.toString(), "--founders", "alice", "--accounts", "lab-a");
        assertThat(run.exitCode()).as(run.err()).isZero();
        CliRun replica = CliRun.of("scheduler", "--data", data.toString(), "--replica", "s1", "--listen",
                "127.0.0.1:0");
        assertThat(replica.exitCode()).isNotZero();
        assertThat(replica.err()).contains("was founded without replicas");
    }
}
