package coop.cli;

import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * A plain text table: a header row and rows of cells, columns padded to their widest
 * cell and separated by two spaces. Empty cells are shown as {@code -} so columns stay
 * readable with {@code awk}.
 */
public final class Table {

    private final List<String> headers;
    private final List<List<String>> rows = new ArrayList<>();

    public Table(String... headers) {
        this.headers = List.of(headers);
    }

    /** Adds a row; cells are converted with {@code String.valueOf}. */
    public Table row(Object... cells) {
        if (cells.length != headers.size()) {
            throw new IllegalArgumentException("row has " + cells.length + " cells, table has " + headers.size() + " columns");
        }
        List<String> row = new ArrayList<>(cells.length);
        for (Object cell : cells) {
            String text = cell == null ? "" : String.valueOf(cell).replaceAll("\\s*\\R\\s*", " ");
            row.add(text.isEmpty() ? "-" : text);
        }
        rows.add(row);
        return this;
    }

    /** Prints the header and the rows. */
    public void print(PrintWriter out) {
        int[] widths = new int[headers.size()];
        for (int c = 0; c < widths.length; c++) {
            widths[c] = headers.get(c).length();
        }
        for (List<String> row : rows) {
            for (int c = 0; c < widths.length; c++) {
                widths[c] = Math.max(widths[c], row.get(c).length());
            }
        }
        printRow(out, headers, widths);
        for (List<String> row : rows) {
            printRow(out, row, widths);
        }
    }

    private static void printRow(PrintWriter out, List<String> cells, int[] widths) {
        StringBuilder line = new StringBuilder();
        for (int c = 0; c < cells.size(); c++) {
            String cell = cells.get(c);
            line.append(cell);
            if (c < cells.size() - 1) {
                char[] pad = new char[widths[c] - cell.length() + 2];
                Arrays.fill(pad, ' ');
                line.append(pad);
            }
        }
        out.println(line.toString().stripTrailing());
    }
}
