package coop.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class ShareArgumentTest {

    @ParameterizedTest
    @CsvSource({"lab-a=50,5000", "lab-a=33.33,3333", "lab-a=0.01,1", "lab-a=100,10000", "lab-a=12.5,1250",
            "lab-a=1.230,123", "lab-a=0,0"})
    void convertsPercentToExactBasisPoints(String argument, int basisPoints) {
        assertThat(ShareArgument.parse(argument)).isEqualTo(new ShareArgument("lab-a", basisPoints));
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', quoteCharacter = '"', value = {
            "lab-a=1.234|share for lab-a may have at most two decimals, got 1.234",
            "lab-a=-5|share for lab-a must be between 0 and 100, got -5",
            "lab-a=100.01|share for lab-a must be between 0 and 100, got 100.01",
            "lab-a=99999999999|share for lab-a must be between 0 and 100, got 99999999999",
            "lab-a=|share for lab-a must be a percentage such as 30 or 33.33, got ''",
            "lab-a=fifty|share for lab-a must be a percentage such as 30 or 33.33, got 'fifty'",
            "lab-a=1e2|share for lab-a must be a percentage such as 30 or 33.33, got '1e2'",
            "lab-a=5%|share for lab-a must be a percentage such as 30 or 33.33, got '5%'",
            "lab-a|share 'lab-a' is not ACCOUNT=PERCENT (for example lab-a=50)",
            "=50|share '=50' is not ACCOUNT=PERCENT (for example lab-a=50)"})
    void rejectsABadShareNamingItsAccountAndTheRule(String argument, String message) {
        assertThatThrownBy(() -> ShareArgument.parse(argument))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage(message);
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
        assertThat(run.err()).startsWith("share for lab-a may have at most two decimals, got 1.234");
        // A bad share after the first one is named just the same, not left as an unmatched argument.
        CliRun later = CliRun.of("propose", "shares", "--identity", "/nonexistent", "lab-a=50", "lab-b=-30");
        assertThat(later.exitCode()).isEqualTo(2);
        assertThat(later.err()).startsWith("share for lab-b must be between 0 and 100, got -30");
    }
}
