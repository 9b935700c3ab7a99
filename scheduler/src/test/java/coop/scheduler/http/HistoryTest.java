package coop.scheduler.http;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import coop.v1.AccountUsage;
import coop.v1.UsageResponse;
import coop.scheduler.store.Store;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class HistoryTest {

    private static UsageResponse at(long ms, int busy, double achievedA) {
        return UsageResponse.newBuilder().setPolicyVersion(1).setWindowEndMs(ms).setGpusOnline(4).setGpusBusy(busy)
                .addAccounts(AccountUsage.newBuilder().setAccount("lab-a").setEntitledBasisPoints(6000)
                        .setAchievedPercent(achievedA).setRunningGpus(busy))
                .addAccounts(AccountUsage.newBuilder().setAccount("lab-b").setEntitledBasisPoints(4000)
                        .setAchievedPercent(100 - achievedA))
                .build();
    }

    @Test
    void keepsTheNewestSamplesUpToItsCapacity() {
        History h = new History(3, Duration.ofSeconds(2));
        for (int i = 1; i <= 5; i++) {
            h.add(at(i * 1000L, i % 5, 10.0 * i));
        }
        assertThat(h.since(0)).extracting(History.Sample::atMs).containsExactly(3000L, 4000L, 5000L);
        assertThat(h.since(4000)).extracting(History.Sample::atMs).containsExactly(5000L);
        var json = h.json(0);
        assertThat(json.get("capacity").asInt()).isEqualTo(3);
        assertThat(json.get("interval_ms").asLong()).isEqualTo(2000);
        var last = json.get("samples").get(2);
        assertThat(last.get("utilization_percent").asDouble()).isEqualTo(0.0);
        var first = json.get("samples").get(0);
        assertThat(first.get("utilization_percent").asDouble()).isEqualTo(75.0);
        assertThat(first.get("accounts").get(0).get("voted_percent").asDouble()).isEqualTo(60.0);
        assertThat(first.get("accounts").get(0).get("achieved_percent").asDouble()).isEqualTo(30.0);
        assertThat(first.get("accounts").get(1).get("voted_percent").asDouble()).isEqualTo(40.0);
    }

    @Test
    void aSampleDatedBeforeTheLastIsDropped() {
        History h = new History(10, Duration.ofSeconds(2));
        h.add(at(5000, 1, 50));
        h.add(at(4000, 2, 50));
        h.add(at(5000, 3, 50));
        assertThat(h.since(0)).extracting(History.Sample::gpusBusy).containsExactly(1);
    }

    @Test
    void oneSampleAMinuteIsKeptInTheStoreForItsSpanAndAHistoryOpenedLaterStartsWithThem(@TempDir Path dir) {
        Duration day = Duration.ofMinutes(3);
        try (Store store = Store.open(dir)) {
            History h = new History(2, Duration.ofSeconds(2), store, day, Duration.ofMinutes(1), 0);
            for (long t : new long[]{1_000, 30_000, 61_000, 62_000, 125_000, 190_000, 250_000}) {
                h.add(at(t, 1, 50));
            }
            // The ring holds the last two; before them come the first sample of each minute still within 3 minutes.
            assertThat(h.since(0)).extracting(History.Sample::atMs)
                    .containsExactly(125_000L, 190_000L, 250_000L);
        }
        try (Store store = Store.open(dir)) {
            History restarted = new History(2, Duration.ofSeconds(2), store, day, Duration.ofMinutes(1), 260_000);
            assertThat(restarted.since(0)).extracting(History.Sample::atMs)
                    .containsExactly(125_000L, 190_000L, 250_000L);
            History.Sample s = restarted.since(0).get(0);
            assertThat(s.accounts()).extracting(History.AccountPoint::account).containsExactly("lab-a", "lab-b");
            assertThat(s.accounts().get(0).votedPercent()).isEqualTo(60.0);
            assertThat(s.accounts().get(0).hourAchievedPercent()).isEqualTo(50.0);
            var json = restarted.json(0);
            assertThat(json.get("samples")).hasSize(3);
            assertThat(json.get("kept_every_ms").asLong()).isEqualTo(60_000);
            // A sample dated before the kept ones is dropped too.
            restarted.add(at(200_000, 1, 50));
            assertThat(restarted.since(0)).hasSize(3);
        }
        try (Store store = Store.open(dir)) {
            // Much later: everything stored is past its span and is deleted.
            History later = new History(2, Duration.ofSeconds(2), store, day, Duration.ofMinutes(1), 1_000_000);
            assertThat(later.since(0)).isEmpty();
            List<Long> left = new java.util.ArrayList<>();
            store.scanRaw(Store.Kind.HISTORY, (k, v) -> left.add(java.nio.ByteBuffer.wrap(k).getLong()));
            assertThat(left).isEmpty();
        }
    }

    @Test
    void refusesAnEmptyRing() {
        assertThatThrownBy(() -> new History(0, Duration.ofSeconds(2))).hasMessageContaining("at least 1");
    }
}
