package coop.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import coop.scheduler.domain.Constitution;
import coop.scheduler.domain.ProposalKind;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

class NoticeSettingsTest {
    @Test
    void allSetsEveryKindAndALaterSettingOverridesIt() {
        var byKind = NoticeSettings.parse("--notice", List.of("all=0", "amend=21d", "remove=90s"));
        assertThat(byKind).hasSize(ProposalKind.values().length)
                .containsEntry("shares", 0L).containsEntry("amend", Duration.ofDays(21).toSeconds())
                .containsEntry("remove", 90L);
    }

    @Test
    void badSettingsNameTheOptionAndTheRule() {
        assertThatThrownBy(() -> NoticeSettings.parse("--notice", List.of("amend")))
                .hasMessageContaining("--notice: 'amend' must be KIND=DURATION");
        assertThatThrownBy(() -> NoticeSettings.parse("--notice", List.of("vote=1d")))
                .hasMessageContaining("unknown kind 'vote'").hasMessageContaining("or all");
        assertThatThrownBy(() -> NoticeSettings.parse("--notice", List.of("amend=soon")))
                .hasMessageContaining("--notice: amend:");
    }

    @Test
    void initFoundsRulesTwoWithTheNoticesGivenAndTheRestAtTheirDefaults() {
        Constitution c = InitCommand.constitution(List.of("shares=1h"));
        assertThat(c.protective()).isTrue();
        assertThat(c.minNotice(ProposalKind.SHARES)).isEqualTo(3600);
        assertThat(c.minNotice(ProposalKind.AMEND)).isEqualTo(Duration.ofDays(14).toSeconds());
        assertThat(InitCommand.constitution(List.of())).isEqualTo(Constitution.FOUNDING);
        assertThatThrownBy(() -> InitCommand.constitution(List.of("amend=61d")))
                .hasMessageContaining("--notice: amend.min_notice.amend");
    }
}
