package coop.scheduler.notify;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

import coop.scheduler.domain.Job;
import coop.scheduler.domain.JobEvent;
import coop.scheduler.domain.JobOptions;
import coop.scheduler.domain.JobState;
import coop.scheduler.domain.NotifyEvent;
import coop.scheduler.domain.NotifyTarget;
import java.io.IOException;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The notifier on its own, with channels that record, fail or hang: who gets which event, retries
 * doubling their back-off up to the tries and within the deadline, and a bounded number of
 * outstanding deliveries, with accept never waiting for a delivery.
 */
class NotifierTest {
    private static final String HOOK = "http://ops.example.org/hook";
    private Notifier notifier;

    /** A channel that fails its first {@code failures} calls (all, with -1), noting when each came. */
    private static final class Recording implements Channel {
        final List<Long> calls = new CopyOnWriteArrayList<>();
        final List<String> delivered = new CopyOnWriteArrayList<>();
        final int failures;

        Recording(int failures) {
            this.failures = failures;
        }

        @Override
        public void send(Notice notice, NotifyTarget target) throws IOException {
            calls.add(System.nanoTime());
            if (failures < 0 || calls.size() <= failures) {
                throw new IOException("HTTP 500");
            }
            delivered.add(target.text() + " " + notice.event());
        }
    }

    @AfterEach
    void close() {
        if (notifier != null) {
            notifier.close();
        }
    }

    private static NotifyConfig config(int tries, Duration backoff, Duration deadline) {
        return NotifyConfig.NONE.withWebhook(HOOK).withHosts(Set.of("team.example.org"))
                .withSmtp("mail.example.org", 25, "coop@example.org")
                .withRetries(tries, backoff, deadline, Duration.ofSeconds(1));
    }

    private static JobEvent event(NotifyEvent e, JobState state, String notify, String to) {
        Job job = new Job(7, "train", "lab-a", "ann", 1, 1, "", 600, "true", 0, false, state, 0, 0, List.of(), false,
                "").withOptions(JobOptions.NONE.withNotify(notify, to));
        return new JobEvent(e, job, 1_000);
    }

    @Test
    void theOperatorsHookHearsEveryEventAndAJobOnlyWhatItAskedFor() {
        Recording web = new Recording(0);
        Recording mail = new Recording(0);
        notifier = new Notifier(config(1, Duration.ofMillis(10), Duration.ofSeconds(5)), web, mail);
        notifier.accept(event(NotifyEvent.BEGIN, JobState.RUNNING, "END", "https://team.example.org/ann"));
        notifier.accept(event(NotifyEvent.FAIL, JobState.FAILED, "END", "https://team.example.org/ann"));
        notifier.accept(event(NotifyEvent.END, JobState.SUCCEEDED, "FAIL", "ann@example.org"));
        notifier.accept(event(NotifyEvent.FAIL, JobState.TIMEOUT, "FAIL", "ann@example.org"));
        // Allowed when it was submitted, no longer: not sent, and counted as failed.
        notifier.accept(event(NotifyEvent.END, JobState.SUCCEEDED, "END", "https://elsewhere.example.org/x"));
        await().atMost(Duration.ofSeconds(5)).until(() -> notifier.outstanding() == 0 && notifier.sent() == 7);
        assertThat(web.delivered).containsExactlyInAnyOrder(HOOK + " BEGIN", HOOK + " FAIL", HOOK + " END",
                HOOK + " FAIL", HOOK + " END", "https://team.example.org/ann FAIL");
        assertThat(mail.delivered).containsExactly("ann@example.org FAIL");
        assertThat(notifier.failed()).isEqualTo(1);
        assertThat(notifier.dropped()).isZero();
    }

    @Test
    void aFailedDeliveryIsRetriedWithADoublingBackOffUntilItIsTaken() {
        Recording web = new Recording(3);
        notifier = new Notifier(config(5, Duration.ofMillis(100), Duration.ofSeconds(30)), web, null);
        notifier.accept(event(NotifyEvent.END, JobState.SUCCEEDED, "", ""));
        await().atMost(Duration.ofSeconds(10)).until(() -> notifier.sent() == 1);
        assertThat(web.calls).hasSize(4);
        long[] gaps = new long[3];
        for (int i = 0; i < 3; i++) {
            gaps[i] = TimeUnit.NANOSECONDS.toMillis(web.calls.get(i + 1) - web.calls.get(i));
        }
        assertThat(gaps[0]).isGreaterThanOrEqualTo(100);
        assertThat(gaps[1]).isGreaterThanOrEqualTo(200);
        assertThat(gaps[2]).isGreaterThanOrEqualTo(400);
        assertThat(notifier.failed()).isZero();
        assertThat(notifier.outstanding()).isZero();
    }

    @Test
    void aTargetThatAlwaysFailsIsGivenUpAfterItsTries() {
        Recording web = new Recording(-1);
        notifier = new Notifier(config(3, Duration.ofMillis(20), Duration.ofSeconds(30)), web, null);
        notifier.accept(event(NotifyEvent.FAIL, JobState.FAILED, "", ""));
        await().atMost(Duration.ofSeconds(5)).until(() -> notifier.failed() == 1);
        assertThat(web.calls).hasSize(3);
        assertThat(notifier.sent()).isZero();
        assertThat(notifier.outstanding()).isZero();
    }

    @Test
    void noRetryIsMadeThatWouldFallPastTheDeadline() {
        Recording web = new Recording(-1);
        // Tries at 0 and 200 ms; the next would be at 600 ms, past the 500 ms deadline.
        notifier = new Notifier(config(10, Duration.ofMillis(200), Duration.ofMillis(500)), web, null);
        notifier.accept(event(NotifyEvent.END, JobState.SUCCEEDED, "", ""));
        await().atMost(Duration.ofSeconds(5)).until(() -> notifier.failed() == 1);
        assertThat(web.calls).hasSize(2);
    }

    @Test
    void aHangingTargetFillsTheBoundAndFurtherEventsAreDroppedWithoutWaiting() {
        CountDownLatch release = new CountDownLatch(1);
        AtomicInteger entered = new AtomicInteger();
        Channel hangs = (notice, target) -> {
            entered.incrementAndGet();
            release.await();
        };
        notifier = new Notifier(config(1, Duration.ofMillis(10), Duration.ofSeconds(30)).withQueue(3, 1), hangs,
                null);
        assertTimeoutPreemptively(Duration.ofSeconds(2), () -> {
            for (int i = 0; i < 10; i++) {
                notifier.accept(event(NotifyEvent.END, JobState.SUCCEEDED, "", ""));
            }
        });
        await().atMost(Duration.ofSeconds(5)).until(() -> entered.get() == 1);
        assertThat(notifier.outstanding()).isEqualTo(3);
        assertThat(notifier.dropped()).isEqualTo(7);
        release.countDown();
        await().atMost(Duration.ofSeconds(5)).until(() -> notifier.sent() == 3 && notifier.outstanding() == 0);
    }

    @Test
    void outcomesAreCountedForPrometheus() {
        notifier = new Notifier(config(1, Duration.ofMillis(10), Duration.ofSeconds(5)), new Recording(0), null);
        var registry = new io.micrometer.prometheusmetrics.PrometheusMeterRegistry(
                io.micrometer.prometheusmetrics.PrometheusConfig.DEFAULT);
        notifier.register(registry);
        notifier.accept(event(NotifyEvent.END, JobState.SUCCEEDED, "", ""));
        await().atMost(Duration.ofSeconds(5)).until(() -> notifier.sent() == 1);
        assertThat(registry.scrape()).contains("coop_notifications_total{outcome=\"sent\"} 1.0",
                "coop_notifications_total{outcome=\"failed\"} 0.0", "coop_notifications_total{outcome=\"dropped\"} 0.0");
    }

    @Test
    void theJsonCarriesWhatAHookNeeds() {
        Job job = new Job(42, "train", "lab-a", "ann", 1, 1, "", 600, "true", 0, false, JobState.FAILED, 0, 5_000,
                List.of(new coop.scheduler.domain.Attempt(1, 1_000, 5_000, List.of(new coop.scheduler.domain.Placement(
                        "n1", "s1", "A100", List.of(0))), List.of(3), "exited", false)), false, "");
        Notice n = Notice.of(new JobEvent(NotifyEvent.FAIL, job, 5_000));
        assertThat(n.json()).contains("\"job_id\":42", "\"name\":\"train\"", "\"account\":\"lab-a\"",
                "\"member\":\"ann\"", "\"event\":\"FAIL\"", "\"state\":\"FAILED\"", "\"exit_code\":3",
                "\"end_reason\":\"exited\"", "\"time\":\"1970-01-01T00:00:05Z\"",
                "\"text\":\"job 42 (train) of ann in lab-a ended FAILED with exit code 3\"");
        assertThat(n.subject()).isEqualTo("[coop] job 42 (train) FAIL: FAILED");
    }
}
