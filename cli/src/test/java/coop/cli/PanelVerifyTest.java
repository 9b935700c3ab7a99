package coop.cli;

import static org.assertj.core.api.Assertions.assertThat;

import coop.scheduler.domain.Member;
import coop.scheduler.domain.Role;
import coop.scheduler.governance.Beacon;
import coop.scheduler.governance.Governance;
import coop.scheduler.governance.Lottery;
import coop.scheduler.ledger.Entry;
import coop.scheduler.ledger.Event;
import coop.scheduler.ledger.EventType;
import coop.scheduler.ledger.Keys;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.HexFormat;
import java.util.List;
import java.util.SortedMap;
import java.util.TreeMap;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code coop panel verify JOB} recomputes a panel from the ledger: the beacon reveal against the
 * chain, the seed from the reveal and the head, the pool and the draw; it exits non-zero when one
 * does not match.
 */
class PanelVerifyTest {
    private final byte[] secret = "a beacon secret of 32 bytes, ok.".getBytes(StandardCharsets.US_ASCII);
    private final List<Entry> ledger = new ArrayList<>();
    private Governance gov;
    private final long now = 1_700_000_000_000L;

    @TempDir
    Path dir;

    @BeforeEach
    void found() {
        List<Member> founders = new ArrayList<>();
        String[][] who = {{"alice", "lab-a"}, {"amos", "lab-a"}, {"bob", "lab-b"}, {"carol", "lab-b"}, {"dave", "lab-b"}};
        for (String[] w : who) {
            founders.add(new Member(w[0], List.of(w[1]), EnumSet.allOf(Role.class),
                    Keys.encode(Keys.generate().getPublic()), Entry.sha256("token-" + w[0]), 0, 0));
        }
        SortedMap<String, Object> genesis = Governance.genesis(founders, List.of("lab-a", "lab-b"));
        gov = Governance.found(genesis, now);
        record(List.of(Event.of(EventType.GENESIS, genesis)));
        record(gov.beacon(Beacon.anchor(secret, 5), 5));
        for (long job = 1; job <= 2; job++) {
            record(gov.openPanel(job, "alice", "lab-a", 8, "", head(), Beacon.reveal(secret, 5, job), List.of("dave"),
                    now));
        }
    }

    private void record(List<Event> events) {
        for (Event e : events) {
            ledger.add(Entry.make(ledger.size(), now, e.type(), e.body(), head()));
        }
    }

    private String head() {
        return ledger.isEmpty() ? Entry.ORIGIN : ledger.get(ledger.size() - 1).hash();
    }

    private Path export(List<Entry> entries) throws Exception {
        Path file = dir.resolve("ledger-" + entries.hashCode() + ".jsonl");
        StringBuilder text = new StringBuilder();
        for (Entry e : entries) {
            text.append(new String(e.bytes(), StandardCharsets.UTF_8)).append('\n');
        }
        Files.writeString(file, text);
        return file;
    }

    @Test
    void aPanelDrawnFromTheBeaconIsRecomputedAndMatches() throws Exception {
        CliRun run = CliRun.of("panel", "verify", "2", "--file", export(ledger).toString());
        assertThat(run.exitCode()).as(run.out() + run.err()).isZero();
        assertThat(run.out()).contains("job 2: panel").contains("reveal 2 ").contains("beacon's previous reveal")
                .contains("SHA-256(reveal || head").contains("leaves out the submitter alice and dave")
                .contains("(matches)").contains("whole ledger: verified").doesNotContain("NO");
    }

    @Test
    void aPanelWhoseRevealIsForgedFailsWithANonZeroExit() throws Exception {
        Entry real = ledger.get(ledger.size() - 1);
        String forged = "7".repeat(64);
        SortedMap<String, Object> body = new TreeMap<>(real.body());
        String seed = Beacon.seed(forged, real.prev());
        body.put("reveal", forged);
        body.put("seed", seed);
        body.put("drawn", Lottery.draw(HexFormat.of().parseHex(seed), List.of("bob", "carol"), 3));
        List<Entry> rewritten = new ArrayList<>(ledger.subList(0, ledger.size() - 1));
        rewritten.add(Entry.make(real.seq(), real.at(), EventType.PANEL, body, real.prev()));
        CliRun run = CliRun.of("panel", "verify", "2", "--file", export(rewritten).toString());
        assertThat(run.exitCode()).isEqualTo(1);
        assertThat(run.out()).contains("beacon's previous reveal").contains(": NO").contains("whole ledger: FAILED");
    }
}
