package coop.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

class DurationsTest {

    @ParameterizedTest
    @CsvSource({"90s,90", "2m,120", "1h,3600", "1h30m,5400", "2d,172800", "1d2h3m4s,93784", " 10m ,600"})
    void parsesCoopsUnits(String text, long seconds) {
        assertThat(Durations.parse(text)).isEqualTo(Duration.ofSeconds(seconds));
    }

    /** Every form of Slurm's --time, as sbatch reads it: a bare number, and the first of two, are minutes. */
    @ParameterizedTest
    @CsvSource({"45,2700", "90,5400", "5:30,330", "01:30:00,5400", "1:00:05,3605", "1-12,129600", "1-00:00,86400",
            "2-03:04,183840", "1-00:00:30,86430", "0-01,3600", "120:00,7200"})
    void parsesEverySlurmTimeFormat(String text, long seconds) {
        assertThat(Durations.parse(text)).isEqualTo(Duration.ofSeconds(seconds));
    }

    @Test
    void aBareNumberIsSecondsOnlyWhereTheNameSaysSo() {
        assertThat(Durations.parseSecondsOrZero("90")).isEqualTo(Duration.ofSeconds(90));
        assertThat(Durations.parseSecondsOrZero("0")).isEqualTo(Duration.ZERO);
        assertThat(Durations.parseSecondsOrZero("90m")).isEqualTo(Duration.ofMinutes(90));
        assertThat(Durations.parseSecondsOrZero("1-00:00")).isEqualTo(Duration.ofDays(1));
        assertThat(ParamSettings.parse("--set", java.util.List.of("preemption_grace_s=90", "reserve_wait_s=2m")))
                .containsEntry("preemption_grace_s", 90L).containsEntry("reserve_wait_s", 120L);
    }

    @ParameterizedTest
    @ValueSource(strings = {"1x", "h", "1.5h", "-5", "30m1h", "1h 30m", "", "1hh", "1-xx", "1:2:3:4", "1-2:3:4:5",
        ":30", "1-", "1:", "UNLIMITED"})
    void rejectsMalformedTextQuotingIt(String text) {
        assertThatThrownBy(() -> Durations.parse(text))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining(text.isEmpty() ? "empty" : "'" + text + "'");
    }

    @Test
    void rejectsZeroAndOverflow() {
        assertThatThrownBy(() -> Durations.parse("0s")).hasMessageContaining("positive");
        assertThatThrownBy(() -> Durations.parse("0")).hasMessageContaining("positive");
        assertThatThrownBy(() -> Durations.parse("99999999999999999999")).hasMessageContaining("too long");
        assertThatThrownBy(() -> Durations.parse("9999999999999999d")).hasMessageContaining("too long");
    }

    @Test
    void formatsWithTheTwoLargestUnits() {
        assertThat(Durations.format(Duration.ofSeconds(45))).isEqualTo("45s");
        assertThat(Durations.format(Duration.ofSeconds(5400))).isEqualTo("1h30m");
        assertThat(Durations.format(Duration.ofSeconds(93784))).isEqualTo("1d2h");
        assertThat(Durations.format(Duration.ofSeconds(3605))).isEqualTo("1h");
        assertThat(Durations.format(Duration.ZERO)).isEqualTo("0s");
        assertThat(Durations.format(Duration.ofSeconds(-3))).isEqualTo("0s");
    }

    @Test
    void aBadOptionValueIsAParameterErrorNamingTheOption() {
        CliRun run = CliRun.of("submit", "--identity", "/nonexistent", "--account", "a", "--gpus", "1",
                "--walltime", "1x", "--", "true");
        assertThat(run.exitCode()).isEqualTo(2);
        assertThat(run.err()).contains("--walltime").contains("'1x'");
    }
}
