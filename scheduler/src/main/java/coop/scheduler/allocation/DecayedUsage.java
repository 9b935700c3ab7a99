package coop.scheduler.allocation;

import java.time.Duration;
import java.util.HashMap;
import java.util.Map;

/**
 * GPU-seconds per account, decayed exponentially with a half-life, as Slurm's and HTCondor's
 * fair-share do: usage from one half-life ago weighs half as much as usage now. Between two
 * events the GPUs each account holds are constant, so the tracker advances in closed form:
 * {@code U(t+Δ) = U(t)·e^(−λΔ) + g·(1 − e^(−λΔ))/λ} with {@code λ = ln 2 / half-life}. Pure: the
 * caller passes the time.
 */
public final class DecayedUsage {
    private final double lambda;
    private final Map<String, Double> usage = new HashMap<>();
    private long at;

    public DecayedUsage(Duration halfLife, long startMs) {
        if (halfLife.isZero() || halfLife.isNegative()) {
            throw new IllegalArgumentException("half-life must be positive, got " + halfLife);
        }
        this.lambda = Math.log(2) / (halfLife.toMillis() / 1000.0);
        this.at = startMs;
    }

    /** Moves to {@code nowMs}, the accounts having held {@code gpus} GPUs since the last call. */
    public void advance(long nowMs, Map<String, Integer> gpus) {
        Map<String, Double> rates = new HashMap<>();
        gpus.forEach((a, g) -> rates.put(a, (double) g));
        advanceAtRates(nowMs, rates);
    }

    /** Moves to {@code nowMs}, the accounts having accrued {@code rates} GPUs (fractional) since the last call. */
    public void advanceAtRates(long nowMs, Map<String, Double> rates) {
        if (nowMs <= at) {
            return;
        }
        double dt = (nowMs - at) / 1000.0;
        double keep = Math.exp(-lambda * dt);
        double gained = (1 - keep) / lambda;
        usage.replaceAll((a, u) -> u * keep);
        rates.forEach((a, g) -> usage.merge(a, g * gained, Double::sum));
        at = nowMs;
    }

    /** Adds usage that happened at {@code whenMs} (in the past), decayed to the tracker's time. */
    public void addPast(String account, double gpuSeconds, long whenMs) {
        double age = Math.max(0, (at - whenMs) / 1000.0);
        usage.merge(account, gpuSeconds * Math.exp(-lambda * age), Double::sum);
    }

    /**
     * Adds a past interval {@code [fromMs, toMs]} of {@code gpus} GPUs, exactly decayed to the
     * tracker's time (used to rebuild usage from recorded attempts after a restart).
     */
    public void addInterval(String account, int gpus, long fromMs, long toMs) {
        if (toMs <= fromMs) {
            return;
        }
        double a = Math.max(0, (at - toMs) / 1000.0);
        double b = Math.max(0, (at - fromMs) / 1000.0);
        usage.merge(account, gpus * (Math.exp(-lambda * a) - Math.exp(-lambda * b)) / lambda, Double::sum);
    }

    /** Forgets all usage: every account starts from zero at {@code nowMs}. */
    public void restart(long nowMs) {
        usage.clear();
        at = Math.max(at, nowMs);
    }

    public double of(String account) {
        return usage.getOrDefault(account, 0.0);
    }

    public Map<String, Double> all() {
        return Map.copyOf(usage);
    }
}
