package coop.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import coop.agent.WorkdirArchive;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import java.util.zip.GZIPInputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code coop submit --workdir}'s side: gitignore-style patterns, and a folder packed the same
 * whatever its files' times, without {@code .git/}, what its ignore file excludes, or links.
 */
class WorkdirPackTest {
    @TempDir
    Path dir;

    private static IgnoreRules rules(String... lines) {
        return IgnoreRules.parse(List.of(lines));
    }

    @Test
    void patternsMatchAsGitignoreDoes() {
        IgnoreRules r = rules("# a comment", "", "*.ckpt", "/build/", "logs/", "data/**/raw", "docs/*.md", "!keep.ckpt",
                "tmp?", "\\#hash", "[ab]c.txt", "[!x]y.txt", "out/**");
        assertThat(r.ignored("model.ckpt", false)).isTrue();
        assertThat(r.ignored("deep/down/model.ckpt", false)).isTrue();
        assertThat(r.ignored("keep.ckpt", false)).as("taken back by !").isFalse();
        assertThat(r.ignored("build", true)).isTrue();
        assertThat(r.ignored("src/build", true)).as("a leading / anchors at the top").isFalse();
        assertThat(r.ignored("build", false)).as("a trailing / matches only folders").isFalse();
        assertThat(r.ignored("a/logs", true)).isTrue();
        assertThat(r.ignored("data/raw", true)).isTrue();
        assertThat(r.ignored("data/x/y/raw", false)).isTrue();
        assertThat(r.ignored("other/data/raw", false)).as("a / in the middle anchors too").isFalse();
        assertThat(r.ignored("docs/a.md", false)).isTrue();
        assertThat(r.ignored("docs/sub/a.md", false)).as("* stays within one part").isFalse();
        assertThat(r.ignored("tmp1", false)).isTrue();
        assertThat(r.ignored("tmp12", false)).isFalse();
        assertThat(r.ignored("#hash", false)).isTrue();
        assertThat(r.ignored("bc.txt", false)).isTrue();
        assertThat(r.ignored("dc.txt", false)).isFalse();
        assertThat(r.ignored("zy.txt", false)).isTrue();
        assertThat(r.ignored("xy.txt", false)).isFalse();
        assertThat(r.ignored("out/a/b.bin", false)).isTrue();
        assertThat(r.ignored("out", true)).as("out/** matches what is inside, not out itself").isFalse();
        assertThat(r.ignored("train.py", false)).isFalse();
        assertThat(rules().ignored("anything", false)).isFalse();
    }

    private Path folder(String name) throws IOException {
        Path p = Files.createDirectories(dir.resolve(name));
        Files.writeString(p.resolve("train.py"), "print('hi')\n");
        Files.createDirectories(p.resolve("pkg/empty"));
        Files.writeString(p.resolve("pkg/util.py"), "X = 1\n");
        Files.writeString(p.resolve("run.sh"), "#!/bin/sh\n");
        Files.setPosixFilePermissions(p.resolve("run.sh"), PosixFilePermissions.fromString("rwxr-x---"));
        Files.writeString(p.resolve("a.ckpt"), "big");
        Files.createDirectories(p.resolve(".git/objects"));
        Files.writeString(p.resolve(".git/HEAD"), "ref\n");
        return p;
    }

    private List<String> unpacked(WorkdirPack pack, String into) throws IOException {
        Path to = dir.resolve(into);
        try (InputStream in = new GZIPInputStream(Files.newInputStream(pack.file()))) {
            WorkdirArchive.unpack(in, to, null);
        }
        try (Stream<Path> all = Files.walk(to)) {
            return all.filter(p -> !p.equals(to)).map(p -> to.relativize(p).toString()).sorted().toList();
        }
    }

    @Test
    void theSameFolderPacksToTheSameDigestWithoutGitOrWhatItsIgnoreFileExcludes() throws IOException {
        Path one = folder("one");
        Files.writeString(one.resolve(".gitignore"), "*.ckpt\n");
        Path two = folder("two");
        Files.writeString(two.resolve(".gitignore"), "*.ckpt\n");
        // Other times, and files written in another order, change nothing.
        Files.setLastModifiedTime(two.resolve("train.py"), FileTime.fromMillis(86_400_000L));
        Files.writeString(two.resolve("a.ckpt"), "other weights, ignored anyway");
        List<String> progress = new ArrayList<>();
        WorkdirPack a = WorkdirPack.of(one, dir, progress::add);
        WorkdirPack b = WorkdirPack.of(two, dir, progress::add);
        assertThat(a.digest()).matches("[0-9a-f]{64}").isEqualTo(b.digest());
        assertThat(a.files()).isEqualTo(4);
        assertThat(unpacked(a, "out")).containsExactly(".gitignore", "pkg", "pkg/empty", "pkg/util.py", "run.sh",
                "train.py");
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(dir.resolve("out/run.sh"))))
                .isEqualTo("rwxr-xr-x");

        // A .coopignore wins over .gitignore; a changed file changes the digest.
        Files.writeString(two.resolve(".coopignore"), "pkg/\n");
        WorkdirPack c = WorkdirPack.of(two, dir, progress::add);
        assertThat(c.digest()).isNotEqualTo(a.digest());
        assertThat(unpacked(c, "out2")).containsExactly(".coopignore", ".gitignore", "a.ckpt", "run.sh", "train.py");
    }

    @Test
    void aSymbolicLinkIsRefusedNamingItUnlessItIsExcluded() throws IOException {
        Path p = folder("linked");
        Files.createSymbolicLink(p.resolve("data"), Path.of("/etc"));
        assertThatThrownBy(() -> WorkdirPack.of(p, dir, s -> { }))
                .isInstanceOf(CliException.class).hasMessageStartingWith("--workdir: data is a symbolic link");
        try (Stream<Path> left = Files.list(dir)) {
            assertThat(left.filter(f -> f.getFileName().toString().startsWith("coop-workdir-")).toList())
                    .as("no packed file is left behind").isEmpty();
        }
        Files.writeString(p.resolve(".coopignore"), "/data\n");
        assertThat(WorkdirPack.of(p, dir, s -> { }).files()).isEqualTo(5);
    }
}
