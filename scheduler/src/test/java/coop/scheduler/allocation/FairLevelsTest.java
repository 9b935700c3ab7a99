package coop.scheduler.allocation;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import java.util.Map;
import org.junit.jupiter.api.Test;

class FairLevelsTest {
    private static Map<String, AccountStanding> shares(int a, int b, int c) {
        return Map.of("a", new AccountStanding("a", a * 100, 0), "b", new AccountStanding("b", b * 100, 0),
                "c", new AccountStanding("c", c * 100, 0));
    }

    @Test
    void withDemandEverywhereLevelsFollowTheShares() {
        var l = FairLevels.waterFill(100, Map.of("a", 500.0, "b", 500.0, "c", 500.0), shares(50, 30, 20));
        assertThat(l.get("a")).isCloseTo(50, within(1e-9));
        assertThat(l.get("b")).isCloseTo(30, within(1e-9));
        assertThat(l.get("c")).isCloseTo(20, within(1e-9));
    }

    @Test
    void whatACappedAccountLeavesFlowsToTheOthersByShare() {
        // a wants only 10 of its 50: the other 40 go to b and c in proportion 30:20.
        var l = FairLevels.waterFill(100, Map.of("a", 10.0, "b", 500.0, "c", 500.0), shares(50, 30, 20));
        assertThat(l.get("a")).isCloseTo(10, within(1e-9));
        assertThat(l.get("b")).isCloseTo(54, within(1e-9));
        assertThat(l.get("c")).isCloseTo(36, within(1e-9));
    }

    @Test
    void cappingCascades() {
        // a capped at 10; then b's level would be 54 but it wants 40; c gets the rest.
        var l = FairLevels.waterFill(100, Map.of("a", 10.0, "b", 40.0, "c", 500.0), shares(50, 30, 20));
        assertThat(l.get("b")).isCloseTo(40, within(1e-9));
        assertThat(l.get("c")).isCloseTo(50, within(1e-9));
    }

    @Test
    void accountsWithoutDemandOrShareGetNothing() {
        var l = FairLevels.waterFill(100, Map.of("a", 0.0, "b", 500.0, "c", 500.0), shares(0, 60, 40));
        assertThat(l.get("a")).isZero();
        assertThat(l.get("b") + l.get("c")).isCloseTo(100, within(1e-9));
    }
}
