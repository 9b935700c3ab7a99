package coop.bench.demo;

import java.util.ArrayDeque;
import java.util.Deque;
import java.util.Locale;

/**
 * A writer of well-formed XML markup (XHTML with inline SVG) for the demo's HTML report. Every
 * text and attribute value is escaped here, so no name the scheduler returns can break out of
 * its element; elements are closed from a stack, so the output is balanced by construction and
 * parses both as HTML and as XML.
 */
final class Markup {
    private final StringBuilder out = new StringBuilder();
    private final Deque<String> open = new ArrayDeque<>();

    /** Writes text that is already markup (the doctype, a style sheet without {@code <} or {@code &}). */
    Markup raw(String markup) {
        out.append(markup);
        return this;
    }

    /** Opens an element; {@code attributes} are name, value pairs. */
    Markup open(String tag, String... attributes) {
        start(tag, attributes).append('>');
        open.push(tag);
        return this;
    }

    /** Closes the innermost open element. */
    Markup close() {
        out.append("</").append(open.pop()).append('>');
        return this;
    }

    /** An element holding only {@code text}. */
    Markup leaf(String tag, String text, String... attributes) {
        start(tag, attributes).append('>');
        out.append(escape(text)).append("</").append(tag).append('>');
        return this;
    }

    /** A self-closed element: for SVG shapes and HTML's void elements ({@code meta}) only. */
    Markup empty(String tag, String... attributes) {
        start(tag, attributes).append("/>");
        return this;
    }

    Markup text(String text) {
        out.append(escape(text));
        return this;
    }

    private StringBuilder start(String tag, String... attributes) {
        if (attributes.length % 2 != 0) {
            throw new IllegalArgumentException("attributes of <" + tag + "> must come in name, value pairs");
        }
        out.append('<').append(tag);
        for (int i = 0; i < attributes.length; i += 2) {
            out.append(' ').append(attributes[i]).append("=\"").append(escape(attributes[i + 1])).append('"');
        }
        return out;
    }

    /** The document; every element must have been closed. */
    @Override
    public String toString() {
        if (!open.isEmpty()) {
            throw new IllegalStateException("unclosed elements: " + open);
        }
        return out.toString();
    }

    /** Escapes the five characters that are special in XML text and attribute values. */
    static String escape(String s) {
        StringBuilder b = new StringBuilder(s.length());
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '&' -> b.append("&amp;");
                case '<' -> b.append("&lt;");
                case '>' -> b.append("&gt;");
                case '"' -> b.append("&quot;");
                case '\'' -> b.append("&#39;");
                default -> b.append(c);
            }
        }
        return b.toString();
    }

    /** A coordinate or measure for an attribute: two decimals at most, no exponent, no locale. */
    static String num(double v) {
        String s = String.format(Locale.ROOT, "%.2f", v);
        s = s.contains(".") ? s.replaceAll("0+$", "").replaceAll("\\.$", "") : s;
        return s.equals("-0") ? "0" : s;
    }
}
