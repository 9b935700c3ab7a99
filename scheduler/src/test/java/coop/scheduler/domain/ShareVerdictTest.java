package coop.scheduler.domain;

import static org.assertj.core.api.Assertions.assertThat;

import coop.scheduler.domain.ShareVerdict.Outcome;
import java.util.List;
import org.junit.jupiter.api.Test;

class ShareVerdictTest {

    @Test
    void withinFivePointsEitherWayIsKeptWhoeverHadWorkWaiting() {
        assertThat(ShareVerdict.of(20, 25, false, false, true).outcome()).isEqualTo(Outcome.KEPT);
        assertThat(ShareVerdict.of(20, 15, false, false, true).outcome()).isEqualTo(Outcome.KEPT);
        assertThat(ShareVerdict.of(20, 25, true, true, true).gapPp()).isEqualTo(5.0);
    }

    @Test
    void belowItsShareIsNotKeptOnlyIfTheAccountHadWorkWaitingThroughout() {
        ShareVerdict waited = ShareVerdict.of(20, 10, true, false, true);
        assertThat(waited.outcome()).isEqualTo(Outcome.NOT_KEPT);
        assertThat(waited.gapPp()).isEqualTo(-10.0);
        assertThat(ShareVerdict.of(20, 10, false, true, true).outcome()).isEqualTo(Outcome.NOT_JUDGED);
    }

    @Test
    void aboveItsShareIsNotKeptOnlyIfEveryOtherAccountHadWorkWaitingThroughout() {
        // The member's case: 85.7 % achieved against 20 % voted.
        assertThat(ShareVerdict.of(20, 85.7, true, true, true).outcome()).isEqualTo(Outcome.NOT_KEPT);
        assertThat(ShareVerdict.of(20, 85.7, true, false, true).outcome()).isEqualTo(Outcome.NOT_JUDGED);
    }

    @Test
    void aStretchWithNoGpuTimeUsedSaysNothing() {
        assertThat(ShareVerdict.of(50, 0, true, true, false).outcome()).isEqualTo(Outcome.NOT_JUDGED);
    }

    @Test
    void allAccountsTogetherAreNotKeptIfAnyIsKeptIfAllAreAndOtherwiseNotJudged() {
        assertThat(ShareVerdict.overall(List.of(Outcome.KEPT, Outcome.NOT_JUDGED, Outcome.NOT_KEPT)))
                .isEqualTo(Outcome.NOT_KEPT);
        assertThat(ShareVerdict.overall(List.of(Outcome.KEPT, Outcome.KEPT))).isEqualTo(Outcome.KEPT);
        assertThat(ShareVerdict.overall(List.of(Outcome.KEPT, Outcome.NOT_JUDGED))).isEqualTo(Outcome.NOT_JUDGED);
        assertThat(ShareVerdict.overall(List.of())).isEqualTo(Outcome.NOT_JUDGED);
    }

    @Test
    void theRuleStatesTheToleranceItJudgesBy() {
        assertThat(ShareVerdict.RULE).contains(String.format(java.util.Locale.ROOT, "within %.0f pp",
                ShareVerdict.TOLERANCE_PP));
        assertThat(Outcome.NOT_KEPT.label()).isEqualTo("not kept");
    }
}
