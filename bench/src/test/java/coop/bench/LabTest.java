package coop.bench;

import static org.assertj.core.api.Assertions.assertThat;

import coop.cli.Main;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The lab's commands join {@code coop} from this module's jar, found by the cli's {@link Main}. */
class LabTest {

    @Test
    void theFullCommandLineListsDemoAndBenchAfterSimulate() {
        List<String> names = new ArrayList<>(Main.commandLine().getSubcommands().keySet());
        assertThat(names).containsSubsequence("simulate", "demo", "bench", "submit");
        assertThat(names.indexOf("demo")).isEqualTo(names.indexOf("simulate") + 1);
    }

    @Test
    void aCallNamingALabCommandBuildsThatOneAlone() {
        assertThat(Main.commandLine("bench", "submit", "--help").getSubcommands()).containsOnlyKeys("bench");
        assertThat(Main.commandLine("demo", "--help").getSubcommands()).containsOnlyKeys("demo");
        CliRun alone = CliRun.of("bench", "--help");
        assertThat(alone.exitCode()).isZero();
        assertThat(alone.out()).contains("submit", "e2e", "agents", "crash", "failover", "replay", "ledger", "schedule");
    }
}
