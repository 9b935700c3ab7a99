package coop.scheduler.http;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.netty.handler.codec.http.HttpResponseStatus;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.Map;

/** One HTTP answer before it is written: status, content type, body, and any extra headers. */
record Reply(HttpResponseStatus status, String contentType, byte[] body, Map<String, String> headers) {
    static final String JSON = "application/json; charset=utf-8";
    static final String TEXT = "text/plain; charset=utf-8";
    private static final ObjectMapper MAPPER = new ObjectMapper();

    static Reply json(JsonNode node) {
        try {
            return new Reply(HttpResponseStatus.OK, JSON, MAPPER.writeValueAsBytes(node), Map.of());
        } catch (JsonProcessingException e) {
            throw new UncheckedIOException(e);
        }
    }

    static Reply text(HttpResponseStatus status, String contentType, String body) {
        return new Reply(status, contentType, body.getBytes(StandardCharsets.UTF_8), Map.of());
    }

    /** A refusal in one line; under {@code /api/} as a JSON object {@code {"error": ...}}, so scripts can parse it. */
    static Reply error(HttpResponseStatus status, String path, String message) {
        if (path != null && path.startsWith("/api/")) {
            byte[] body;
            try {
                body = MAPPER.writeValueAsBytes(MAPPER.createObjectNode().put("error", message));
            } catch (JsonProcessingException e) {
                throw new UncheckedIOException(e);
            }
            return new Reply(status, JSON, body, Map.of());
        }
        return text(status, TEXT, message + "\n");
    }

    Reply with(String header, String value) {
        java.util.Map<String, String> h = new java.util.LinkedHashMap<>(headers);
        h.put(header, value);
        return new Reply(status, contentType, body, Map.copyOf(h));
    }
}
