package coop.agent;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.InstantSource;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class RetentionTest {

    @TempDir
    Path workDir;

    @Test
    void removesFoldersOfRanksThatEndedBeforeTheRetentionAndTheCheckpointsOfJobsWithNoneLeft() throws Exception {
        long now = System.currentTimeMillis();
        try (ProcessLauncher launcher = new ProcessLauncher(workDir)) {
            RankId old = new RankId(1, 1, 0);
            RankId recent = new RankId(2, 1, 0);
            RankId running = new RankId(3, 1, 0);
            for (RankId r : List.of(old, recent, running)) {
                RankProcess p = launcher.start(new LaunchOrder(r, "echo out-" + r.jobId(), List.of(), Map.of(),
                        Duration.ZERO));
                assertThat(p.onExit().get(10, TimeUnit.SECONDS)).isZero();
            }
            launcher.recordEnd(old, now - Duration.ofHours(2).toMillis(), "exited 0");
            launcher.recordEnd(recent, now - Duration.ofMinutes(30).toMillis(), "exited 0");
            // The third has no end in its record: it counts as running, whatever its age.

            Retention retention = new Retention(workDir, Duration.ofHours(1), InstantSource.system());
            assertThat(retention.sweep()).isEqualTo(1);

            assertThat(launcher.rankDirectory(old)).doesNotExist();
            assertThat(launcher.checkpointDirectory(1)).doesNotExist();
            assertThat(launcher.rankDirectory(recent).resolve("stdout")).hasContent("out-2");
            assertThat(launcher.checkpointDirectory(2)).exists();
            assertThat(launcher.rankDirectory(running)).exists();
            assertThat(retention.removedAt(launcher.rankDirectory(old))).hasValueSatisfying(at ->
                    assertThat(at).isBetween(now - 1000, System.currentTimeMillis()));
            assertThat(retention.removedAt(launcher.rankDirectory(recent))).isEmpty();
            assertThat(retention.sweep()).isZero();
        }
    }

    @Test
    void keepsEverythingWhenTheRetentionIsZero() throws Exception {
        Files.createDirectories(workDir.resolve("jobs/1.1.0"));
        Retention forever = new Retention(workDir, Duration.ZERO, InstantSource.system());
        assertThat(forever.active()).isFalse();
        assertThat(forever.sweep()).isZero();
        assertThat(workDir.resolve("jobs/1.1.0")).exists();
        assertThat(new Retention(workDir, Duration.ofDays(7), InstantSource.system()).period())
                .isEqualTo(Duration.ofHours(1));
    }
}
