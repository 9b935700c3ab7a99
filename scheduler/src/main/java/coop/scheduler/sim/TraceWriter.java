package coop.scheduler.sim;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.math.BigDecimal;

/**
 * Writes a {@link Trace} as the CSV that {@link TraceReader} reads ({@code
 * submit_s,account,gpus,duration_s,gpu_model}), in submit order, times in seconds with at most
 * three decimals: reading the text back gives the same jobs.
 */
public final class TraceWriter {
    public static final String HEADER = "submit_s,account,gpus,duration_s,gpu_model";

    private TraceWriter() {
    }

    public static void write(Trace trace, Appendable out) {
        try {
            out.append(HEADER).append('\n');
            for (TraceJob j : trace.jobs()) {
                out.append(seconds(j.submitMs())).append(',').append(j.account()).append(',')
                        .append(Integer.toString(j.gpus())).append(',').append(seconds(j.durationMs())).append(',')
                        .append(j.gpuModel()).append('\n');
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    public static String toCsv(Trace trace) {
        StringBuilder csv = new StringBuilder();
        write(trace, csv);
        return csv.toString();
    }

    private static String seconds(long ms) {
        return BigDecimal.valueOf(ms, 3).stripTrailingZeros().toPlainString();
    }
}
