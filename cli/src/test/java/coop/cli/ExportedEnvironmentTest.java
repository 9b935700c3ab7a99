package coop.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ExportedEnvironmentTest {
    @TempDir
    Path dir;

    private final Map<String, String> own = Map.ofEntries(Map.entry("PATH", "/home/ada/venv/bin:/usr/bin"),
            Map.entry("VIRTUAL_ENV", "/home/ada/venv"), Map.entry("COOP_IDENTITY", "/home/ada/.coop/id"),
            Map.entry("SSH_AUTH_SOCK", "/tmp/ssh-x/agent.1"), Map.entry("GITHUB_TOKEN", "ghp_x"),
            Map.entry("db_password", "x"), Map.entry("AWS_PROFILE", "lab"), Map.entry("OPENAI_API_KEY", "sk-x"),
            Map.entry("HF_HOME", "/data/hf"), Map.entry("HOME", "/home/ada"), Map.entry("BASH_FUNC_f%%", "() { :; }"),
            Map.entry("CUDA_VISIBLE_DEVICES", "0"), Map.entry("XKB_LAYOUT", "us"));

    @Test
    void allSendsTheEnvironmentLessTheDenyList() {
        assertThat(ExportedEnvironment.of("ALL", null, own)).containsOnlyKeys("PATH", "VIRTUAL_ENV", "HF_HOME",
                "XKB_LAYOUT");
        assertThat(ExportedEnvironment.of(null, null, own)).isEqualTo(ExportedEnvironment.of("ALL", null, own));
    }

    @Test
    void noneSendsNothingAndNamesSendOnlyThose() {
        assertThat(ExportedEnvironment.of("NONE", null, own)).isEmpty();
        assertThat(ExportedEnvironment.of("VIRTUAL_ENV,LR=3e-4,GITHUB_TOKEN", null, own)).containsExactlyEntriesOf(
                new java.util.TreeMap<>(Map.of("VIRTUAL_ENV", "/home/ada/venv", "LR", "3e-4", "GITHUB_TOKEN", "ghp_x")));
        assertThat(ExportedEnvironment.of("ALL,LR=1", null, own)).containsEntry("LR", "1").containsKey("HF_HOME");
    }

    @Test
    void anEnvFileAddsItsLinesAndWins() throws Exception {
        Path file = dir.resolve("run.env");
        Files.writeString(file, "# run settings\n\nexport LR=3e-4\nHF_HOME=/scratch/hf\nQUOTED=\"a b\"\n");
        assertThat(ExportedEnvironment.of("HF_HOME", file, own)).containsExactlyEntriesOf(
                new java.util.TreeMap<>(Map.of("HF_HOME", "/scratch/hf", "LR", "3e-4", "QUOTED", "\"a b\"")));
    }

    @Test
    void badInputIsRefusedNamingTheOptionAndTheRule() throws Exception {
        assertThatThrownBy(() -> ExportedEnvironment.of("1X=2", null, own)).hasMessageStartingWith("--export: '1X'")
                .hasMessageContaining("variable name");
        assertThatThrownBy(() -> ExportedEnvironment.of("NOT_SET_HERE", null, own))
                .hasMessage("--export: NOT_SET_HERE is not set in your environment; give NOT_SET_HERE=VALUE");
        assertThatThrownBy(() -> ExportedEnvironment.of("COOP_RANK=3", null, own)).hasMessageContaining("coop's own");
        assertThatThrownBy(() -> ExportedEnvironment.of("BIG=" + "x".repeat(4097), null, own))
                .hasMessageContaining("at most 4096");
        Map<String, String> huge = new HashMap<>();
        for (int i = 0; i < 20; i++) {
            huge.put("V" + i, "x".repeat(4000));
        }
        assertThatThrownBy(() -> ExportedEnvironment.of("ALL", null, huge)).hasMessageStartingWith("--export: ")
                .hasMessageContaining("at most 65536");
        Path bad = dir.resolve("bad.env");
        Files.writeString(bad, "OK=1\nnot a line\n");
        assertThatThrownBy(() -> ExportedEnvironment.of("NONE", bad, own))
                .hasMessageStartingWith("--env-file: " + bad + " line 2");
        assertThatThrownBy(() -> ExportedEnvironment.of("NONE", dir.resolve("missing.env"), own))
                .hasMessageStartingWith("--env-file: cannot read");
    }
}
