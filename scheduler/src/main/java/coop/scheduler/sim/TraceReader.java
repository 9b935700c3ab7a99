package coop.scheduler.sim;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.Reader;
import java.io.StringReader;
import java.io.UncheckedIOException;
import java.math.BigDecimal;
import java.math.RoundingMode;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Reads the trace CSV of {@code shared/traces}: a header naming the columns
 * {@code submit_s,account,gpus,duration_s,gpu_model} (in any order; {@code gpu_model} may be
 * left out), then one job per line. Times are seconds, decimals allowed; an empty
 * {@code gpu_model} accepts any GPU. Blank lines and lines starting with {@code #} are
 * skipped. A bad row fails the whole read with a {@link TraceFormatException} naming the
 * line, column and value.
 */
public final class TraceReader {
    private static final List<String> REQUIRED = List.of("submit_s", "account", "gpus", "duration_s");
    private static final String MODEL = "gpu_model";

    private TraceReader() {
    }

    public static Trace read(Path file) {
        try (BufferedReader in = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
            return read(in, file.toString());
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read trace " + file + ": " + e.getMessage(), e);
        }
    }

    public static Trace parse(String csv, String source) {
        try {
            return read(new StringReader(csv), source);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    public static Trace read(Reader reader, String source) throws IOException {
        BufferedReader in = reader instanceof BufferedReader b ? b : new BufferedReader(reader);
        Map<String, Integer> columns = null;
        List<TraceJob> jobs = new ArrayList<>();
        String text;
        int line = 0;
        while ((text = in.readLine()) != null) {
            line++;
            if (line == 1 && text.startsWith("\uFEFF")) {
                text = text.substring(1);
            }
            if (text.isBlank() || text.startsWith("#")) {
                continue;
            }
            String[] cells = text.split(",", -1);
            if (columns == null) {
                columns = header(cells, source, line);
                continue;
            }
            jobs.add(row(cells, columns, source, line, jobs.size() + 1));
        }
        if (columns == null) {
            throw new TraceFormatException(source + ": empty trace, expected a header line "
                    + String.join(",", REQUIRED) + "," + MODEL, Math.max(1, line));
        }
        return new Trace(source, jobs);
    }

    private static Map<String, Integer> header(String[] cells, String source, int line) {
        Map<String, Integer> columns = new HashMap<>();
        for (int c = 0; c < cells.length; c++) {
            String name = cells[c].strip().toLowerCase(Locale.ROOT);
            if (columns.putIfAbsent(name, c) != null) {
                throw new TraceFormatException(source + " line " + line + ", column " + (c + 1)
                        + ": column '" + name + "' appears twice", line);
            }
        }
        for (String required : REQUIRED) {
            if (!columns.containsKey(required)) {
                throw new TraceFormatException(source + " line " + line + ": the header has no column '" + required
                        + "' (expected " + String.join(",", REQUIRED) + "," + MODEL + ")", line);
            }
        }
        return columns;
    }

    private static TraceJob row(String[] cells, Map<String, Integer> columns, String source, int line, long id) {
        if (cells.length != columns.size()) {
            throw new TraceFormatException(source + " line " + line + ": " + cells.length + " columns, the header has "
                    + columns.size(), line);
        }
        Cell cell = (name) -> {
            int c = columns.get(name);
            return new Field(source, line, c + 1, name, cells[c].strip());
        };
        long submitMs = cell.get("submit_s").millis(false);
        Field accountField = cell.get("account");
        if (accountField.value().isEmpty()) {
            throw accountField.error("empty account");
        }
        int gpus = cell.get("gpus").positiveInt();
        long durationMs = cell.get("duration_s").millis(true);
        String model = columns.containsKey(MODEL) ? cell.get(MODEL).value() : "";
        return new TraceJob(id, line, submitMs, accountField.value(), gpus, durationMs, model);
    }

    @FunctionalInterface
    private interface Cell {
        Field get(String name);
    }

    private record Field(String source, int line, int column, String name, String value) {
        TraceFormatException error(String problem) {
            return new TraceFormatException(source + " line " + line + ", column " + column + " (" + name + "): "
                    + problem, line);
        }

        int positiveInt() {
            try {
                int v = Integer.parseInt(value);
                if (v > 0) {
                    return v;
                }
            } catch (NumberFormatException e) {
                // reported below
            }
            throw error("'" + value + "' is not a positive whole number");
        }

        /** Seconds (decimals allowed) as milliseconds. */
        long millis(boolean positive) {
            BigDecimal seconds;
            try {
                seconds = new BigDecimal(value);
            } catch (NumberFormatException e) {
                throw error("'" + value + "' is not a number of seconds");
            }
            long ms;
            try {
                ms = seconds.movePointRight(3).setScale(0, RoundingMode.HALF_UP).longValueExact();
            } catch (ArithmeticException e) {
                throw error("'" + value + "' is too large");
            }
            if (ms < 0 || (positive && ms == 0)) {
                throw error("'" + value + "' must be " + (positive ? "positive" : "zero or more"));
            }
            return ms;
        }
    }
}
