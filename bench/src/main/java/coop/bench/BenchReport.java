package coop.bench;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * What one {@code coop bench} run prints on stdout: its figures, in the order given, as one
 * JSON object under {@code --json} ({@link BenchOptions}), or else its lines of text for a
 * person (sentences, and tables with aligned columns). A command fills in both and prints
 * once; progress goes to stderr, never here, so that stdout under {@code --json} is exactly one
 * object a script or a test can read.
 */
final class BenchReport {
    private static final ObjectMapper JSON = new ObjectMapper();

    private final ObjectNode figures = JSON.createObjectNode();
    private final List<String> text = new ArrayList<>();

    /**
     * Adds a figure: a number, string or boolean, null (JSON null: no figure), or a list or map
     * of them, written as Jackson writes it.
     */
    BenchReport put(String key, Object value) {
        figures.set(key, JSON.valueToTree(value));
        return this;
    }

    /** The figures as a JSON tree, for nested objects and figures rounded in ways of their own. */
    ObjectNode figures() {
        return figures;
    }

    /** One line of text, formatted as {@link String#format} does in {@link Locale#ROOT}. */
    BenchReport line(String format, Object... args) {
        text.add(String.format(Locale.ROOT, format, args));
        return this;
    }

    /** An empty line of text. */
    BenchReport line() {
        text.add("");
        return this;
    }

    /**
     * Rows of text as columns padded to their widest cell, the first left-aligned and the rest
     * right-aligned, two spaces apart.
     */
    BenchReport table(List<String[]> rows) {
        int[] widths = new int[rows.get(0).length];
        for (String[] row : rows) {
            for (int c = 0; c < row.length; c++) {
                widths[c] = Math.max(widths[c], row[c].length());
            }
        }
        for (String[] row : rows) {
            StringBuilder line = new StringBuilder();
            for (int c = 0; c < row.length; c++) {
                String pad = " ".repeat(widths[c] - row[c].length());
                line.append(c == 0 ? row[c] + pad : "  " + pad + row[c]);
            }
            text.add(line.toString().stripTrailing());
        }
        return this;
    }

    /** Prints the figures as one JSON object on one line, or else the lines of text. */
    void print(PrintWriter out, boolean json) throws JsonProcessingException {
        if (json) {
            out.println(JSON.writeValueAsString(figures));
        } else {
            text.forEach(out::println);
        }
        out.flush();
    }

    /**
     * {@code v} rounded to {@code decimals} places (half up), or null where {@code v} is NaN:
     * nothing was measured, and the JSON then shows no figure rather than a made-up 0.
     */
    static Double round(double v, int decimals) {
        if (Double.isNaN(v)) {
            return null;
        }
        double scale = Math.pow(10, decimals);
        return Math.round(v * scale) / scale;
    }
}
