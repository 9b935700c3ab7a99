package coop.scheduler.sim;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.SplittableRandom;

/**
 * Synthetic job traces with the statistics of the shared Philly trace
 * ({@code shared/traces/philly-gavel-2166.csv}, 2,166 jobs of 15 accounts over 498.9 h), so
 * that an allocator is judged on traces it was not tuned on. The same seed gives the same
 * trace, and the first {@code n} jobs of a longer trace of the same seed are the trace of
 * {@code n} jobs.
 *
 * <p>Each of the 15 Philly accounts keeps its name (so the trace README's share vector applies),
 * its rate of jobs, its mix of GPU counts (1, 2, 4, 8, 16, 32) and a log-normal run time fitted
 * to its own jobs: the skew of demand between accounts (one account 35 % of the GPU-hours, five
 * under 1 %, two with a dozen jobs of about 50 days) comes from these profiles. Accounts submit
 * independently, in bursts:
 * <ul>
 *   <li>a burst is a run of one account's submits less than 10 minutes apart; in Philly 750
 *       bursts hold the 2,166 jobs, 61 % of them a single job and the largest 172;
 *       burst sizes follow P(size ≥ k) = k^-1.35 (fitted: 39 % of bursts have two jobs or
 *       more, 10 % five or more, 0.3 % a hundred or more), capped at 172;</li>
 *   <li>submits within a burst are an exponential 61.4 s apart (Philly's mean gap under 10
 *       minutes);</li>
 *   <li>the gaps between an account's bursts have Philly's coefficient of variation, 3.26: a
 *       two-phase hyperexponential with balanced means, so that quiet days alternate with busy
 *       hours as they do in Philly (hourly submit counts with variance 25 times their mean
 *       there).</li>
 * </ul>
 * Jobs of 32 GPUs take their run time from Philly's 32-GPU jobs instead, which ran about half a
 * day whatever their account. Run times are clipped to Philly's range, 1,200 s (Gavel dropped shorter jobs) to 5,163,642 s.
 * Submits and run times are whole seconds, like the shared trace's.
 */
public final class SyntheticTrace {
    /** Philly's submit span, first to last submit: the jobs of each profile came in this time. */
    static final double PHILLY_SPAN_S = 1_796_081;
    /** Exponent of the burst-size tail P(size ≥ k) = k^-ALPHA, fitted to Philly's 750 bursts. */
    static final double BURST_ALPHA = 1.35;
    /** Philly's largest burst. */
    static final int MAX_BURST = 172;
    /** Mean gap between two submits of one burst: Philly's mean within-account gap under 600 s. */
    static final double BURST_GAP_MEAN_S = 61.4;
    /** Coefficient of variation of the gaps between one account's bursts in Philly. */
    static final double BURST_SPACING_CV = 3.26;
    static final long MIN_DURATION_S = 1_200;
    static final long MAX_DURATION_S = 5_163_642;
    static final int[] GPU_SIZES = {1, 2, 4, 8, 16, 32};
    /**
     * Philly's 19 jobs of 32 GPUs ran 0.6 h to 29 h (17 of them 13 to 18 h), far shorter than
     * the rest of their accounts' jobs: they get this log-normal of their own (mean and standard
     * deviation of the log of their seconds), not their account's.
     */
    static final double GANG_32_LOG_MEAN = 10.74;
    static final double GANG_32_LOG_SD = 0.75;

    /**
     * One Philly account: its jobs in the shared trace, how many of them ran on 1, 2, 4, 8, 16
     * and 32 GPUs, and the mean and standard deviation of the natural log of their run times
     * (seconds).
     */
    record Profile(String account, int jobs, int[] gpuCounts, double logMean, double logSd) {
    }

    /** Measured on {@code philly-gavel-2166.csv}, accounts by GPU-hours, largest first. */
    static final List<Profile> PHILLY = List.of(
            new Profile("vc-b436b2", 287, new int[] {58, 20, 94, 96, 19, 0}, 10.98, 2.42),
            new Profile("vc-ee9e8c", 485, new int[] {281, 4, 91, 82, 27, 0}, 10.87, 1.84),
            new Profile("vc-6c71a0", 641, new int[] {483, 6, 41, 106, 4, 1}, 10.68, 2.12),
            new Profile("vc-0e4a51", 264, new int[] {36, 177, 51, 0, 0, 0}, 11.90, 1.11),
            new Profile("vc-6214e9", 16, new int[] {10, 2, 4, 0, 0, 0}, 15.32, 0.11),
            new Profile("vc-7f04ca", 12, new int[] {9, 0, 0, 3, 0, 0}, 14.87, 0.22),
            new Profile("vc-2869ce", 104, new int[] {2, 1, 5, 78, 0, 18}, 10.52, 1.98),
            new Profile("vc-e13805", 76, new int[] {46, 0, 18, 12, 0, 0}, 10.69, 1.89),
            new Profile("vc-ed69ec", 120, new int[] {120, 0, 0, 0, 0, 0}, 11.58, 1.75),
            new Profile("vc-103959", 127, new int[] {72, 10, 45, 0, 0, 0}, 10.39, 1.34),
            new Profile("vc-11cb48", 2, new int[] {2, 0, 0, 0, 0, 0}, 15.03, 0.37),
            new Profile("vc-925e2b", 4, new int[] {1, 0, 0, 3, 0, 0}, 9.68, 2.00),
            new Profile("vc-51b7ef", 16, new int[] {2, 0, 2, 12, 0, 0}, 9.63, 1.16),
            new Profile("vc-23dbec", 9, new int[] {2, 0, 0, 7, 0, 0}, 9.03, 0.63),
            new Profile("vc-795a4c", 3, new int[] {3, 0, 0, 0, 0, 0}, 8.31, 0.88));

    /** E[burst size] under the capped power law: the sum of P(size ≥ k) for k = 1..MAX_BURST. */
    static final double MEAN_BURST = meanBurst();

    private SyntheticTrace() {
    }

    /** The accounts a synthetic trace may have, by Philly GPU-hours, largest first. */
    public static List<String> accounts() {
        return PHILLY.stream().map(Profile::account).toList();
    }

    /** A trace of {@code jobs} jobs drawn with {@code seed}; its first submit is at 0. */
    public static Trace generate(long seed, int jobs) {
        if (jobs <= 0) {
            throw new IllegalArgumentException("a synthetic trace needs at least one job, got " + jobs);
        }
        double totalRate = PHILLY.stream().mapToInt(Profile::jobs).sum() / PHILLY_SPAN_S;
        // Long enough for the jobs on average; doubled until it holds them. Every job submitted
        // before the horizon is drawn (a burst starting later submits later), so the first
        // {@code jobs} of them do not depend on the horizon.
        double horizon = 2 * jobs / totalRate;
        while (true) {
            List<Draft> drafts = draw(seed, horizon);
            if (drafts.size() >= jobs) {
                drafts.sort(Comparator.comparingLong(Draft::submitS).thenComparingInt(Draft::profile));
                List<TraceJob> out = new ArrayList<>(jobs);
                long first = drafts.get(0).submitS();
                for (int i = 0; i < jobs; i++) {
                    Draft d = drafts.get(i);
                    out.add(new TraceJob(i + 1, i + 2, (d.submitS() - first) * 1000,
                            PHILLY.get(d.profile()).account(), d.gpus(), d.durationS() * 1000, ""));
                }
                return new Trace("synthetic seed " + seed + ", " + jobs + " jobs", out);
            }
            horizon *= 2;
        }
    }

    private record Draft(long submitS, int profile, int gpus, long durationS) {
    }

    /** Every job submitted before {@code horizonS}, all accounts. */
    private static List<Draft> draw(long seed, double horizonS) {
        SplittableRandom root = new SplittableRandom(seed);
        List<Draft> drafts = new ArrayList<>();
        for (int p = 0; p < PHILLY.size(); p++) {
            // One stream per account, split in a fixed order: an account's jobs depend only on
            // the seed, not on how many the other accounts drew.
            SplittableRandom rng = root.split();
            Profile profile = PHILLY.get(p);
            double meanSpacing = PHILLY_SPAN_S * MEAN_BURST / profile.jobs();
            Spacing spacing = new Spacing(meanSpacing, BURST_SPACING_CV);
            double t = spacing.firstGap(rng);
            while (t < horizonS) {
                int size = burstSize(rng);
                double at = t;
                // The whole burst is drawn even past the horizon, so that the stream's next burst
                // draws the same numbers whatever the horizon.
                for (int k = 0; k < size; k++) {
                    if (k > 0) {
                        at += exponential(rng, BURST_GAP_MEAN_S);
                    }
                    int gpus = gpus(rng, profile);
                    Draft d = new Draft((long) Math.floor(at), p, gpus, duration(rng, profile, gpus));
                    if (at < horizonS) {
                        drafts.add(d);
                    }
                }
                t += spacing.gap(rng);
            }
        }
        return drafts;
    }

    /**
     * A two-phase hyperexponential with balanced means: mean {@code mean}, coefficient of
     * variation {@code cv} (at least 1). Each phase carries half the mean.
     */
    private record Spacing(double p, double shortMean, double longMean) {
        Spacing(double mean, double cv) {
            this(balancedP(cv), mean / (2 * balancedP(cv)), mean / (2 * (1 - balancedP(cv))));
        }

        private static double balancedP(double cv) {
            double c2 = cv * cv;
            return 0.5 * (1 + Math.sqrt((c2 - 1) / (c2 + 1)));
        }

        double gap(SplittableRandom rng) {
            return exponential(rng, rng.nextDouble() < p ? shortMean : longMean);
        }

        /**
         * The time from an arbitrary start to the first burst (the renewal process's residual
         * life): with balanced means each phase is as likely, and a phase's residual is
         * exponential with its own mean.
         */
        double firstGap(SplittableRandom rng) {
            return exponential(rng, rng.nextBoolean() ? shortMean : longMean);
        }
    }

    private static int burstSize(SplittableRandom rng) {
        double u = 1 - rng.nextDouble();
        double size = Math.floor(Math.pow(u, -1 / BURST_ALPHA));
        return (int) Math.min(MAX_BURST, size);
    }

    private static int gpus(SplittableRandom rng, Profile profile) {
        int pick = rng.nextInt(profile.jobs());
        for (int i = 0; i < GPU_SIZES.length; i++) {
            pick -= profile.gpuCounts()[i];
            if (pick < 0) {
                return GPU_SIZES[i];
            }
        }
        throw new IllegalStateException(profile.account() + ": GPU counts do not sum to its jobs");
    }

    private static long duration(SplittableRandom rng, Profile profile, int gpus) {
        double z = gaussian(rng);
        double seconds = gpus == 32 ? Math.exp(GANG_32_LOG_MEAN + GANG_32_LOG_SD * z)
                : Math.exp(profile.logMean() + profile.logSd() * z);
        return Math.max(MIN_DURATION_S, Math.min(MAX_DURATION_S, Math.round(seconds)));
    }

    private static double exponential(SplittableRandom rng, double mean) {
        return -mean * Math.log(1 - rng.nextDouble());
    }

    /** A standard normal draw (Box–Muller), so that the trace depends only on SplittableRandom's stream. */
    private static double gaussian(SplittableRandom rng) {
        double u1 = 1 - rng.nextDouble();
        double u2 = rng.nextDouble();
        return Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
    }

    private static double meanBurst() {
        double sum = 0;
        for (int k = 1; k <= MAX_BURST; k++) {
            sum += Math.pow(k, -BURST_ALPHA);
        }
        return sum;
    }
}
