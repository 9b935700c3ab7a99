package coop.scheduler.domain;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The rules of a shipped folder: its digest's form in a request, and the voted cap on its size,
 * which a ledger written before the cap existed still verifies without.
 */
class WorkdirRulesTest {
    private static JobSpec spec(String workdir) {
        return new JobSpec("lab-a", 1, 1, "", 0, "python3 train.py", 0, "", false, false, "", "", "", 0, Map.of(), "",
                workdir);
    }

    @Test
    void aWorkdirIsASha256InLowercaseHexOrNothing() {
        assertThat(spec("").checked(3600).workdir()).isEmpty();
        assertThat(spec(null).checked(3600).workdir()).isEmpty();
        String digest = "0123456789abcdef".repeat(4);
        assertThat(spec(digest).checked(3600).workdir()).isEqualTo(digest);
        for (String bad : new String[] {"abc", digest.toUpperCase(), digest + "0", "../" + digest.substring(3),
            "g".repeat(64)}) {
            assertThatThrownBy(() -> spec(bad).checked(3600)).as(bad).isInstanceOf(CoopException.class)
                    .hasMessageStartingWith("workdir: ").hasMessageContaining("sha256");
        }
    }

    @Test
    void theCapIs64MiBByDefaultAndVotedWithinItsRange() {
        assertThat(Params.DEFAULTS.maxWorkdirBytes()).isEqualTo(64L * 1024 * 1024);
        assertThat(Params.DEFAULTS.shown()).containsEntry("max_workdir_bytes", 67_108_864L);
        assertThat(Params.names()).contains("max_workdir_bytes");
        Params raised = Params.DEFAULTS.with(Map.of("max_workdir_bytes", 256L << 20));
        assertThat(raised.maxWorkdirBytes()).isEqualTo(256L << 20);
        assertThatThrownBy(() -> Params.DEFAULTS.with(Map.of("max_workdir_bytes", 1000L)))
                .hasMessageStartingWith("params.max_workdir_bytes: ").hasMessageContaining("bytes between");
        assertThatThrownBy(() -> Params.DEFAULTS.with(Map.of("max_workdir_bytes", 2L << 30)))
                .hasMessageStartingWith("params.max_workdir_bytes: ");
    }

    @Test
    void theLedgerRecordsTheCapOnlyOnceAVoteMovedIt() {
        // Policies enacted before the cap existed read, and replay, without it.
        assertThat(Params.DEFAULTS.toMap()).doesNotContainKey("max_workdir_bytes");
        assertThat(Params.fromMap(Params.DEFAULTS.toMap())).isEqualTo(Params.DEFAULTS);
        Params raised = Params.DEFAULTS.with(Map.of("max_workdir_bytes", 128L << 20));
        assertThat(raised.toMap()).containsEntry("max_workdir_bytes", 128L << 20);
        assertThat(Params.fromMap(raised.toMap())).isEqualTo(raised);
    }
}
