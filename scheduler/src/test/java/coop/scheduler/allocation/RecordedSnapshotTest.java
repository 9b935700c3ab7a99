package coop.scheduler.allocation;

import static org.assertj.core.api.Assertions.assertThat;

import coop.scheduler.audit.CycleRecord;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.stream.LongStream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * What coop audit replay relies on, over random snapshots: a snapshot in the event loop's shape
 * (its pending jobs its queues laid end to end), written as a cycle record and read back, is the
 * same snapshot to the byte, and the allocator takes the same decisions from it, in fractions of
 * usage no decimal prints exactly as in whole numbers.
 */
class RecordedSnapshotTest {
    static LongStream seeds() {
        return LongStream.range(0, 200);
    }

    @ParameterizedTest(name = "seed {0}")
    @MethodSource("seeds")
    void aRecordedSnapshotReadsBackAndPlansTheSame(long seed) {
        ClusterSnapshot random = AllocatorPropertiesTest.random(seed, 12);
        SplittableRandom r = new SplittableRandom(seed);
        Map<String, AccountStanding> accounts = new HashMap<>();
        random.accounts().forEach((name, a) -> accounts.put(name, new AccountStanding(name, a.shareBasisPoints(),
                a.usedGpuSeconds() + r.nextDouble(), r.nextBoolean() ? Double.NaN : r.nextDouble() * 100_000)));
        List<AccountQueue> queues = AccountQueue.byAccount(new java.util.ArrayList<>(random.pending()));
        ClusterSnapshot s = new ClusterSnapshot(random.now(), random.nodes(),
                JobList.concat(queues.stream().map(AccountQueue::jobs).toList()), random.running(), accounts, queues,
                PreemptionRules.of(r.nextInt(600), r.nextInt(600), r.nextInt(120)), List.of());
        List<Decision> taken = new Allocator().plan(s).taken();
        CycleRecord recorded = CycleRecord.of(s, taken, 1);

        ClusterSnapshot back = CycleRecord.readSnapshot(recorded.snapshot());

        assertThat(CycleRecord.of(back, taken, 1).snapshot()).as("seed %d", seed).isEqualTo(recorded.snapshot());
        assertThat(new Allocator().plan(back).taken()).as("seed %d", seed).isEqualTo(taken);
    }
}
