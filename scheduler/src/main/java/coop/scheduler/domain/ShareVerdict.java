package coop.scheduler.domain;

import java.util.Collection;
import java.util.Locale;

/**
 * Whether an account's voted share was kept over a stretch of time: the one rule the live usage
 * report ({@code coop usage}, the dashboard) and the demo's report judge by. The gap is achieved
 * minus voted, in percentage points. Within {@link #TOLERANCE_PP} either way the share was kept.
 * Further below, it was not kept only if the account had work waiting throughout: a scheduler
 * that lends idle GPUs owes nothing to an account that asked for none. Further above, it was not
 * kept only if every other account had work waiting throughout, since only then did the excess
 * come from someone who wanted it. Otherwise, and when no GPU time was used at all, the stretch
 * says nothing either way ({@link Outcome#NOT_JUDGED}).
 */
public record ShareVerdict(Outcome outcome, double gapPp) {

    /** How close to its voted share each account is promised, in percentage points. */
    public static final double TOLERANCE_PP = 5;

    /** The rule in one sentence, for readers of the report (a constant, so a command's help can quote it). */
    public static final String RULE = "kept: achieved within 5 pp of voted; "
            + "not kept: further below while the account had work waiting throughout, or further above while "
            + "every other account had work waiting throughout; otherwise not judged";

    public enum Outcome {
        KEPT, NOT_KEPT, NOT_JUDGED;

        /** As the wire and the page show it: "kept", "not kept", "not judged". */
        public String label() {
            return name().toLowerCase(Locale.ROOT).replace('_', ' ');
        }
    }

    /**
     * One account's verdict.
     *
     * @param votedPercent      its voted share over the stretch
     * @param achievedPercent   its share of the GPU time used in the stretch
     * @param waited            whether it had work waiting throughout the stretch
     * @param othersWaited      whether every other account had work waiting throughout
     * @param anyUsed           whether any GPU time was used in the stretch
     */
    public static ShareVerdict of(double votedPercent, double achievedPercent, boolean waited, boolean othersWaited,
                                  boolean anyUsed) {
        double gap = achievedPercent - votedPercent;
        Outcome o;
        if (!anyUsed) {
            o = Outcome.NOT_JUDGED;
        } else if (Math.abs(gap) <= TOLERANCE_PP) {
            o = Outcome.KEPT;
        } else if (gap < 0) {
            o = waited ? Outcome.NOT_KEPT : Outcome.NOT_JUDGED;
        } else {
            o = othersWaited ? Outcome.NOT_KEPT : Outcome.NOT_JUDGED;
        }
        return new ShareVerdict(o, gap);
    }

    /** The verdict on all accounts together: not kept if any was not, kept if all were, otherwise not judged. */
    public static Outcome overall(Collection<Outcome> accounts) {
        if (accounts.contains(Outcome.NOT_KEPT)) {
            return Outcome.NOT_KEPT;
        }
        return !accounts.isEmpty() && accounts.stream().allMatch(o -> o == Outcome.KEPT) ? Outcome.KEPT
                : Outcome.NOT_JUDGED;
    }
}
