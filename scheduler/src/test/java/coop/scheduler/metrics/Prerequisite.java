package coop.scheduler.metrics;

import static org.junit.jupiter.api.Assertions.fail;

import org.junit.jupiter.api.Assumptions;

/**
 * A tool a test needs from the machine. Missing, the test is skipped with a message saying how
 * to run it, unless {@code COOP_REQUIRE_PREREQS=1} (CI sets it): then it fails, so that CI
 * never passes by skipping.
 */
final class Prerequisite {
    private Prerequisite() {
    }

    static void require(boolean present, String missing) {
        if (present) {
            return;
        }
        if ("1".equals(System.getenv("COOP_REQUIRE_PREREQS"))) {
            fail(missing + " (COOP_REQUIRE_PREREQS=1)");
        }
        Assumptions.abort(missing + "; skipped (with COOP_REQUIRE_PREREQS=1 this fails)");
    }
}
