package coop.bench.swarm;

import java.util.HashMap;
import java.util.Map;
import java.util.NavigableMap;
import java.util.OptionalDouble;
import java.util.TreeMap;

/**
 * One scrape of Prometheus metrics in the text exposition format, read back: sample values by
 * name and labels as written ({@code coop_jobs{state="pending"}}), and a histogram's cumulative
 * buckets. Two scrapes of a histogram give the distribution of what was observed between them.
 */
public final class Scrape {
    private final Map<String, Double> samples = new HashMap<>();

    private Scrape() {
    }

    public static Scrape parse(String text) {
        Scrape s = new Scrape();
        for (String line : text.split("\n")) {
            if (line.isBlank() || line.startsWith("#")) {
                continue;
            }
            // name{labels} value [timestamp]; label values hold no spaces in coop's metrics.
            int space = line.lastIndexOf('}') >= 0 ? line.indexOf(' ', line.lastIndexOf('}')) : line.indexOf(' ');
            if (space < 0) {
                continue;
            }
            String[] rest = line.substring(space + 1).trim().split(" ");
            try {
                s.samples.put(line.substring(0, space), Double.parseDouble(rest[0]));
            } catch (NumberFormatException e) {
                // Not a sample line; the format has none, but a scrape cut short could.
            }
        }
        return s;
    }

    /** The value of a sample, by its name and labels exactly as the scrape writes them. */
    public OptionalDouble value(String sample) {
        Double v = samples.get(sample);
        return v == null ? OptionalDouble.empty() : OptionalDouble.of(v);
    }

    /** A histogram's (without labels) cumulative bucket counts by upper bound, +Inf included. */
    public NavigableMap<Double, Double> buckets(String histogram) {
        NavigableMap<Double, Double> out = new TreeMap<>();
        String prefix = histogram + "_bucket{le=\"";
        samples.forEach((k, v) -> {
            if (k.startsWith(prefix) && k.endsWith("\"}")) {
                String le = k.substring(prefix.length(), k.length() - 2);
                out.put(le.equals("+Inf") ? Double.POSITIVE_INFINITY : Double.parseDouble(le), v);
            }
        });
        return out;
    }

    /** What was observed between two scrapes of one histogram: the bucket counts' differences. */
    public static NavigableMap<Double, Double> between(NavigableMap<Double, Double> before,
                                                       NavigableMap<Double, Double> after) {
        NavigableMap<Double, Double> out = new TreeMap<>();
        after.forEach((le, n) -> out.put(le, n - before.getOrDefault(le, 0.0)));
        return out;
    }

    /** Observations in cumulative buckets. */
    public static double count(NavigableMap<Double, Double> buckets) {
        return buckets.isEmpty() ? 0 : buckets.lastEntry().getValue();
    }

    /**
     * The q-quantile of cumulative buckets, interpolated linearly inside its bucket as Prometheus's
     * histogram_quantile does (from 0 in the first); NaN with no observations. A quantile in the
     * +Inf bucket is reported as the largest finite bound.
     */
    public static double quantile(double q, NavigableMap<Double, Double> buckets) {
        double total = count(buckets);
        if (total <= 0) {
            return Double.NaN;
        }
        double rank = q * total;
        double lower = 0;
        double below = 0;
        for (Map.Entry<Double, Double> b : buckets.entrySet()) {
            if (b.getValue() >= rank) {
                if (b.getKey().isInfinite()) {
                    return lower;
                }
                double in = b.getValue() - below;
                return in <= 0 ? b.getKey() : lower + (b.getKey() - lower) * (rank - below) / in;
            }
            lower = b.getKey();
            below = b.getValue();
        }
        return lower;
    }

    /** The upper bound of the highest bucket with an observation: no observation was above it. */
    public static double highestBound(NavigableMap<Double, Double> buckets) {
        double total = count(buckets);
        if (total <= 0) {
            return Double.NaN;
        }
        for (Map.Entry<Double, Double> b : buckets.entrySet()) {
            if (b.getValue() >= total) {
                return b.getKey();
            }
        }
        return Double.NaN;
    }
}
