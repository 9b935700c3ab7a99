package coop.scheduler.notify;

import coop.scheduler.domain.NotifyReach;
import coop.scheduler.domain.NotifyTarget;
import java.time.Duration;
import java.util.Objects;
import java.util.Set;

/**
 * What the operator set up for notifications: a hook every job event is POSTed to
 * ({@code webhook}, "" for none; coop scheduler --webhook), a mail server for members' email
 * addresses ({@code smtpHost}:{@code smtpPort}, "" for none, sending as {@code smtpFrom}), the hosts
 * members' URLs may name, and how deliveries are paced: tries, the first back-off (doubled after
 * each failure), the total deadline, each call's connect and request timeout, the queue's
 * capacity and the number of delivering threads.
 */
public record NotifyConfig(String webhook, String smtpHost, int smtpPort, String smtpFrom, Set<String> hosts,
                           int tries, Duration backoff, Duration deadline, Duration timeout, int queue, int threads) {
    /** Sends nothing anywhere. */
    public static final NotifyConfig NONE = new NotifyConfig("", "", 0, "", Set.of(), 5, Duration.ofSeconds(1),
            Duration.ofMinutes(15), Duration.ofSeconds(10), 10_000, 4);

    public NotifyConfig {
        webhook = webhook == null ? "" : webhook;
        smtpHost = smtpHost == null ? "" : smtpHost;
        smtpFrom = smtpFrom == null || smtpFrom.isBlank() ? "coop@localhost" : smtpFrom;
        hosts = Set.copyOf(hosts);
        Objects.requireNonNull(backoff, "backoff");
        Objects.requireNonNull(deadline, "deadline");
        Objects.requireNonNull(timeout, "timeout");
        if (tries < 1 || queue < 1 || threads < 1) {
            throw new IllegalArgumentException("tries, queue and threads must be at least 1");
        }
    }

    /** Where members' own targets may point. */
    public NotifyReach reach() {
        return new NotifyReach(hosts, !smtpHost.isEmpty());
    }

    /** Whether anything is ever sent: an operator's hook, a mail server or hosts for members' hooks. */
    public boolean sendsAnything() {
        return !webhook.isEmpty() || !smtpHost.isEmpty() || !hosts.isEmpty();
    }

    /** One line for the log: where notifications go. */
    public String describe() {
        return (webhook.isEmpty() ? "no operator's hook" : "every job event to "
                + ((NotifyTarget.Url) NotifyTarget.parse("webhook", webhook)).shown())
                + "; " + (smtpHost.isEmpty() ? "no mail" : "mail through " + smtpHost + ":" + smtpPort + " from " + smtpFrom)
                + "; members' hooks on " + (hosts.isEmpty() ? "no host" : String.join(", ", new java.util.TreeSet<>(hosts)))
                + "; " + tries + " tries, " + backoff.toMillis() + " ms back-off doubling, within " + deadline.toSeconds()
                + " s";
    }

    public NotifyConfig withWebhook(String url) {
        return new NotifyConfig(url, smtpHost, smtpPort, smtpFrom, hosts, tries, backoff, deadline, timeout, queue,
                threads);
    }

    public NotifyConfig withSmtp(String host, int port, String from) {
        return new NotifyConfig(webhook, host, port, from, hosts, tries, backoff, deadline, timeout, queue, threads);
    }

    public NotifyConfig withHosts(Set<String> allowed) {
        return new NotifyConfig(webhook, smtpHost, smtpPort, smtpFrom, allowed, tries, backoff, deadline, timeout,
                queue, threads);
    }

    /** Paced otherwise: {@code tries} in all, the first retry after {@code first}, all within {@code total}. */
    public NotifyConfig withRetries(int maxTries, Duration first, Duration total, Duration callTimeout) {
        return new NotifyConfig(webhook, smtpHost, smtpPort, smtpFrom, hosts, maxTries, first, total, callTimeout,
                queue, threads);
    }

    public NotifyConfig withQueue(int capacity, int threadCount) {
        return new NotifyConfig(webhook, smtpHost, smtpPort, smtpFrom, hosts, tries, backoff, deadline, timeout,
                capacity, threadCount);
    }
}
