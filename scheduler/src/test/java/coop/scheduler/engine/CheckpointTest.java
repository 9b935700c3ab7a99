package coop.scheduler.engine;

import static org.assertj.core.api.Assertions.assertThat;

import coop.scheduler.audit.LedgerVerifier;
import coop.scheduler.domain.JobSpec;
import coop.scheduler.domain.JobState;
import coop.scheduler.domain.ProposalState;
import coop.scheduler.domain.Topic;
import coop.scheduler.governance.Statements;
import coop.scheduler.governance.TestMembers;
import coop.scheduler.ledger.Canonical;
import coop.scheduler.ledger.Checkpoint;
import coop.scheduler.ledger.Entry;
import coop.scheduler.ledger.Ledger;
import coop.scheduler.store.Store;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SortedMap;
import java.util.TreeMap;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The scheduler's checkpoint of its ledger and governance: written by the event loop as the
 * ledger grows, the state the ledger yields at that point (as a full replay finds it), what a
 * restart starts from (reading only the entries after it), and not used when it does not fit
 * the ledger.
 */
class CheckpointTest {
    @TempDir
    Path dir;
    private final FakeClock clock = new FakeClock();
    private final TestMembers keys = new TestMembers();
    private EngineFixture engine;

    @BeforeEach
    void found() throws Exception {
        engine = EngineFixture.panelCooperative(dir, clock, keys);
    }

    @AfterEach
    void close() {
        engine.close();
    }

    private <T> T call(EventLoop.Command<T> c) throws Exception {
        return engine.call(c);
    }

    private void every(long entries) throws Exception {
        call((s, tx) -> {
            s.checkpointEvery(entries);
            return null;
        });
    }

    /** Governance of every kind: a passed parameter, a delegation, a beacon and a panel with a review, jobs, a resignation. */
    private void history() throws Exception {
        assertThat(engine.passParam(keys, clock, "panel_min_gpus", 4L).state()).isEqualTo(ProposalState.PASSED);
        clock.advanceMillis(1);
        var d = keys.delegate("amos", clock.millis(), Topic.SHARES, "bob");
        call((s, tx) -> s.delegate("amos", d.statement(), d.signature(), tx));
        long reviewed = submit("alice", 4);
        assertThat(engine.state().job(reviewed).state()).isEqualTo(JobState.REVIEW);
        String reviewer = engine.state().panel(reviewed).drawn().get(0);
        clock.advanceMillis(1);
        var r = keys.review(reviewer, clock.millis(), reviewed, true);
        call((s, tx) -> s.review(reviewer, r.statement(), r.signature(), tx));
        long plain = submit("bob", 1);
        call((s, tx) -> s.cancel("bob", plain, tx));
        clock.advanceMillis(1);
        var resign = keys.signed(Statements.resign("dave", clock.millis(), "moving on"));
        call((s, tx) -> s.resign("dave", resign.statement(), resign.signature(), tx));
        var open = keys.shares("carol", clock.millis(), 3600, Map.of("lab-a", 4000L, "lab-b", 4000L, "lab-c", 2000L));
        call((s, tx) -> s.propose("carol", open.statement(), open.signature(), tx));
    }

    private long submit(String member, int gpus) throws Exception {
        String account = member.equals("alice") ? "lab-a" : "lab-b";
        return call((s, tx) -> s.submit(member, new JobSpec(account, gpus, 1, "", 60, "true", 0, "", false, false,
                ""), tx));
    }

    private long ledgerSize() {
        return Ledger.rawEntries(engine.store()).size();
    }

    private Checkpoint stored() {
        return Checkpoint.read(Checkpoint.stored(engine.store()));
    }

    @Test
    void theLoopCheckpointsAsTheLedgerGrowsAndEachCheckpointIsTheStateAFullReplayReachesThere() throws Exception {
        every(1);
        history();
        engine.loop().close();
        long size = ledgerSize();
        Checkpoint live = stored();
        assertThat(live.seq()).isEqualTo(size);
        Checkpoint replayed = LedgerVerifier.checkpoint(engine.store());
        // The live state, written by the loop, is byte for byte what the rules rebuild from the ledger.
        assertThat(Canonical.text(live.toMap())).isEqualTo(Canonical.text(replayed.toMap()));
        assertThat(live.firstSubmitted()).isPositive();
        assertThat(live.lastSubmitted()).isGreaterThan(live.firstSubmitted());
        assertThat(LedgerVerifier.verify(engine.store()).problem()).isNull();
    }

    @Test
    void aCheckpointIsDueOnlyOnceTheLedgerHasGrownByTheInterval() throws Exception {
        history();
        assertThat(Checkpoint.stored(engine.store())).as("fewer entries than %d", Checkpoint.EVERY).isNull();
        // The ledger is already longer than the new interval: the turn that sets it checkpoints.
        every(10);
        long first = stored().seq();
        every(40);
        assertThat(first).isPositive().isLessThanOrEqualTo(ledgerSize());
        submit("bob", 1);
        assertThat(stored().seq()).as("a submission later").isEqualTo(first);
        for (int i = 0; i < 40; i++) {
            submit("bob", 1);
        }
        // Ticks may append cycle entries meanwhile; the checkpoint is at the end of some turn after 40 more.
        assertThat(stored().seq()).isBetween(first + 40, ledgerSize());
    }

    @Test
    void aRestartStartsFromTheCheckpointAndReadsOnlyTheEntriesAfterIt() throws Exception {
        every(1);
        history();
        engine.loop().close();
        long size = ledgerSize();
        String full = Canonical.text(LedgerVerifier.checkpoint(engine.store()).governance());
        // An entry long before the checkpoint is damaged: start-up never reads it, the full check does.
        Entry early = Entry.read(engine.store().getRaw(Store.Kind.LEDGER, Store.key(2)));
        engine.store().putRawForTest(Store.Kind.LEDGER, Store.key(2),
                new String(early.bytes(), StandardCharsets.UTF_8).replace("\"at\":", "\"at\": ")
                        .getBytes(StandardCharsets.UTF_8));
        Recovery.Stored s = Recovery.read(engine.store());
        assertThat(s.checkpointed()).isEqualTo(size);
        assertThat(s.ledger().size()).isEqualTo(size);
        assertThat(Canonical.text(s.governance().image())).isEqualTo(full);
        assertThat(LedgerVerifier.verify(engine.store()).badSeq()).isEqualTo(2);

        engine.store().putRawForTest(Store.Kind.LEDGER, Store.key(2), early.bytes());
        engine.restart();
        // The restarted loop goes on from it: the next entries verify, and the next checkpoint too.
        every(1);
        submit("bob", 1);
        engine.loop().close();
        assertThat(stored().seq()).isGreaterThan(size);
        assertThat(LedgerVerifier.verify(engine.store()).problem()).isNull();
    }

    @Test
    void aCheckpointThatDoesNotFitTheLedgerIsNotUsedAndTheWholeLedgerIsReplayed() throws Exception {
        every(1);
        history();
        engine.loop().close();
        long size = ledgerSize();
        Checkpoint good = stored();
        String full = Canonical.text(good.governance());

        // A broken seal: the content changed after it was written.
        String text = new String(good.bytes(), StandardCharsets.UTF_8).replace("\"amos\"", "\"anon\"");
        engine.store().putRawForTest(Store.Kind.META, Store.key(Checkpoint.KEY), text.getBytes(StandardCharsets.UTF_8));
        Recovery.Stored broken = Recovery.read(engine.store());
        assertThat(broken.checkpointed()).isZero();
        assertThat(Canonical.text(broken.governance().image())).isEqualTo(full);

        // A sealed checkpoint of another chain: its head is not the entry before it.
        Checkpoint elsewhere = new Checkpoint(good.seq(), Entry.sha256("another chain"), good.lastAt(),
                good.schedulerKey(), replaceLast(good.recent(), Entry.sha256("another chain")), good.firstSubmitted(),
                good.lastSubmitted(), good.governance());
        engine.store().putRawForTest(Store.Kind.META, Store.key(Checkpoint.KEY), elsewhere.bytes());
        Recovery.Stored other = Recovery.read(engine.store());
        assertThat(other.checkpointed()).isZero();
        assertThat(other.ledger().head()).isEqualTo(good.head());
        assertThat(Canonical.text(other.governance().image())).isEqualTo(full);

        // A checkpoint re-sealed by whoever holds the data folder, with a member the ledger never
        // admitted: it fits the chain, so start-up would take it; the full check names it.
        SortedMap<String, Object> forged = new TreeMap<>(good.governance());
        @SuppressWarnings("unchecked")
        SortedMap<String, Object> coopImage = new TreeMap<>((Map<String, Object>) forged.get("cooperative"));
        @SuppressWarnings("unchecked")
        List<Object> members = new ArrayList<>((List<Object>) coopImage.get("members"));
        @SuppressWarnings("unchecked")
        SortedMap<String, Object> mallory = new TreeMap<>((Map<String, Object>) members.get(0));
        mallory.put("name", "mallory");
        members.add(mallory);
        coopImage.put("members", members);
        forged.put("cooperative", coopImage);
        Checkpoint sealed = new Checkpoint(good.seq(), good.head(), good.lastAt(), good.schedulerKey(), good.recent(),
                good.firstSubmitted(), good.lastSubmitted(), forged);
        engine.store().putRawForTest(Store.Kind.META, Store.key(Checkpoint.KEY), sealed.bytes());
        assertThat(Recovery.read(engine.store()).checkpointed()).isEqualTo(size);
        LedgerVerifier.Report r = LedgerVerifier.verify(engine.store());
        assertThat(r.badSeq()).isEqualTo(size);
        assertThat(r.problem()).contains("checkpoint").contains("altered");
    }

    private static List<String> replaceLast(List<String> hashes, String last) {
        List<String> out = new ArrayList<>(hashes);
        out.set(out.size() - 1, last);
        return out;
    }
}
