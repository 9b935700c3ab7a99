package coop.scheduler.domain;

/** Shares, floors and splits are whole basis points: 10 000 is the whole cooperative. */
public final class BasisPoints {
    /** 100 % in basis points. */
    public static final int WHOLE = 10_000;

    private BasisPoints() {
    }

    /** {@code 2500} as "25%", {@code 3333} as "33.33%". */
    public static String percent(long basisPoints) {
        return basisPoints % 100 == 0 ? (basisPoints / 100) + "%"
                : String.format(java.util.Locale.ROOT, "%.2f%%", basisPoints / 100.0);
    }
}
