package coop.scheduler.domain;

import java.net.URI;
import java.net.URISyntaxException;
import java.util.Locale;
import java.util.regex.Pattern;

/**
 * Where a job's notifications go: an http(s) URL, which is sent a JSON POST, or an email address.
 * Read once from the text a member gave ({@link #parse}), which refuses anything else naming the
 * field.
 */
public sealed interface NotifyTarget {
    /** Longest target taken, in characters. */
    int MAX_TEXT = 2048;

    /** The target as given. */
    String text();

    /** An http or https URL with a host. */
    record Url(URI uri) implements NotifyTarget {
        @Override
        public String text() {
            return uri.toString();
        }

        /** Its host in lower case, without an IPv6 literal's brackets. */
        public String host() {
            String h = uri.getHost().toLowerCase(Locale.ROOT);
            return h.startsWith("[") && h.endsWith("]") ? h.substring(1, h.length() - 1) : h;
        }

        /** The URL without its query and fragment, where a hook's secret may be: for log lines. */
        public String shown() {
            return uri.getScheme() + "://" + uri.getRawAuthority().replaceAll("^.*@", "")
                    + (uri.getRawPath() == null ? "" : uri.getRawPath());
        }
    }

    /** An email address: local part, {@code @}, a domain of dot-separated labels. */
    record Email(String address) implements NotifyTarget {
        @Override
        public String text() {
            return address;
        }
    }

    /** What RFC 5322 allows unquoted in a local part, and an RFC 1035 domain. */
    Pattern EMAIL = Pattern.compile("[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]{1,64}@[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
            + "(\\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*");

    /** The target a text names; anything but an http(s) URL with a host or an email address is refused. */
    static NotifyTarget parse(String field, String text) {
        String t = text == null ? "" : text.strip();
        if (t.isEmpty()) {
            throw CoopException.invalid(field, "give an http(s) URL or an email address");
        }
        if (t.length() > MAX_TEXT || t.chars().anyMatch(c -> Character.isISOControl(c) || Character.isWhitespace(c))) {
            throw CoopException.invalid(field, "must be at most " + MAX_TEXT + " characters without spaces or "
                    + "control characters");
        }
        int colon = t.indexOf(':');
        int at = t.indexOf('@');
        if (colon > 0 && (at < 0 || colon < at) && t.substring(0, colon).matches("[A-Za-z][A-Za-z0-9+.-]*")) {
            String scheme = t.substring(0, colon).toLowerCase(Locale.ROOT);
            if (!scheme.equals("http") && !scheme.equals("https")) {
                throw CoopException.invalid(field, "'" + JobSpec.abbreviated(t) + "' is a " + scheme + ": URL; "
                        + "give an http(s) URL or an email address");
            }
            URI uri;
            try {
                uri = new URI(t);
            } catch (URISyntaxException e) {
                throw CoopException.invalid(field, "'" + JobSpec.abbreviated(t) + "' is not a valid URL: "
                        + e.getReason());
            }
            if (uri.getHost() == null || uri.getHost().isEmpty()) {
                throw CoopException.invalid(field, "'" + JobSpec.abbreviated(t) + "' names no host; give an http(s) "
                        + "URL such as https://hooks.example.org/coop");
            }
            return new Url(uri);
        }
        if (t.length() <= 254 && EMAIL.matcher(t).matches()) {
            return new Email(t);
        }
        throw CoopException.invalid(field, "'" + JobSpec.abbreviated(t) + "' is neither an http(s) URL nor an email "
                + "address");
    }
}
