package coop.scheduler.domain;

/**
 * A threshold as an exact fraction, so that "at least two thirds" means 2 of 3 and not
 * 6,667 basis points (which 2 of 3 would miss). Written {@code "2/3"}.
 */
public record Fraction(long num, long den) {
    public Fraction {
        if (den < 1 || num < 0 || num > den) {
            throw new IllegalArgumentException("a fraction between 0 and 1 with a positive denominator, got "
                    + num + "/" + den);
        }
    }

    /** Whether part / whole ≥ this fraction. */
    public boolean reachedBy(long part, long whole) {
        return part * den >= num * whole;
    }

    /** Whether part / whole > this fraction. */
    public boolean exceededBy(long part, long whole) {
        return part * den > num * whole;
    }

    /** Whether this fraction is at least {@code other}, exactly. */
    public boolean atLeast(Fraction other) {
        return num * other.den >= other.num * den;
    }

    /** Reads {@code "2/3"}, or a percentage such as {@code "40%"} or {@code "66.5%"} (to basis points). */
    public static Fraction parse(String field, String text) {
        String t = text == null ? "" : text.strip();
        try {
            if (t.endsWith("%")) {
                java.math.BigDecimal p = new java.math.BigDecimal(t.substring(0, t.length() - 1).strip());
                long bp = p.movePointRight(2).longValueExact();
                return new Fraction(bp, 10_000).reduced();
            }
            int slash = t.indexOf('/');
            if (slash > 0) {
                return new Fraction(Long.parseLong(t.substring(0, slash).strip()),
                        Long.parseLong(t.substring(slash + 1).strip())).reduced();
            }
        } catch (ArithmeticException | IllegalArgumentException e) {
            // falls through to the error below
        }
        throw CoopException.invalid(field, "must be a fraction such as 2/3 or a percentage such as 40%, "
                + "between 0 and 1, got '" + text + "'");
    }

    private Fraction reduced() {
        long g = java.math.BigInteger.valueOf(num).gcd(java.math.BigInteger.valueOf(den)).longValue();
        return g <= 1 ? this : new Fraction(num / g, den / g);
    }

    @Override
    public String toString() {
        return num + "/" + den;
    }
}
