package coop.agent;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The start-up checks of the operator's scripts and folder: each bad one is one line naming its flag. */
class NodeHooksTest {

    @TempDir
    Path dir;

    @Test
    void commandsBashCanRunPass() throws Exception {
        Path script = dir.resolve("check.sh");
        Files.writeString(script, "#!/bin/sh\nexit 0\n");
        Files.setPosixFilePermissions(script, PosixFilePermissions.fromString("rwxr-xr-x"));
        NodeHooks hooks = NodeHooks.of(script + " --quiet", Duration.ofSeconds(30), "LC_ALL=C true",
                "test -d /tmp", dir.resolve("map"));
        assertThatCode(hooks::check).doesNotThrowAnyException();
        assertThat(dir.resolve("map")).isDirectory();
        assertThat(NodeHooks.of("true", null, null, null, null).healthEvery()).isEqualTo(Duration.ofMinutes(5));
    }

    @Test
    void aCommandNotOnThePathIsRefusedNamingTheFlag() {
        assertThatThrownBy(() -> NodeHooks.of("nhc-does-not-exist -t 30", null, null, null, null).check())
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("--health-check: command 'nhc-does-not-exist' not found on the PATH");
        assertThatThrownBy(() -> NodeHooks.of(null, null, "/nowhere/prolog.sh", null, null).check())
                .hasMessage("--prolog: /nowhere/prolog.sh does not exist");
    }

    @Test
    void aFileThatIsNotExecutableIsRefused() throws Exception {
        Path script = dir.resolve("epilog.sh");
        Files.writeString(script, "exit 0\n");
        Files.setPosixFilePermissions(script, PosixFilePermissions.fromString("rw-r--r--"));
        assertThatThrownBy(() -> NodeHooks.of(null, null, null, script.toString(), null).check())
                .hasMessage("--epilog: " + script + " is not an executable file");
    }

    @Test
    void aMapFolderThatCannotBeCreatedIsRefused() throws Exception {
        Path file = dir.resolve("a-file");
        Files.writeString(file, "");
        assertThatThrownBy(() -> NodeHooks.of(null, null, null, null, file.resolve("map")).check())
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageStartingWith("--gpu-job-map: cannot create or write folder " + file.resolve("map"));
    }

    @Test
    void aPeriodThatIsNotPositiveIsRefused() {
        assertThatThrownBy(() -> NodeHooks.of("true", Duration.ZERO, null, null, null))
                .hasMessageStartingWith("--health-every must be a positive duration");
    }
}
