package coop.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFileAttributeView;
import java.nio.file.attribute.PosixFilePermissions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class IdentityTest {

    @TempDir
    Path dir;

    @Test
    void roundTripsThroughAnOwnerOnlyFile() throws Exception {
        Path file = dir.resolve("sub/alice.json");
        Identity alice = new Identity("alice", "s3cret", "127.0.0.1:7070");
        alice.write(file);

        assertThat(Identity.read(file)).isEqualTo(alice);
        if (Files.getFileStore(dir).supportsFileAttributeView(PosixFileAttributeView.class)) {
            assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(file))).isEqualTo("rw-------");
        }
        assertThat(Files.list(file.getParent())).containsExactly(file);
    }

    @Test
    void roundTripsEveryFieldAndDialsWithThePinnedSchedulerCertificate() throws Exception {
        Path file = dir.resolve("dave.json");
        Identity dave = new Identity("dave", "t", "h:1", "pub", "priv", "CA PEM", "CERT PEM", "KEY PEM",
                "SCHEDULER PEM");
        dave.write(file);

        assertThat(Identity.read(file)).isEqualTo(dave);
        assertThat(Files.readString(file)).contains("\"scheduler_certificate\" : \"SCHEDULER PEM\"");
        assertThat(dave.tls().schedulerPem()).isEqualTo("SCHEDULER PEM");
        assertThat(dave.withTls("CA PEM", "CERT PEM", "KEY PEM", null).tls().schedulerPem()).isNull();
    }

    @Test
    void overwritesAndOmitsAMissingScheduler() throws Exception {
        Path file = dir.resolve("bob.json");
        new Identity("bob", "one", "10.0.0.1:7070").write(file);
        new Identity("bob", "two", null).write(file);

        assertThat(Identity.read(file)).isEqualTo(new Identity("bob", "two", null));
        assertThat(Files.readString(file)).doesNotContain("scheduler");
    }

    @Test
    void readsTheDocumentedFormatAndIgnoresUnknownFields() throws Exception {
        Path file = dir.resolve("carol.json");
        Files.writeString(file, "{\"member\":\"carol\",\"token\":\"t\",\"scheduler\":\"h:1\",\"key\":\"future\"}");
        assertThat(Identity.read(file)).isEqualTo(new Identity("carol", "t", "h:1"));
    }

    @Test
    void aMissingFileIsAnErrorNamingIt() {
        Path file = dir.resolve("nobody.json");
        assertThatThrownBy(() -> Identity.read(file))
                .isInstanceOf(CliException.class)
                .hasMessageContaining(file.toString())
                .hasMessageContaining("does not exist");
    }

    @Test
    void aMalformedFileIsAnErrorNamingIt() throws Exception {
        Path notJson = dir.resolve("broken.json");
        Files.writeString(notJson, "{member: ");
        assertThatThrownBy(() -> Identity.read(notJson))
                .isInstanceOf(CliException.class)
                .hasMessageContaining(notJson.toString())
                .hasMessageContaining("not valid JSON");

        Path noToken = dir.resolve("notoken.json");
        Files.writeString(noToken, "{\"member\":\"alice\"}");
        assertThatThrownBy(() -> Identity.read(noToken))
                .hasMessageContaining(noToken.toString())
                .hasMessageContaining("\"token\"");

        Path array = dir.resolve("array.json");
        Files.writeString(array, "[]");
        assertThatThrownBy(() -> Identity.read(array)).hasMessageContaining(array.toString());
    }

    @Test
    void aFieldThatIsNotAStringIsAnErrorAndUnknownNestedFieldsAreSkipped() throws Exception {
        Path numeric = dir.resolve("numeric.json");
        Files.writeString(numeric, "{\"member\":\"alice\",\"token\":5}");
        assertThatThrownBy(() -> Identity.read(numeric))
                .isInstanceOf(CliException.class)
                .hasMessageContaining("\"token\" must be a non-empty string");

        Path nested = dir.resolve("nested.json");
        Files.writeString(nested, "{\"extra\":{\"token\":[1,{\"a\":null}]},\"member\":\"dan\",\"token\":\"t\","
                + "\"scheduler\":null}");
        assertThat(Identity.read(nested)).isEqualTo(new Identity("dan", "t", null));
    }

    @Test
    void neverPrintsTheToken() {
        assertThat(new Identity("alice", "s3cret", null).toString()).doesNotContain("s3cret");
    }
}
