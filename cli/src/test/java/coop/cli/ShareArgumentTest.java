package coop.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

class ShareArgumentTest {

    @ParameterizedTest
    @CsvSource({"lab-a=50,5000", "lab-a=33.33,3333", "lab-a=0.01,1", "lab-a=100,10000", "lab-a=12.5,1250",
            "lab-a=1.230,123", "lab-a=0,0"})
    void convertsPercentToExactBasisPoints(String argument, int basisPoints) {
        assertThat(ShareArgument.parse(argument)).isEqualTo(new ShareArgument("lab-a", basisPoints));
    }

    @Test
    void rejectsMoreThanTwoDecimalsNamingTheArgument() {
        assertThatThrownBy(() -> ShareArgument.parse("lab-a=1.234"))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("'lab-a=1.234'")
                .hasMessageContaining("two decimals");
    }

    @ParameterizedTest
    @ValueSource(strings = {"lab-a", "=50", "lab-a=", "lab-a=fifty", "lab-a=-5", "lab-a=1e2", "lab-a=5%"})
    void rejectsMalformedArgumentsNamingThem(String argument) {
        assertThatThrownBy(() -> ShareArgument.parse(argument))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("'" + argument + "'");
    }

    @Test
    void rejectsValuesBeyondAnInt() {
        assertThatThrownBy(() -> ShareArgument.parse("lab-a=99999999999"))
                .hasMessageContaining("'lab-a=99999999999'");
    }

    @Test
    void printsPercentagesWithoutNeedlessDecimals() {
        assertThat(ShareArgument.percent(5000)).isEqualTo("50");
        assertThat(ShareArgument.percent(3333)).isEqualTo("33.33");
        assertThat(ShareArgument.percent(1250)).isEqualTo("12.5");
        assertThat(ShareArgument.percent(0)).isEqualTo("0");
        assertThat(ShareArgument.describe(List.of(new ShareArgument("a", 5000).toProto(),
                new ShareArgument("b", 5000).toProto()))).isEqualTo("a=50% b=50%");
    }

    @Test
    void aMalformedShareOnTheCommandLineIsAParameterErrorNamingIt() {
        CliRun run = CliRun.of("propose", "shares", "--identity", "/nonexistent", "lab-a=1.234", "lab-b=98.766");
        assertThat(run.exitCode()).isEqualTo(2);
        assertThat(run.err()).contains("'lab-a=1.234'");
    }
}
