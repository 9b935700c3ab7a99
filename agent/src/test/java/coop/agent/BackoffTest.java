package coop.agent;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class BackoffTest {

    @Test
    void delaysDoubleWithJitterUpToTheCapAndStartOverAfterReset() {
        Backoff backoff = new Backoff(Duration.ofMillis(200), Duration.ofSeconds(5), new SplittableRandom(42));
        long[] ceilings = {200, 400, 800, 1600, 3200, 5000, 5000, 5000, 5000, 5000, 5000, 5000};

        for (long ceiling : ceilings) {
            assertThat(backoff.next().toMillis()).isBetween(ceiling / 2, ceiling);
        }
        backoff.reset();
        assertThat(backoff.next().toMillis()).isBetween(100L, 200L);
    }

    @Test
    void jitterSpreadsAgentsApart() {
        Backoff a = new Backoff(Duration.ofMillis(200), Duration.ofSeconds(5), new SplittableRandom(1));
        Backoff b = new Backoff(Duration.ofMillis(200), Duration.ofSeconds(5), new SplittableRandom(2));
        long sameDelays = 0;
        for (int i = 0; i < 20; i++) {
            if (a.next().equals(b.next())) {
                sameDelays++;
            }
        }
        assertThat(sameDelays).isLessThan(5);
    }

    @Test
    void manyFailuresStayAtTheCap() {
        Backoff backoff = new Backoff(Duration.ofMillis(200), Duration.ofSeconds(5), new SplittableRandom(3));
        for (int i = 0; i < 100; i++) {
            backoff.next();
        }
        assertThat(backoff.next().toMillis()).isBetween(2500L, 5000L);
    }
}
