package coop.scheduler.ledger;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.SortedMap;
import java.util.TreeMap;

/**
 * The one byte encoding of ledger entries and signed statements, so that a signature or a
 * hash made on one machine checks on every other: JSON with object keys in code-point order,
 * no white space, integers only (no fractions, which print differently from one library to
 * the next), strings in UTF-8 with only {@code "}, {@code \} and control characters escaped.
 * Values are {@code Map<String, ?>}, {@code List<?>}, {@code String}, integral numbers,
 * booleans and null. {@link #parse} reads such bytes back.
 */
public final class Canonical {
    private static final ObjectMapper JSON = new ObjectMapper()
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
            .enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION);

    private Canonical() {
    }

    public static byte[] encode(Object value) {
        StringBuilder sb = new StringBuilder();
        write(sb, value);
        return sb.toString().getBytes(StandardCharsets.UTF_8);
    }

    public static String text(Object value) {
        return new String(encode(value), StandardCharsets.UTF_8);
    }

    private static void write(StringBuilder sb, Object v) {
        if (v == null) {
            sb.append("null");
        } else if (v instanceof String s) {
            string(sb, s);
        } else if (v instanceof Long || v instanceof Integer || v instanceof Short || v instanceof Byte) {
            sb.append(((Number) v).longValue());
        } else if (v instanceof Boolean b) {
            sb.append(b.booleanValue());
        } else if (v instanceof Map<?, ?> m) {
            // A map sorted by its keys' natural order already is in the order written: not copied again
            // (a recorded allocation cycle holds tens of thousands of small maps).
            Map<?, ?> sorted = m;
            if (!(m instanceof SortedMap<?, ?> s && s.comparator() == null)) {
                SortedMap<String, Object> copy = new TreeMap<>();
                for (Map.Entry<?, ?> e : m.entrySet()) {
                    if (!(e.getKey() instanceof String k)) {
                        throw new IllegalArgumentException("canonical JSON keys are strings, got " + e.getKey());
                    }
                    copy.put(k, e.getValue());
                }
                sorted = copy;
            }
            sb.append('{');
            boolean first = true;
            for (Map.Entry<?, ?> e : sorted.entrySet()) {
                if (!(e.getKey() instanceof String key)) {
                    throw new IllegalArgumentException("canonical JSON keys are strings, got " + e.getKey());
                }
                if (!first) {
                    sb.append(',');
                }
                first = false;
                string(sb, key);
                sb.append(':');
                write(sb, e.getValue());
            }
            sb.append('}');
        } else if (v instanceof Iterable<?> list) {
            sb.append('[');
            boolean first = true;
            for (Object o : list) {
                if (!first) {
                    sb.append(',');
                }
                first = false;
                write(sb, o);
            }
            sb.append(']');
        } else {
            throw new IllegalArgumentException("no canonical JSON form for " + v.getClass().getSimpleName());
        }
    }

    private static void string(StringBuilder sb, String s) {
        sb.append('"');
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c == '"' || c == '\\') {
                sb.append('\\').append(c);
            } else if (c < 0x20) {
                sb.append(String.format("\\u%04x", (int) c));
            } else {
                sb.append(c);
            }
        }
        sb.append('"');
    }

    /**
     * Reads JSON into maps (sorted), lists, strings, longs, booleans and nulls.
     *
     * @throws IllegalArgumentException when the bytes are not JSON or hold a fraction
     */
    public static Object parse(byte[] bytes) {
        try {
            return value(JSON.readTree(bytes));
        } catch (JsonProcessingException e) {
            throw new IllegalArgumentException("not valid JSON: " + e.getOriginalMessage());
        } catch (java.io.IOException e) {
            throw new IllegalArgumentException("not readable: " + e.getMessage());
        }
    }

    /** Parses bytes that must hold a JSON object. */
    @SuppressWarnings("unchecked")
    public static SortedMap<String, Object> parseObject(byte[] bytes) {
        Object o = parse(bytes);
        if (!(o instanceof SortedMap<?, ?>)) {
            throw new IllegalArgumentException("not a JSON object");
        }
        return (SortedMap<String, Object>) o;
    }

    private static Object value(JsonNode n) {
        if (n == null || n.isNull() || n.isMissingNode()) {
            return null;
        }
        if (n.isTextual()) {
            return n.textValue();
        }
        if (n.isBoolean()) {
            return n.booleanValue();
        }
        if (n.isIntegralNumber()) {
            if (!n.canConvertToLong()) {
                throw new IllegalArgumentException("integer out of range: " + n);
            }
            return n.longValue();
        }
        if (n.isNumber()) {
            throw new IllegalArgumentException("fractions have no canonical form: " + n);
        }
        if (n.isArray()) {
            List<Object> out = new ArrayList<>(n.size());
            n.forEach(e -> out.add(value(e)));
            return Collections.unmodifiableList(out);
        }
        SortedMap<String, Object> out = new TreeMap<>();
        for (Iterator<Map.Entry<String, JsonNode>> it = n.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            out.put(e.getKey(), value(e.getValue()));
        }
        return Collections.unmodifiableSortedMap(out);
    }
}
