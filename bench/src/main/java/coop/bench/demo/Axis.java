package coop.bench.demo;

import java.util.ArrayList;
import java.util.List;

/**
 * A linear chart axis from zero to a round maximum, mapped onto a pixel range (which may run
 * backwards, as a y axis does in SVG), with ticks at a round step.
 *
 * @param max  the largest value shown, a multiple of {@code step}
 * @param step the distance between ticks
 * @param from the pixel zero maps to
 * @param to   the pixel {@code max} maps to
 */
record Axis(double max, double step, double from, double to) {

    /** Round steps, per power of ten; 4 keeps a GPU axis of 16 at 0, 4, 8, 12, 16. */
    private static final double[] ROUND = {1, 2, 2.5, 4, 5, 10};

    /** An axis whose maximum is the first round value at or above {@code value}, with about {@code ticks} ticks. */
    static Axis upTo(double value, int ticks, double from, double to) {
        double v = value > 0 ? value : 1;
        double raw = v / ticks;
        double magnitude = Math.pow(10, Math.floor(Math.log10(raw)));
        double step = magnitude * 10;
        for (double r : ROUND) {
            if (raw <= r * magnitude * (1 + 1e-9)) {
                step = r * magnitude;
                break;
            }
        }
        return new Axis(Math.ceil(v / step - 1e-9) * step, step, from, to);
    }

    /** The pixel of {@code value}. */
    double at(double value) {
        return from + (to - from) * value / max;
    }

    /** Tick values from zero to the maximum. */
    List<Double> ticks() {
        List<Double> t = new ArrayList<>();
        int n = (int) Math.round(max / step);
        for (int i = 0; i <= n; i++) {
            t.add(i * step);
        }
        return t;
    }
}
