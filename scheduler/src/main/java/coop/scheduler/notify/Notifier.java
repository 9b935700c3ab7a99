package coop.scheduler.notify;

import coop.scheduler.domain.CoopException;
import coop.scheduler.domain.JobEvent;
import coop.scheduler.domain.NotifyEvent;
import coop.scheduler.domain.NotifyReach;
import coop.scheduler.domain.NotifyTarget;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.MeterRegistry;
import java.time.Duration;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Delivers job events, on threads of its own, to the operator's hook (every event) and to each
 * job's own target (the events it asked for). The event loop hands events over with
 * {@link #accept}, which only queues: a delivery that fails or hangs costs a delivering thread,
 * never a scheduling decision.
 *
 * <p>At most {@code queue} deliveries are outstanding (waiting, being sent or waiting to be
 * retried); one more is dropped with a counted log line rather than queued, so a dead hook cannot
 * fill the heap. A failed delivery is tried again after the back-off, doubled each time, up to the
 * configured tries and within the total deadline; then it is given up with one log line naming
 * the job, the event and the target.
 */
public final class Notifier implements Consumer<JobEvent>, AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(Notifier.class);
    /** Longest wait between two tries, whatever the doubling says. */
    private static final long MAX_BACKOFF_NANOS = Duration.ofMinutes(5).toNanos();

    /** One notice on its way to one target. */
    private record Delivery(Notice notice, NotifyTarget target, Channel channel, int tryNumber, long startedNanos,
                            long deadlineNanos) {
        Delivery next() {
            return new Delivery(notice, target, channel, tryNumber + 1, startedNanos, deadlineNanos);
        }

        String shown() {
            return target instanceof NotifyTarget.Url u ? u.shown() : target.text();
        }
    }

    private final NotifyConfig config;
    private final NotifyReach reach;
    private final NotifyTarget.Url operatorHook;
    private final Channel web;
    /** Null without a mail server. */
    private final Channel mail;
    private final ExecutorService senders;
    private final ScheduledExecutorService retries;
    private final AtomicInteger outstanding = new AtomicInteger();
    private final AtomicLong sent = new AtomicLong();
    private final AtomicLong failed = new AtomicLong();
    private final AtomicLong dropped = new AtomicLong();
    private volatile boolean closed;

    /** A notifier that sends over HTTP and, when the operator gave a mail server, SMTP. */
    public static Notifier start(NotifyConfig config) {
        return new Notifier(config, new Webhook(config.timeout()), config.smtpHost().isEmpty() ? null
                : new Mail(config.smtpHost(), config.smtpPort(), config.smtpFrom(), config.timeout()));
    }

    Notifier(NotifyConfig config, Channel web, Channel mail) {
        this.config = config;
        this.reach = config.reach();
        this.operatorHook = config.webhook().isEmpty() ? null
                : (NotifyTarget.Url) NotifyTarget.parse("webhook", config.webhook());
        this.web = web;
        this.mail = mail;
        AtomicInteger n = new AtomicInteger();
        // Outstanding deliveries are bounded by the counter, so this queue never holds more than that.
        this.senders = new ThreadPoolExecutor(config.threads(), config.threads(), 30, TimeUnit.SECONDS,
                new LinkedBlockingQueue<>(), task -> daemon(task, "coop-notify-" + n.incrementAndGet()));
        ((ThreadPoolExecutor) senders).allowCoreThreadTimeOut(true);
        ScheduledThreadPoolExecutor timer = new ScheduledThreadPoolExecutor(1, task -> daemon(task,
                "coop-notify-retries"));
        timer.setRemoveOnCancelPolicy(true);
        this.retries = timer;
    }

    private static Thread daemon(Runnable task, String name) {
        Thread t = new Thread(task, name);
        t.setDaemon(true);
        return t;
    }

    /** Queues the event for the operator's hook and for the job's own target; never blocks. */
    @Override
    public void accept(JobEvent e) {
        if (closed) {
            return;
        }
        Notice notice = null;
        if (operatorHook != null) {
            notice = Notice.of(e);
            queue(notice, operatorHook, web);
        }
        NotifyTarget own = ownTarget(e);
        if (own != null && !own.equals(operatorHook)) {
            queue(notice != null ? notice : Notice.of(e), own, own instanceof NotifyTarget.Url ? web : mail);
        }
    }

    /** The job's own target if it asked to hear of this event and this scheduler may reach it, else null. */
    private NotifyTarget ownTarget(JobEvent e) {
        var options = e.job().options();
        if (options.notifyTo().isEmpty()) {
            return null;
        }
        try {
            Set<NotifyEvent> asked = NotifyEvent.parse("notify", options.notifyOn());
            if (!e.event().askedBy(asked)) {
                return null;
            }
            NotifyTarget target = reach.permit("notify_to", NotifyTarget.parse("notify_to", options.notifyTo()));
            if (target instanceof NotifyTarget.Email && mail == null) {
                throw CoopException.invalid("notify_to", "this scheduler sends no mail");
            }
            return target;
        } catch (CoopException refused) {
            // Checked at submit; the operator has since changed what the scheduler may reach.
            failed.incrementAndGet();
            log.warn("notification not sent: job {} {}: {}", e.job().id(), e.event(), refused.getMessage());
            return null;
        }
    }

    private void queue(Notice notice, NotifyTarget target, Channel channel) {
        if (outstanding.incrementAndGet() > config.queue()) {
            outstanding.decrementAndGet();
            long n = dropped.incrementAndGet();
            log.warn("notification dropped, {} outstanding already (dropped so far: {}): job {} {} to {}",
                    config.queue(), n, notice.jobId(), notice.event(),
                    new Delivery(notice, target, channel, 1, 0, 0).shown());
            return;
        }
        long now = System.nanoTime();
        submit(new Delivery(notice, target, channel, 1, now, now + config.deadline().toNanos()));
    }

    private void submit(Delivery d) {
        try {
            senders.execute(() -> deliver(d));
        } catch (RejectedExecutionException stopping) {
            outstanding.decrementAndGet();
        }
    }

    private void deliver(Delivery d) {
        try {
            d.channel().send(d.notice(), d.target());
            sent.incrementAndGet();
            outstanding.decrementAndGet();
            log.debug("notified job {} {} to {}", d.notice().jobId(), d.notice().event(), d.shown());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            giveUp(d, "interrupted: the scheduler is stopping");
        } catch (Exception e) {
            long delay = Math.min(config.backoff().toNanos() << Math.min(d.tryNumber() - 1, 30), MAX_BACKOFF_NANOS);
            if (closed || d.tryNumber() >= config.tries() || System.nanoTime() + delay > d.deadlineNanos()) {
                giveUp(d, reason(e));
                return;
            }
            try {
                retries.schedule(() -> submit(d.next()), delay, TimeUnit.NANOSECONDS);
            } catch (RejectedExecutionException stopping) {
                giveUp(d, reason(e));
            }
        }
    }

    private static String reason(Exception e) {
        String m = e.getMessage();
        return e.getClass().getSimpleName() + (m == null || m.isBlank() ? "" : ": " + m);
    }

    private void giveUp(Delivery d, String why) {
        failed.incrementAndGet();
        outstanding.decrementAndGet();
        log.warn("notification given up: job {} {} to {} after {} tries in {} ms: {}", d.notice().jobId(),
                d.notice().event(), d.shown(), d.tryNumber(),
                TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - d.startedNanos()), why);
    }

    /** Notices delivered. */
    public long sent() {
        return sent.get();
    }

    /** Notices given up on, after their tries or because their target was no longer allowed. */
    public long failed() {
        return failed.get();
    }

    /** Notices dropped because too many were outstanding. */
    public long dropped() {
        return dropped.get();
    }

    /** Deliveries waiting, being sent or waiting to be retried. */
    public int outstanding() {
        return outstanding.get();
    }

    /** Registers {@code coop_notifications_total{outcome=sent|failed|dropped}}. */
    public void register(MeterRegistry registry) {
        String help = "Job notifications by outcome: sent (the hook answered 2xx or the mail server took it), "
                + "failed (given up after their tries, or their target no longer allowed) and dropped (too many "
                + "outstanding).";
        FunctionCounter.builder("coop.notifications", this, Notifier::sent).tag("outcome", "sent").description(help)
                .register(registry);
        FunctionCounter.builder("coop.notifications", this, Notifier::failed).tag("outcome", "failed")
                .description(help).register(registry);
        FunctionCounter.builder("coop.notifications", this, Notifier::dropped).tag("outcome", "dropped")
                .description(help).register(registry);
    }

    /** Stops taking events; deliveries under way are interrupted, retries not yet due are dropped. */
    @Override
    public void close() {
        closed = true;
        retries.shutdownNow();
        senders.shutdownNow();
    }
}
