package coop.scheduler.engine;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import coop.scheduler.domain.CoopException;
import coop.scheduler.domain.Gpu;
import coop.scheduler.domain.JobSpec;
import coop.scheduler.domain.JobState;
import coop.scheduler.domain.Params;
import coop.scheduler.domain.RankRef;
import coop.scheduler.governance.TestMembers;
import coop.scheduler.store.Batch;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The cluster state built in memory from a genesis ({@link Recovery#founded}), driven turn by
 * turn without a store or a loop: each turn's writes go to a batch nobody commits, and orders to
 * agents are run by hand as the loop would after its commit.
 */
class InMemoryStateTest {
    private final FakeClock clock = new FakeClock();
    private final TestMembers keys = new TestMembers();
    private final ClusterState state = new ClusterState(Recovery.founded(List.of(keys.member("alice",
            List.of("lab-a"))), List.of("lab-a"), Params.DEFAULTS, clock.millis()), clock, Duration.ofSeconds(5),
            Duration.ofSeconds(60));

    /** One turn: the command, then the cycle if it is due, then what the loop would send after its commit. */
    private <T> T turn(EventLoop.Command<T> command) {
        Tx tx = new Tx(new Batch());
        T value = command.apply(state, tx);
        if (tx.isAllocationDue()) {
            state.allocate(tx);
        }
        tx.afterCommitActions().forEach(Runnable::run);
        return value;
    }

    @Test
    void aJobSubmittedInMemoryStartsOnANodeThatSaysHello() {
        RecordingLink link = new RecordingLink();
        List<Gpu> gpus = new ArrayList<>(List.of(new Gpu(0, "A100", 81920), new Gpu(1, "A100", 81920)));
        turn((s, tx) -> {
            s.hello(link, "n1", "s1", gpus, List.of(), tx);
            return null;
        });
        long id = turn((s, tx) -> s.submit("alice", new JobSpec("lab-a", 2, 1, "", 60, "true", 0, "", false, false),
                tx));

        assertThat(state.job(id).state()).isEqualTo(JobState.RUNNING);
        assertThat(link.launched).singleElement().satisfies(l -> {
            assertThat(l.ref()).isEqualTo(new RankRef(id, 1, 0));
            assertThat(l.gpus()).containsExactly(0, 1);
        });
        // The genesis, the job's submission, and the cycle that started the job: the first that decides
        // anything is recorded for audit.
        assertThat(state.ledgerHead().size()).isEqualTo(3);
    }

    @Test
    void aFieldRuleIsRefusedBeforeAnythingChanges() {
        assertThatThrownBy(() -> turn((s, tx) -> s.submit("alice", new JobSpec("lab-a", 65, 1, "", 60, "true", 0, "",
                false, false), tx))).isInstanceOfSatisfying(CoopException.class, e -> {
                    assertThat(e.kind()).isEqualTo(CoopException.Kind.INVALID_ARGUMENT);
                    assertThat(e.getMessage()).contains("gpus_per_node").contains("between 1 and 64");
                });
        assertThat(state.jobCount()).isZero();
    }
}
