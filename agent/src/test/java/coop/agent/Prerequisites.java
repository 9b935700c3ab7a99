package coop.agent;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assumptions.assumeThat;

/**
 * Tests that need root, runc or local users: where {@code COOP_REQUIRE_PREREQS=1} (CI, which
 * installs them) a missing one fails the test; elsewhere the test is skipped, saying what it needs.
 */
public final class Prerequisites {

    private Prerequisites() {
    }

    public static void require(boolean present, String what) {
        if ("1".equals(System.getenv("COOP_REQUIRE_PREREQS"))) {
            assertThat(present).as("this test needs " + what + "; .ci/run provides it").isTrue();
        }
        assumeThat(present).as("skipped: needs " + what + " (run as root with it installed, as .ci/run does)").isTrue();
    }
}
