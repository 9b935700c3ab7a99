package coop.agent;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.zip.GZIPOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A shipped folder's archive: what the writer packs unpacks as it was, modes included; an entry
 * that could reach outside the folder, a link or a duplicate is refused; and a node fetches each
 * folder once, keeping it only when it matches its digest.
 */
class WorkdirArchiveTest {
    @TempDir
    Path dir;

    private static byte[] archive(Entry... entries) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (WorkdirArchive.Writer w = new WorkdirArchive.Writer(out)) {
            for (Entry e : entries) {
                if (e.content == null) {
                    w.folder(e.path);
                } else {
                    byte[] b = e.content.getBytes(StandardCharsets.UTF_8);
                    w.file(e.path, e.executable, b.length, new ByteArrayInputStream(b));
                }
            }
        }
        return out.toByteArray();
    }

    private record Entry(String path, String content, boolean executable) {
    }

    private static Entry folder(String path) {
        return new Entry(path, null, false);
    }

    private static Entry file(String path, String content) {
        return new Entry(path, content, false);
    }

    @Test
    void whatIsPackedUnpacksAsItWasWithItsModes() throws IOException {
        String longPath = "deep/" + "a".repeat(90) + "/" + "b".repeat(90) + "/model.py";
        byte[] tar = archive(folder("deep"), file("deep/data.txt", "x".repeat(1500)),
                new Entry("run.sh", "#!/bin/sh\necho hi\n", true), file("train.py", "print('hi')\n"),
                file(longPath, "long\n"));
        Path into = dir.resolve("rank");
        WorkdirArchive.Unpacked u = WorkdirArchive.unpack(new ByteArrayInputStream(tar), into, null);
        assertThat(u.files()).isEqualTo(4);
        assertThat(u.folders()).isEqualTo(1);
        assertThat(Files.readString(into.resolve("deep/data.txt"))).isEqualTo("x".repeat(1500));
        assertThat(Files.readString(into.resolve("train.py"))).isEqualTo("print('hi')\n");
        assertThat(Files.readString(into.resolve(longPath))).isEqualTo("long\n");
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(into.resolve("run.sh"))))
                .isEqualTo("rwxr-xr-x");
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(into.resolve("train.py"))))
                .isEqualTo("rw-r--r--");
        // The same entries make the same bytes: one folder, one digest.
        assertThat(archive(folder("deep"), file("deep/data.txt", "x".repeat(1500)),
                new Entry("run.sh", "#!/bin/sh\necho hi\n", true), file("train.py", "print('hi')\n"),
                file(longPath, "long\n"))).isEqualTo(tar);
    }

    @Test
    void anEntryThatCouldLeadOutsideIsRefusedBeforeItIsWritten() throws IOException {
        for (String bad : new String[] {"../escaped", "/tmp/escaped", "a/../../escaped", "./x", "a//b"}) {
            Path into = dir.resolve("r" + Math.abs(bad.hashCode()));
            assertThatThrownBy(() -> WorkdirArchive.unpack(new ByteArrayInputStream(archive(file(bad, "no"))), into,
                    null)).as(bad).isInstanceOf(IOException.class).hasMessageContaining("refused");
        }
        assertThat(dir.resolve("escaped")).doesNotExist();
        assertThat(dir.getParent().resolve("escaped")).doesNotExist();
    }

    @Test
    void aLinkOrADuplicateIsRefused() throws IOException {
        byte[] tar = archive(file("link", ""));
        // Turn the entry into a symbolic link to /etc/passwd: type '2', and its checksum made anew.
        tar[156] = '2';
        byte[] target = "/etc/passwd".getBytes(StandardCharsets.US_ASCII);
        System.arraycopy(target, 0, tar, 157, target.length);
        java.util.Arrays.fill(tar, 148, 156, (byte) ' ');
        long sum = 0;
        for (int i = 0; i < 512; i++) {
            sum += tar[i] & 0xff;
        }
        byte[] digits = String.format("%06o", sum).getBytes(StandardCharsets.US_ASCII);
        System.arraycopy(digits, 0, tar, 148, 6);
        tar[154] = 0;
        assertThatThrownBy(() -> WorkdirArchive.unpack(new ByteArrayInputStream(tar), dir.resolve("l"), null))
                .hasMessageContaining("link or special file");
        assertThat(dir.resolve("l/link")).doesNotExist();

        assertThatThrownBy(() -> WorkdirArchive.unpack(new ByteArrayInputStream(
                archive(file("a", "1"), file("a", "2"))), dir.resolve("d"), null)).hasMessageContaining("twice");
        assertThat(Files.readString(dir.resolve("d/a"))).isEqualTo("1");
    }

    @Test
    void aNodeFetchesAFolderOnceAndKeepsItOnlyWhenItMatchesItsDigest() throws Exception {
        ByteArrayOutputStream gz = new ByteArrayOutputStream();
        try (GZIPOutputStream out = new GZIPOutputStream(gz)) {
            out.write(archive(file("train.py", "print('shipped')\n")));
        }
        byte[] packed = gz.toByteArray();
        String digest = HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(packed));
        AtomicInteger fetches = new AtomicInteger();
        Workdirs workdirs = new Workdirs(dir.resolve("agent"), (job, d, out) -> {
            fetches.incrementAndGet();
            out.write(packed);
        });
        workdirs.unpack(7, digest, dir.resolve("jobs/7.1.0"), null);
        workdirs.unpack(8, digest, dir.resolve("jobs/8.1.0"), null);
        assertThat(Files.readString(dir.resolve("jobs/8.1.0/train.py"))).isEqualTo("print('shipped')\n");
        assertThat(fetches).hasValue(1);

        String other = "0".repeat(64);
        Workdirs lying = new Workdirs(dir.resolve("agent"), (job, d, out) -> out.write(packed));
        assertThatThrownBy(() -> lying.unpack(9, other, dir.resolve("jobs/9.1.0"), null))
                .isInstanceOf(Workdirs.Unavailable.class).hasMessageContaining("cannot fetch the job's workdir")
                .hasMessageContaining("sha256 " + digest);
        assertThat(dir.resolve("agent/workdirs/" + other + ".tar.gz")).doesNotExist();
        Workdirs down = new Workdirs(dir.resolve("other-agent"), (job, d, out) -> {
            throw new IOException("the scheduler did not send it: UNAVAILABLE");
        });
        assertThatThrownBy(() -> down.unpack(9, digest, dir.resolve("jobs/9.1.0"), null))
                .isInstanceOf(Workdirs.Unavailable.class).hasMessageContaining("UNAVAILABLE");
    }
}
