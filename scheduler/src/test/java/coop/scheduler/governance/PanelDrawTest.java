package coop.scheduler.governance;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import coop.scheduler.audit.LedgerVerifier;
import coop.scheduler.domain.CoopException;
import coop.scheduler.domain.Member;
import coop.scheduler.domain.Topic;
import coop.scheduler.ledger.Entry;
import coop.scheduler.ledger.Event;
import coop.scheduler.ledger.EventType;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.SortedMap;
import java.util.TreeMap;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Panels nobody can pick: seeded by the scheduler's beacon (a commit–reveal hash chain) and the
 * head the panel follows, drawn from the voters other than the submitter, its account-mates and
 * the operators of the nodes that could run the job; each rule re-derived by the verifier.
 */
class PanelDrawTest {
    final TestMembers keys = new TestMembers();
    final List<Entry> ledger = new ArrayList<>();
    final byte[] secret = "the scheduler's own 32-byte key!".getBytes(StandardCharsets.US_ASCII);
    Governance gov;
    long now = 1_700_000_000_000L;

    @BeforeEach
    void found() {
        List<Member> founders = new ArrayList<>();
        founders.add(keys.member("alice", List.of("lab-a")));
        founders.add(keys.member("amos", List.of("lab-a")));
        for (String n : List.of("bob", "carol", "dave", "erin", "frank")) {
            founders.add(keys.member(n, List.of("lab-b")));
        }
        SortedMap<String, Object> genesis = Governance.genesis(founders, List.of("lab-a", "lab-b"));
        gov = Governance.found(genesis, now);
        record(List.of(Event.of(EventType.GENESIS, genesis)));
    }

    List<Event> record(List<Event> events) {
        for (Event e : events) {
            ledger.add(Entry.make(ledger.size(), now, e.type(), e.body(), head()));
        }
        return events;
    }

    String head() {
        return ledger.isEmpty() ? Entry.ORIGIN : ledger.get(ledger.size() - 1).hash();
    }

    /** Opens a panel as the scheduler does: the beacon's next reveal, the head now. */
    Governance.Panel open(long job, String submitter, List<String> operators) {
        String reveal = Beacon.reveal(secret, gov.beacon().length(), gov.beacon().used() + 1);
        record(gov.openPanel(job, submitter, "lab-a", 8, "", head(), reveal, operators, now));
        return gov.panel(job);
    }

    LedgerVerifier.Report verify(List<Entry> entries) {
        return LedgerVerifier.verify(entries.stream().map(Entry::bytes).toList());
    }

    @Test
    void aPanelIsSeededByTheBeaconsNextRevealAndTheHeadItFollowsAndTheLedgerVerifies() {
        record(gov.beacon(Beacon.anchor(secret, 3), 3));
        String headAtSubmission = head();
        Governance.Panel first = open(1, "alice", List.of());
        Entry panel = ledger.get(ledger.size() - 1);
        String reveal = Beacon.reveal(secret, 3, 1);
        assertThat(panel.body()).containsEntry("reveal", reveal).containsEntry("reveal_index", 1L)
                .containsEntry("seed", Beacon.seed(reveal, headAtSubmission));
        assertThat(first.drawn()).hasSize(3).isEqualTo(Lottery.draw(
                HexFormat.of().parseHex(Beacon.seed(reveal, headAtSubmission)),
                List.of("bob", "carol", "dave", "erin", "frank"), 3));
        // The second panel reveals the preimage of the first reveal.
        open(2, "alice", List.of());
        assertThat(Beacon.follows((String) ledger.get(ledger.size() - 1).body().get("reveal"), reveal)).isTrue();
        assertThat(verify(ledger).problem()).isNull();
        assertThat(verify(ledger).panels()).isEqualTo(2);
    }

    @Test
    void nothingInTheLedgerBeforeAPanelTellsItsRevealSoTheSubmitterCannotComputeItsPanel() {
        record(gov.beacon(Beacon.anchor(secret, 10), 10));
        open(1, "alice", List.of());
        open(2, "alice", List.of());
        String reveal = (String) ledger.get(ledger.size() - 1).body().get("reveal");
        // What a submitter could read before submitting: every entry up to the head the panel follows.
        for (Entry e : ledger.subList(0, ledger.size() - 1)) {
            assertThat(new String(e.bytes(), StandardCharsets.UTF_8)).doesNotContain(reveal);
        }
        // Only its hash was known: the reveal before it (or the anchor).
        assertThat(Beacon.follows(reveal, (String) ledger.get(ledger.size() - 2).body().get("reveal"))).isTrue();
    }

    @Test
    void aHeadMovedAfterSubmittingDoesNotChangeThePanel() {
        record(gov.beacon(Beacon.anchor(secret, 10), 10));
        List<String> drawn = open(1, "alice", List.of()).drawn();
        for (String to : List.of("bob", "", "carol", "")) {
            now += 1;
            TestMembers.Signed d = keys.delegate("alice", now, Topic.SHARES, to);
            record(gov.submit(d.statement(), d.signature(), now, true));
        }
        assertThat(gov.panel(1).drawn()).isEqualTo(drawn);
        LedgerVerifier.Replayed replayed = LedgerVerifier.replay(ledger.stream().map(Entry::bytes).toList(), true);
        assertThat(replayed.report().problem()).isNull();
        assertThat(replayed.governance().panel(1).drawn()).isEqualTo(drawn);
    }

    @Test
    void aForgedRevealFailsVerificationEvenWithItsSeedAndDrawMadeToMatch() {
        record(gov.beacon(Beacon.anchor(secret, 10), 10));
        open(1, "alice", List.of());
        Entry real = ledger.get(ledger.size() - 1);
        String forged = HexFormat.of().formatHex(new byte[32]).replace('0', '7');
        SortedMap<String, Object> body = new TreeMap<>(real.body());
        String seed = Beacon.seed(forged, real.prev());
        body.put("reveal", forged);
        body.put("seed", seed);
        body.put("drawn", Lottery.draw(HexFormat.of().parseHex(seed), List.of("bob", "carol", "dave", "erin", "frank"),
                3));
        List<Entry> rewritten = new ArrayList<>(ledger.subList(0, ledger.size() - 1));
        rewritten.add(Entry.make(real.seq(), real.at(), EventType.PANEL, body, real.prev()));
        LedgerVerifier.Report r = verify(rewritten);
        assertThat(r.badSeq()).isEqualTo(real.seq());
        assertThat(r.problem()).contains("refused by the rules").contains("reveal");
        // Skipping a reveal (the second where the first belongs) is as wrong.
        assertThatThrownBy(() -> gov.openPanel(2, "alice", "lab-a", 8, "", head(), Beacon.reveal(secret, 10, 3),
                List.of(), now)).satisfies(e -> assertThat(((CoopException) e).kind())
                .isEqualTo(CoopException.Kind.FAILED_PRECONDITION));
    }

    @Test
    void aNewBeaconIsRefusedWhileTheLastHasRevealsLeft() {
        record(gov.beacon(Beacon.anchor(secret, 2), 2));
        byte[] other = "another secret, tried for a draw".getBytes(StandardCharsets.US_ASCII);
        assertThatThrownBy(() -> gov.beacon(Beacon.anchor(other, 2), 2))
                .satisfies(e -> assertThat(((CoopException) e).kind()).isEqualTo(CoopException.Kind.FAILED_PRECONDITION))
                .hasMessageContaining("2 reveals left");
        open(1, "alice", List.of());
        open(2, "alice", List.of());
        assertThat(gov.beacon().spent()).isTrue();
        assertThatThrownBy(() -> gov.openPanel(3, "alice", "lab-a", 8, "", head(), Beacon.anchor(secret, 0),
                List.of(), now)).hasMessageContaining("used up");
        record(gov.beacon(Beacon.anchor(other, 2), 2));
        assertThat(verify(ledger).problem()).isNull();
    }

    @Test
    void theSubmittersAccountMatesAndTheOperatorsOfItsNodesSitOnNoPanel() {
        record(gov.beacon(Beacon.anchor(secret, 10), 10));
        Governance.Panel panel = open(1, "alice", List.of("bob", "carol"));
        Entry entry = ledger.get(ledger.size() - 1);
        assertThat(entry.body().get("eligible")).isEqualTo(List.of("dave", "erin", "frank"));
        assertThat(entry.body()).containsEntry("excluded", List.of("bob", "carol")).containsEntry("account", "lab-a");
        assertThat(panel.drawn()).containsExactlyInAnyOrder("dave", "erin", "frank");
        assertThat(verify(ledger).problem()).isNull();

        assertThatThrownBy(() -> open(2, "alice", List.of("bob", "carol", "dave", "erin", "frank")))
                .satisfies(e -> assertThat(((CoopException) e).kind()).isEqualTo(CoopException.Kind.FAILED_PRECONDITION))
                .hasMessageContaining("members of account lab-a").hasMessageContaining("operators");
        // A recorded exclusion list that differs from what was drawn with fails verification.
        SortedMap<String, Object> body = new TreeMap<>(entry.body());
        body.put("excluded", List.of("bob"));
        List<Entry> rewritten = new ArrayList<>(ledger.subList(0, ledger.size() - 1));
        rewritten.add(Entry.make(entry.seq(), entry.at(), EventType.PANEL, body, entry.prev()));
        assertThat(verify(rewritten).badSeq()).isEqualTo(entry.seq());
    }

    @Test
    void aBeaconOfAWrongShapeIsRefusedNamingTheField() {
        assertThatThrownBy(() -> gov.beacon("abc", 10)).hasMessageContaining("anchor");
        assertThatThrownBy(() -> gov.beacon(Beacon.anchor(secret, 1), 0)).hasMessageContaining("length");
    }

    @Test
    void aReportedPanelMustFollowThatMembersReportAndLeavesTheReporterOff() {
        record(gov.beacon(Beacon.anchor(secret, 10), 10));
        String reveal = Beacon.reveal(secret, 10, 1);
        assertThatThrownBy(() -> gov.openReportedPanel(4, "alice", "lab-a", 1, "", head(), reveal, List.of(), "bob",
                now)).hasMessageContaining("not reported");
        now += 1;
        TestMembers.Signed report = keys.signed(Statements.report("bob", now, 4, "it mines coins"));
        record(gov.submit(report.statement(), report.signature(), now, true));
        assertThatThrownBy(() -> gov.openReportedPanel(4, "alice", "lab-a", 1, "", head(), reveal, List.of(),
                "carol", now)).hasMessageContaining("reported by bob");
        assertThat(gov.panel(4)).isNull();
        record(gov.openReportedPanel(4, "alice", "lab-a", 1, "", head(), reveal, List.of(), "bob", now));
        assertThat(gov.panel(4).drawn()).hasSize(3).doesNotContain("alice", "amos", "bob");
        assertThat(ledger.get(ledger.size() - 1).body().get("eligible")).isEqualTo(List.of("carol", "dave", "erin",
                "frank"));
        assertThat(ledger.get(ledger.size() - 1).body()).containsEntry("reported_by", "bob");
        assertThat(verify(ledger).problem()).isNull();
        // The same panel entry without its report before it is refused.
        List<Entry> rewritten = new ArrayList<>(ledger.subList(0, ledger.size() - 2));
        Entry panelEntry = ledger.get(ledger.size() - 1);
        rewritten.add(Entry.make(panelEntry.seq() - 1, panelEntry.at(), EventType.PANEL, panelEntry.body(),
                rewritten.get(rewritten.size() - 1).hash()));
        assertThat(verify(rewritten).problem()).contains("refused by the rules");
    }
}
