package coop.scheduler.http;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import coop.v1.AccountUsage;
import coop.v1.UsageResponse;
import java.time.Duration;
import org.junit.jupiter.api.Test;

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
    void refusesAnEmptyRing() {
        assertThatThrownBy(() -> new History(0, Duration.ofSeconds(2))).hasMessageContaining("at least 1");
    }
}
