package coop.scheduler.http;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The query string of a dashboard request, decoded strictly: {@code name=value} pairs split on
 * {@code &}, {@code +} for a space, and {@code %XX} escapes whose bytes must be UTF-8. A
 * malformed escape, bytes that are not UTF-8, or a control character (C0, DEL or C1) in a
 * name or value is refused with a {@link BadRequest} naming the parameter and the rule, rather
 * than decoded into replacement characters that reach the scheduler's own validation as a
 * different string from the one sent. Characters sent unescaped arrive from Netty's decoder as
 * one char per byte, so a client that sends raw UTF-8 is read as if it had escaped it.
 */
final class Query {
    static final int MAX_PARAMETERS = 16;

    private Query() {
    }

    /** Parameters by decoded name, in the order given; the raw query is what follows {@code ?}. */
    static Map<String, List<String>> parse(String raw) {
        Map<String, List<String>> params = new LinkedHashMap<>();
        int fragment = raw.indexOf('#');
        String query = fragment < 0 ? raw : raw.substring(0, fragment);
        int count = 0;
        for (String pair : query.split("&", -1)) {
            if (pair.isEmpty()) {
                continue;
            }
            if (++count > MAX_PARAMETERS) {
                throw new BadRequest("query: more than " + MAX_PARAMETERS + " parameters");
            }
            int eq = pair.indexOf('=');
            String rawName = eq < 0 ? pair : pair.substring(0, eq);
            String name = decode("parameter name", rawName);
            String value = eq < 0 ? "" : decode(Routes.abbreviate(name), pair.substring(eq + 1));
            params.computeIfAbsent(name, k -> new ArrayList<>()).add(value);
        }
        return params;
    }

    private static String decode(String field, String raw) {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream(raw.length());
        for (int i = 0; i < raw.length(); i++) {
            char c = raw.charAt(i);
            if (c == '%') {
                int hi = i + 1 < raw.length() ? Character.digit(raw.charAt(i + 1), 16) : -1;
                int lo = i + 2 < raw.length() ? Character.digit(raw.charAt(i + 2), 16) : -1;
                // Character.digit also takes non-ASCII digits; an escape is two ASCII hex digits.
                if (hi < 0 || lo < 0 || raw.charAt(i + 1) > 0x7f || raw.charAt(i + 2) > 0x7f) {
                    String shown = raw.substring(i, Math.min(raw.length(), i + 3));
                    throw new BadRequest(field + ": malformed percent-encoding '" + Routes.abbreviate(shown)
                            + "'; % must be followed by two hex digits");
                }
                bytes.write(hi << 4 | lo);
                i += 2;
            } else if (c == '+') {
                bytes.write(' ');
            } else if (c <= 0xff) {
                bytes.write(c);
            } else {
                int cp = raw.codePointAt(i);
                bytes.writeBytes(new String(Character.toChars(cp)).getBytes(StandardCharsets.UTF_8));
                i += Character.charCount(cp) - 1;
            }
        }
        String text;
        try {
            text = StandardCharsets.UTF_8.newDecoder()
                    .onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .decode(ByteBuffer.wrap(bytes.toByteArray())).toString();
        } catch (CharacterCodingException e) {
            throw new BadRequest(field + ": is not valid UTF-8");
        }
        text.codePoints().filter(Character::isISOControl).findFirst().ifPresent(cp -> {
            throw new BadRequest(field + ": contains a control character (U+" + String.format("%04X", cp)
                    + "); none is allowed");
        });
        return text;
    }
}
