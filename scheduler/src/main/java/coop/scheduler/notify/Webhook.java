package coop.scheduler.notify;

import coop.scheduler.domain.NotifyTarget;
import java.io.IOException;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;

/**
 * Delivers a notice as a JSON POST. A 2xx reply is delivered; anything else, a refused or slow
 * connection or a reply that does not come within the timeout, is a failure to retry. Redirects
 * are not followed: a host the operator allowed must not hand the call on to one it did not.
 */
final class Webhook implements Channel {
    private final HttpClient http;
    private final Duration timeout;

    Webhook(Duration timeout) {
        this.timeout = timeout;
        this.http = HttpClient.newBuilder().connectTimeout(timeout).followRedirects(HttpClient.Redirect.NEVER)
                .build();
    }

    @Override
    public void send(Notice notice, NotifyTarget target) throws IOException, InterruptedException {
        NotifyTarget.Url url = (NotifyTarget.Url) target;
        HttpRequest request = HttpRequest.newBuilder(url.uri()).timeout(timeout)
                .header("Content-Type", "application/json").header("User-Agent", "coop-scheduler")
                .POST(HttpRequest.BodyPublishers.ofString(notice.json(), StandardCharsets.UTF_8)).build();
        HttpResponse<Void> reply = http.send(request, HttpResponse.BodyHandlers.discarding());
        if (reply.statusCode() / 100 != 2) {
            throw new IOException("HTTP " + reply.statusCode());
        }
    }
}
