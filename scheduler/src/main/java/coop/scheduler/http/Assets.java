package coop.scheduler.http;

import io.netty.handler.codec.http.HttpResponseStatus;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.Map;

/**
 * The dashboard's page, style sheet and script, read once from the classpath at startup: the
 * browser loads nothing from anywhere but the scheduler, and a Content-Security-Policy of
 * {@code 'self'} holds it to that.
 */
final class Assets {
    static final String POLICY = "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; "
            + "img-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";
    private static final String FOLDER = "/coop/scheduler/http/";
    private static final Map<String, String> FILES = Map.of(
            "/", "index.html",
            "/index.html", "index.html",
            "/dashboard.css", "dashboard.css",
            "/dashboard.js", "dashboard.js");

    private final Map<String, Reply> byPath;

    Assets() {
        java.util.Map<String, Reply> m = new java.util.HashMap<>();
        FILES.forEach((path, file) -> m.put(path, new Reply(HttpResponseStatus.OK, type(file), read(file), Map.of())
                .with("Content-Security-Policy", POLICY).with("Cache-Control", "no-cache")));
        byPath = Map.copyOf(m);
    }

    /** The asset served at {@code path}, or null. */
    Reply get(String path) {
        return byPath.get(path);
    }

    private static String type(String file) {
        if (file.endsWith(".html")) {
            return "text/html; charset=utf-8";
        }
        if (file.endsWith(".css")) {
            return "text/css; charset=utf-8";
        }
        return "text/javascript; charset=utf-8";
    }

    private static byte[] read(String file) {
        try (InputStream in = Assets.class.getResourceAsStream(FOLDER + file)) {
            if (in == null) {
                throw new IllegalStateException("the dashboard asset " + FOLDER + file + " is missing from the classpath");
            }
            return in.readAllBytes();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
