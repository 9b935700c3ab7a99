package coop.scheduler.audit;

import static org.assertj.core.api.Assertions.assertThat;

import coop.scheduler.domain.Choice;
import coop.scheduler.domain.Constitution;
import coop.scheduler.domain.Member;
import coop.scheduler.domain.Params;
import coop.scheduler.domain.ProposalKind;
import coop.scheduler.domain.Topic;
import coop.scheduler.governance.Governance;
import coop.scheduler.governance.TestMembers;
import coop.scheduler.ledger.Entry;
import coop.scheduler.ledger.Event;
import coop.scheduler.ledger.EventType;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.stream.LongStream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** A ledger written by the governance rules verifies; any single changed byte is caught at its entry. */
class LedgerVerifierTest {
    static final List<Entry> LEDGER = new ArrayList<>();

    /**
     * A ledger with every kind of entry: genesis, proposals, ballots, a delegation, closes, a panel,
     * reviews, a removal with the withdrawal and the struck ballot it causes, attempts.
     */
    @BeforeAll
    static void write() {
        TestMembers keys = new TestMembers();
        List<Member> founders = new ArrayList<>();
        for (String n : List.of("alice", "bob", "carol")) {
            founders.add(keys.member(n, List.of("lab-a")));
        }
        long[] now = {1_700_000_000_000L};
        SortedMap<String, Object> genesis = Governance.genesis(founders, List.of("lab-a", "lab-b"), Params.DEFAULTS,
                Constitution.DEFAULTS);
        Governance gov = Governance.found(genesis, now[0]);
        java.util.function.Consumer<List<Event>> rec = events -> {
            for (Event e : events) {
                String prev = LEDGER.isEmpty() ? Entry.ORIGIN : LEDGER.get(LEDGER.size() - 1).hash();
                LEDGER.add(Entry.make(LEDGER.size(), now[0], e.type(), e.body(), prev));
            }
        };
        rec.accept(List.of(Event.of(EventType.GENESIS, genesis)));
        java.util.function.Consumer<TestMembers.Signed> submit = s -> {
            now[0] += 1000;
            rec.accept(gov.submit(s.statement(), s.signature(), now[0], true));
        };
        submit.accept(keys.delegate("carol", now[0] + 1000, Topic.SHARES, "alice"));
        submit.accept(keys.shares("alice", now[0] + 1000, 600, Map.of("lab-a", 7000L, "lab-b", 3000L)));
        submit.accept(keys.vote("alice", now[0] + 1000, 1, Choice.YES));
        submit.accept(keys.vote("bob", now[0] + 1000, 1, Choice.NO));
        submit.accept(keys.vote("bob", now[0] + 1000, 1, Choice.YES));
        now[0] += 600_000;
        rec.accept(gov.tick(now[0]));
        submit.accept(keys.propose("bob", now[0] + 1000, ProposalKind.PARAM, 600,
                Map.of("params", Map.of("panel_min_gpus", 16L))));
        for (String m : List.of("alice", "bob", "carol")) {
            submit.accept(keys.vote(m, now[0] + 1000, 2, Choice.YES));
        }
        rec.accept(gov.openPanel(1, "alice", 16, "", LEDGER.get(LEDGER.size() - 1).hash(), now[0]));
        for (String m : gov.panel(1).drawn()) {
            submit.accept(keys.review(m, now[0] + 1000, 1, true));
        }
        // carol opens a vote and votes on bob's, then is removed: hers is withdrawn, her ballot struck from bob's.
        submit.accept(keys.shares("carol", now[0] + 1000, 600, Map.of("lab-a", 5000L, "lab-b", 5000L)));
        submit.accept(keys.shares("bob", now[0] + 1000, 600, Map.of("lab-a", 4000L, "lab-b", 6000L)));
        submit.accept(keys.vote("carol", now[0] + 1000, 4, Choice.YES));
        submit.accept(keys.propose("alice", now[0] + 1000, ProposalKind.REMOVE, 600, Map.of("name", "carol")));
        for (String m : List.of("alice", "bob", "carol")) {
            submit.accept(keys.vote(m, now[0] + 1000, 5, Choice.YES));
        }
        SortedMap<String, Object> attempt = new TreeMap<>(Map.of("job", 1L, "attempt", 1L, "account", "lab-a",
                "member", "alice", "gpus", 16L, "started_at", now[0], "finished_at", now[0] + 5000,
                "gpu_ms", 80_000L, "outcome", "exit 0"));
        rec.accept(List.of(Event.of(EventType.ATTEMPT, attempt)));
    }

    static List<byte[]> bytes() {
        return new ArrayList<>(LEDGER.stream().map(Entry::bytes).toList());
    }

    @Test
    void theLedgerTheRulesWroteVerifiesAndEveryTallyIsRederived() {
        LedgerVerifier.Report r = LedgerVerifier.verify(bytes());
        assertThat(r.problem()).isNull();
        assertThat(r.entries()).isEqualTo(LEDGER.size());
        assertThat(LEDGER).extracting(Entry::type).contains("withdraw", "ineligible");
        assertThat(r.proposals()).isEqualTo(5);
        // Two votes and the removal closed, and the removed member's own proposal was withdrawn.
        assertThat(r.closes()).isEqualTo(4);
        assertThat(r.policies()).isEqualTo(2);
        assertThat(r.panels()).isEqualTo(1);
        assertThat(r.gpuMillisByAccount()).containsEntry("lab-a", 80_000L);
        assertThat(r.head()).isEqualTo(LEDGER.get(LEDGER.size() - 1).hash());
    }

    static LongStream seeds() {
        return LongStream.range(0, 300);
    }

    /** Flipping any bit of any byte of any stored entry makes verification fail at that entry. */
    @ParameterizedTest(name = "seed {0}")
    @MethodSource("seeds")
    void anySingleFlippedByteFailsAtItsEntry(long seed) {
        Random random = new Random(seed);
        List<byte[]> raw = bytes();
        int entry = random.nextInt(raw.size());
        byte[] b = raw.get(entry).clone();
        int at = random.nextInt(b.length);
        b[at] ^= (byte) (1 << random.nextInt(8));
        raw.set(entry, b);
        LedgerVerifier.Report r = LedgerVerifier.verify(raw);
        assertThat(r.ok()).as("flip at byte %d of entry %d: %s", at, entry, new String(b, StandardCharsets.UTF_8))
                .isFalse();
        assertThat(r.badSeq()).isEqualTo(entry);
    }

    @Test
    void aForgedCloseRewrittenWithAValidChainIsStillCaughtByTheRules() {
        // Rewrite the first close as passed-with-other-shares and re-hash the whole chain after it:
        // the links are fine, but the rules do not yield that close.
        List<Entry> forged = new ArrayList<>();
        String prev = Entry.ORIGIN;
        for (Entry e : LEDGER) {
            SortedMap<String, Object> body = new TreeMap<>(e.body());
            if (e.type().equals("close") && body.get("proposal").equals(1L)) {
                body.put("outcome", "passed (yes 3, no 0, abstain 0 of 3 eligible)");
            }
            Entry f = Entry.make(e.seq(), e.at(), e.type(), body, prev);
            forged.add(f);
            prev = f.hash();
        }
        LedgerVerifier.Report r = LedgerVerifier.verify(forged.stream().map(Entry::bytes).toList());
        assertThat(r.ok()).isFalse();
        assertThat(r.problem()).contains("differs from what the rules yield");
        assertThat(forged.get((int) r.badSeq()).type()).isEqualTo("close");
    }

    @Test
    void aDroppedBallotIsCaught() {
        List<Entry> cut = new ArrayList<>();
        String prev = Entry.ORIGIN;
        boolean dropped = false;
        for (Entry e : LEDGER) {
            if (!dropped && e.type().equals("ballot")) {
                dropped = true;
                continue;
            }
            Entry f = Entry.make(cut.size(), e.at(), e.type(), e.body(), prev);
            cut.add(f);
            prev = f.hash();
        }
        assertThat(LedgerVerifier.verify(cut.stream().map(Entry::bytes).toList()).ok()).isFalse();
    }
}
