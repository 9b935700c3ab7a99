package coop.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import coop.scheduler.ledger.Entry;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code coop ledger verify} against copies of a real cooperative's ledger: a copy cut short or
 * re-chained from a changed entry verifies on its own, so only a head held elsewhere tells it
 * from the original. Verify prints the head it checked, and {@code --expect-head} compares it.
 */
class LedgerVerifyTest {
    private static final Pattern HEAD = Pattern.compile("ledger verified: (\\d+) entries, head ([0-9a-f]{64})");
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path dir;
    private Path data;
    private Path export;
    private String head;

    @BeforeEach
    void foundAndExport() throws Exception {
        data = dir.resolve("data");
        CliRun init = CliRun.of("init", "--data", data.toString(), "--accounts", "lab-a,lab-b",
                "--founders", "alice:lab-a,bob:lab-b");
        assertThat(init.exitCode()).as(init.err()).isZero();
        export = dir.resolve("ledger.jsonl");
        CliRun exported = CliRun.of("ledger", "export", "--data", data.toString(), "--out", export.toString());
        assertThat(exported.exitCode()).as(exported.err()).isZero();
        CliRun verified = CliRun.of("ledger", "verify", "--file", export.toString());
        assertThat(verified.exitCode()).as(verified.err()).isZero();
        Matcher m = HEAD.matcher(verified.out());
        assertThat(m.find()).as("verify prints the whole head: " + verified.out()).isTrue();
        head = m.group(2);
    }

    @Test
    void theHeadVerifiedIsPrintedAndTheSameFromEverySource() throws Exception {
        List<String> lines = Files.readAllLines(export);
        assertThat(head).isEqualTo(Entry.read(lines.get(lines.size() - 1).getBytes(StandardCharsets.UTF_8)).hash());
        CliRun fromData = CliRun.of("ledger", "verify", "--data", data.toString(), "--expect-head", head);
        assertThat(fromData.exitCode()).as(fromData.err()).isZero();
        assertThat(fromData.out()).contains("head " + head + " (as expected)");
        CliRun upper = CliRun.of("ledger", "verify", "--file", export.toString(), "--expect-head", head.toUpperCase());
        assertThat(upper.exitCode()).as(upper.err()).isZero();
        JsonNode json = JSON.readTree(CliRun.of("ledger", "verify", "--file", export.toString(), "--json",
                "--expect-head", head).out());
        assertThat(json.path("ok").asBoolean()).isTrue();
        assertThat(json.path("head").asText()).isEqualTo(head);
        assertThat(json.path("expected_head").asText()).isEqualTo(head);
        assertThat(json.path("head_matches").asBoolean()).isTrue();
    }

    @Test
    void aTruncatedCopyVerifiesButNotAgainstTheHeadAMemberHolds() throws Exception {
        List<String> lines = Files.readAllLines(export);
        Path truncated = dir.resolve("truncated.jsonl");
        Files.write(truncated, lines.subList(0, lines.size() - 1));
        CliRun alone = CliRun.of("ledger", "verify", "--file", truncated.toString());
        assertThat(alone.exitCode()).as("a chain cut short is still a chain").isZero();
        assertThat(alone.out()).doesNotContain(head);

        CliRun expecting = CliRun.of("ledger", "verify", "--file", truncated.toString(), "--expect-head", head);
        assertThat(expecting.exitCode()).isEqualTo(1);
        assertThat(expecting.out()).isEmpty();
        String shortHead = lines.size() == 1 ? Entry.ORIGIN
                : Entry.read(lines.get(lines.size() - 2).getBytes(StandardCharsets.UTF_8)).hash();
        assertThat(expecting.err().strip()).isEqualTo("ledger verification FAILED: the verified head after "
                + (lines.size() - 1) + " entries is " + shortHead + ", not the expected " + head + " (--expect-head)");

        CliRun json = CliRun.of("ledger", "verify", "--file", truncated.toString(), "--expect-head", head, "--json");
        assertThat(json.exitCode()).isEqualTo(1);
        JsonNode report = JSON.readTree(json.out());
        assertThat(report.path("ok").asBoolean()).isFalse();
        assertThat(report.path("head_matches").asBoolean()).isFalse();
        assertThat(report.path("expected_head").asText()).isEqualTo(head);
        assertThat(report.path("head").asText()).isNotEqualTo(head).hasSize(64);
        assertThat(report.path("problem").asText()).contains("not the expected " + head);
    }

    @Test
    void aConsistentlyReChainedCopyVerifiesButNotAgainstTheHeadAMemberHolds() throws Exception {
        // The genesis written a millisecond later, its hash recomputed: a valid ledger, not this one.
        List<String> lines = Files.readAllLines(export);
        Entry genesis = Entry.read(lines.get(0).getBytes(StandardCharsets.UTF_8));
        assertThat(lines).as("the founding writes only the genesis").hasSize(1);
        Entry forged = Entry.make(0, genesis.at() + 1, genesis.type(), genesis.body(), Entry.ORIGIN);
        Path rechained = dir.resolve("rechained.jsonl");
        Files.write(rechained, List.of(new String(forged.bytes(), StandardCharsets.UTF_8)));
        CliRun alone = CliRun.of("ledger", "verify", "--file", rechained.toString());
        assertThat(alone.exitCode()).as(alone.err()).isZero();
        assertThat(alone.out()).contains("head " + forged.hash());

        CliRun expecting = CliRun.of("ledger", "verify", "--file", rechained.toString(), "--expect-head", head);
        assertThat(expecting.exitCode()).isEqualTo(1);
        assertThat(expecting.err()).contains("the verified head after 1 entries is " + forged.hash()
                + ", not the expected " + head);
    }

    @Test
    void anExpectedHeadThatIsNoHashIsAParameterError() {
        for (String bad : List.of("abc", "g".repeat(64), head.substring(0, 16), head + "0")) {
            CliRun run = CliRun.of("ledger", "verify", "--file", export.toString(), "--expect-head", bad);
            assertThat(run.exitCode()).as(bad).isEqualTo(2);
            assertThat(run.err()).as(bad).startsWith("--expect-head: must be a ledger head, 64 hex digits, got '"
                    + bad + "'");
        }
    }
}
