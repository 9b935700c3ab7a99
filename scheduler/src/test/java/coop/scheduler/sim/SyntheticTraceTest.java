package coop.scheduler.sim;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * {@link SyntheticTrace} draws the same trace for the same seed and traces with the shared
 * trace's statistics: measured here on 10 seeds of 2,166 jobs against the figures of
 * {@code philly-gavel-2166.csv} (its README and {@link SyntheticTrace}'s comments).
 */
class SyntheticTraceTest {
    private static final int JOBS = 2166;

    @Test
    void theSameSeedGivesTheSameTraceAndAnotherSeedAnother() {
        String a = TraceWriter.toCsv(SyntheticTrace.generate(7, 500));
        assertThat(TraceWriter.toCsv(SyntheticTrace.generate(7, 500))).isEqualTo(a);
        assertThat(TraceWriter.toCsv(SyntheticTrace.generate(8, 500))).isNotEqualTo(a);
    }

    @Test
    void aShorterTraceIsThePrefixOfALongerOneOfTheSameSeed() {
        List<TraceJob> longer = SyntheticTrace.generate(3, 2000).jobs();
        List<TraceJob> shorter = SyntheticTrace.generate(3, 150).jobs();
        assertThat(longer.subList(0, 150)).isEqualTo(shorter);
    }

    @Test
    void itsCsvReadsBackAsTheSameJobs() {
        Trace t = SyntheticTrace.generate(11, 300);
        Trace back = TraceReader.parse(TraceWriter.toCsv(t), "back");
        assertThat(back.jobs()).isEqualTo(t.jobs());
        assertThat(t.jobs()).hasSize(300);
        assertThat(t.jobs().get(0).submitMs()).isZero();
    }

    @Test
    void refusesAnEmptyTrace() {
        assertThatThrownBy(() -> SyntheticTrace.generate(1, 0)).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void hasTheSharedTracesStatistics() {
        List<TraceJob> jobs = new ArrayList<>();
        double spanS = 0;
        List<Double> withinAccountGaps = new ArrayList<>();
        double dispersion = 0;
        for (long seed = 1; seed <= 10; seed++) {
            Trace t = SyntheticTrace.generate(seed, JOBS);
            jobs.addAll(t.jobs());
            spanS += t.window().lengthMs() / 1000.0;
            Map<String, Long> last = new HashMap<>();
            for (TraceJob j : t.jobs()) {
                Long before = last.put(j.account(), j.submitMs());
                if (before != null) {
                    withinAccountGaps.add((j.submitMs() - before) / 1000.0);
                }
            }
            dispersion += hourlyDispersion(t) / 10;
        }
        int n = jobs.size();
        // Philly: 1127 of 2166 jobs on 1 GPU (52.0 %), 468 gangs of 8 to 32 GPUs (21.6 %), 19 of 32.
        assertThat(share(jobs, j -> j.gpus() == 1)).as("1-GPU jobs").isCloseTo(0.520, within(0.04));
        assertThat(share(jobs, j -> j.gpus() >= 8)).as("jobs of 8 to 32 GPUs").isCloseTo(0.216, within(0.04));
        assertThat(share(jobs, j -> j.gpus() == 32)).as("jobs of 32 GPUs").isCloseTo(0.0088, within(0.006));
        // Philly: median run time 77,888 s, p90 786,523 s; between 1,200 s and 5,163,642 s.
        double[] durations = jobs.stream().mapToDouble(j -> j.durationMs() / 1000.0).sorted().toArray();
        assertThat(durations[n / 2]).as("median run time (s)").isBetween(77_888 / 1.5, 77_888 * 1.5);
        assertThat(durations[n * 9 / 10]).as("p90 run time (s)").isBetween(786_523 / 2.0, 786_523 * 2.0);
        assertThat(durations[0]).isGreaterThanOrEqualTo(1200);
        assertThat(durations[n - 1]).isLessThanOrEqualTo(5_163_642);
        // Philly: 2,166 jobs in 498.9 h of submits.
        assertThat(spanS / 10 / 3600).as("mean submit span (h)").isBetween(498.9 / 1.5, 498.9 * 1.5);
        // Philly: 65.8 % of an account's submits come less than 10 minutes after its previous one,
        // and hourly submit counts vary 25.6 times their mean (1 for Poisson arrivals).
        assertThat(withinAccountGaps.stream().filter(g -> g <= 600).count() / (double) withinAccountGaps.size())
                .as("within-account gaps under 10 minutes").isCloseTo(0.658, within(0.08));
        assertThat(dispersion).as("variance / mean of hourly submit counts").isGreaterThan(8);
        // Philly: vc-b436b2 has 34.9 % of the GPU-hours, the five smallest accounts 0.7 % together.
        Map<String, Double> gpuHours = new HashMap<>();
        jobs.forEach(j -> gpuHours.merge(j.account(), j.gpuMs(), Double::sum));
        double total = gpuHours.values().stream().mapToDouble(Double::doubleValue).sum();
        assertThat(gpuHours.get("vc-b436b2") / total).as("vc-b436b2's share of GPU-hours").isBetween(0.2, 0.5);
        double smallest = SyntheticTrace.accounts().subList(10, 15).stream()
                .mapToDouble(a -> gpuHours.getOrDefault(a, 0.0)).sum() / total;
        assertThat(smallest).as("the five smallest accounts' share of GPU-hours").isLessThan(0.03);
    }

    private static double share(List<TraceJob> jobs, java.util.function.Predicate<TraceJob> p) {
        return jobs.stream().filter(p).count() / (double) jobs.size();
    }

    private static double hourlyDispersion(Trace t) {
        int hours = (int) (t.window().lengthMs() / 3_600_000) + 1;
        double[] counts = new double[hours];
        t.jobs().forEach(j -> counts[(int) (j.submitMs() / 3_600_000)]++);
        double mean = Arrays.stream(counts).average().orElseThrow();
        double variance = Arrays.stream(counts).map(c -> (c - mean) * (c - mean)).sum() / hours;
        return variance / mean;
    }
}
