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
    @CsvSource({"90s,90", "2m,120", "1h,3600", "1h30m,5400", "2d,172800", "45,45", "1d2h3m4s,93784", " 10m ,600"})
    void parsesEveryForm(String text, long seconds) {
        assertThat(Durations.parse(text)).isEqualTo(Duration.ofSeconds(seconds));
    }

    @ParameterizedTest
    @ValueSource(strings = {"1x", "h", "1.5h", "-5", "30m1h", "1h 30m", "", "1hh"})
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
