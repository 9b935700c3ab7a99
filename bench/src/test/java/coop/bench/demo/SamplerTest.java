package coop.bench.demo;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import coop.v1.AccountUsage;
import coop.v1.UsageResponse;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/** The usage sampler: one sample per Usage call, a failed call skipped, nothing recorded once closed. */
class SamplerTest {

    /** A Usage response whose numbers all follow from {@code n}. */
    static UsageResponse usage(int n) {
        return UsageResponse.newBuilder().setPolicyVersion(n / 3 + 1).setWindowEndMs(1_000L * n)
                .setGpusOnline(16).setGpusBusy(n % 17)
                .addAccounts(AccountUsage.newBuilder().setAccount("lab-a").setRunningGpus(n % 5))
                .addAccounts(AccountUsage.newBuilder().setAccount("uni-c").setRunningGpus(n % 7))
                .build();
    }

    @Test
    void eachCallBecomesASampleOfTheSchedulersNumbers() {
        AtomicInteger calls = new AtomicInteger();
        try (Sampler sampler = Sampler.start(() -> usage(calls.incrementAndGet()), Duration.ofMillis(5))) {
            await().atMost(Duration.ofSeconds(10)).until(() -> sampler.samples().size() >= 4);
            sampler.close();
            var samples = sampler.samples();
            for (int i = 0; i < samples.size(); i++) {
                int n = i + 1;
                Sample s = samples.get(i);
                assertThat(s.atMs()).isEqualTo(1_000L * n);
                assertThat(s.policyVersion()).isEqualTo(n / 3 + 1);
                assertThat(s.gpusOnline()).isEqualTo(16);
                assertThat(s.gpusBusy()).isEqualTo(n % 17);
                assertThat(s.gpusByAccount()).containsExactly(java.util.Map.entry("lab-a", n % 5),
                        java.util.Map.entry("uni-c", n % 7));
            }
            assertThat(samples).hasSize(calls.get());
        }
    }

    @Test
    void aFailedCallLosesOnlyItsSample() {
        AtomicInteger calls = new AtomicInteger();
        try (Sampler sampler = Sampler.start(() -> {
            int n = calls.incrementAndGet();
            if (n % 2 == 0) {
                throw new io.grpc.StatusRuntimeException(io.grpc.Status.UNAVAILABLE);
            }
            return usage(n);
        }, Duration.ofMillis(5))) {
            await().atMost(Duration.ofSeconds(10)).until(() -> sampler.samples().size() >= 3);
            sampler.close();
            assertThat(sampler.failures()).isGreaterThanOrEqualTo(2);
            assertThat(sampler.samples().size() + sampler.failures()).isEqualTo(calls.get());
            assertThat(sampler.samples()).extracting(Sample::atMs).allMatch(ms -> (ms / 1000) % 2 == 1);
        }
    }

    @Test
    void closingStopsTheCallsAndIsFinal() {
        AtomicInteger calls = new AtomicInteger();
        Sampler sampler = Sampler.start(() -> usage(calls.incrementAndGet()), Duration.ofMillis(5));
        await().atMost(Duration.ofSeconds(10)).until(() -> calls.get() >= 2);
        sampler.close();
        int made = calls.get();
        assertThat(sampler.samples()).hasSize(made);
        // Well past many intervals, no call has been made since.
        await().during(Duration.ofMillis(200)).atMost(Duration.ofSeconds(2)).until(() -> calls.get() == made);
        sampler.close();
        assertThat(sampler.samples()).hasSize(made);
    }
}
