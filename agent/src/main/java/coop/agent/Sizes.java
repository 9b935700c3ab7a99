package coop.agent;

import java.util.Locale;

/** Byte sizes as operators write them ({@code 8G}, {@code 512MiB}) and as people read them. */
public final class Sizes {

    private Sizes() {
    }

    /**
     * Parses {@code N[K|M|G|T][i][B]} (binary multiples, as Slurm's {@code --mem}); a bare
     * number is mebibytes, as in Slurm.
     *
     * @throws IllegalArgumentException naming {@code flag} for anything else
     */
    public static long parse(String text, String flag) {
        String t = text.strip().toUpperCase(Locale.ROOT);
        if (t.endsWith("B")) {
            t = t.substring(0, t.length() - 1);
        }
        if (t.endsWith("I")) {
            t = t.substring(0, t.length() - 1);
        }
        long unit = 1L << 20;
        if (!t.isEmpty()) {
            switch (t.charAt(t.length() - 1)) {
                case 'K' -> unit = 1L << 10;
                case 'M' -> unit = 1L << 20;
                case 'G' -> unit = 1L << 30;
                case 'T' -> unit = 1L << 40;
                default -> unit = 0;
            }
            if (unit != 0) {
                t = t.substring(0, t.length() - 1);
            } else {
                unit = 1L << 20;
            }
        }
        try {
            long n = Long.parseLong(t.strip());
            if (n <= 0 || n > Long.MAX_VALUE / unit) {
                throw new IllegalArgumentException(flag + " must be a positive size such as 8G or 512M, got '" + text + "'");
            }
            return n * unit;
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(flag + " must be a size such as 8G or 512M, got '" + text + "'");
        }
    }

    /** {@code 8 GiB}, {@code 64 MiB}, {@code 1.5 GiB}. */
    public static String text(long bytes) {
        String[] units = {"B", "KiB", "MiB", "GiB", "TiB"};
        double v = bytes;
        int u = 0;
        while (v >= 1024 && u < units.length - 1) {
            v /= 1024;
            u++;
        }
        return v == Math.rint(v) ? String.format(Locale.ROOT, "%d %s", (long) v, units[u])
                : String.format(Locale.ROOT, "%.1f %s", v, units[u]);
    }
}
