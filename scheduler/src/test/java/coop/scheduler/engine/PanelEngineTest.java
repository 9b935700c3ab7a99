package coop.scheduler.engine;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import coop.scheduler.audit.LedgerVerifier;
import coop.scheduler.domain.CoopException;
import coop.scheduler.domain.JobSpec;
import coop.scheduler.domain.JobState;
import coop.scheduler.domain.ProposalState;
import coop.scheduler.governance.Beacon;
import coop.scheduler.governance.TestMembers;
import coop.scheduler.ledger.Entry;
import coop.scheduler.ledger.EventType;
import coop.scheduler.ledger.Ledger;
import coop.scheduler.store.Store;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.HexFormat;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Review panels as the scheduler draws them: seeded by its beacon, whose secret survives a
 * restart; drawn without the submitter's account-mates or the operators of its nodes.
 */
class PanelEngineTest {
    @TempDir
    Path dir;
    private final FakeClock clock = new FakeClock();
    private final TestMembers keys = new TestMembers();
    private EngineFixture engine;

    @BeforeEach
    void found() {
        engine = EngineFixture.panelCooperative(dir, clock, keys);
    }

    @AfterEach
    void close() {
        engine.close();
    }

    private <T> T call(EventLoop.Command<T> c) throws Exception {
        return engine.call(c);
    }

    private void passParam(String name, Object value) throws Exception {
        assertThat(engine.passParam(keys, clock, name, value).state()).isEqualTo(ProposalState.PASSED);
    }

    private long submit(String member, String account, int gpus, String purpose) throws Exception {
        return call((s, tx) -> s.submit(member, new JobSpec(account, gpus, 1, "", 60, "true", 0, "", false, false,
                purpose), tx));
    }

    private List<Entry> entries() {
        return Ledger.rawEntries(engine.store()).stream().map(Entry::read).toList();
    }

    private Entry lastPanel() {
        return entries().stream().filter(e -> e.is(EventType.PANEL)).reduce((a, b) -> b).orElseThrow();
    }

    @Test
    void theBeaconsSecretSurvivesARestartSoTheChainGoesOnAndNeverEntersTheLedger() throws Exception {
        passParam("panel_min_gpus", 4L);
        long first = submit("alice", "lab-a", 4, "");
        assertThat(engine.state().job(first).state()).isEqualTo(JobState.REVIEW);
        Entry beacon = entries().stream().filter(e -> e.is(EventType.BEACON)).findFirst().orElseThrow();
        assertThat(lastPanel().body()).containsEntry("reveal_index", 1L);
        assertThat(lastPanel().prev()).isEqualTo(beacon.hash());

        String secret = engine.store().get(Store.Kind.META, Store.key(GovernanceDesk.BEACON_SECRET_KEY), String.class);
        assertThat(Beacon.anchor(HexFormat.of().parseHex(secret), GovernanceDesk.BEACON_LENGTH))
                .isEqualTo(beacon.body().get("anchor"));
        engine.restart();
        long second = submit("bob", "lab-b", 4, "");
        Entry panel = lastPanel();
        assertThat(panel.body()).containsEntry("job", second).containsEntry("reveal_index", 2L);
        assertThat(Beacon.follows((String) panel.body().get("reveal"), (String) entries().stream()
                .filter(e -> e.is(EventType.PANEL)).toList().get(0).body().get("reveal"))).isTrue();
        // One beacon: the restarted scheduler went on with the chain it had committed to.
        assertThat(entries().stream().filter(e -> e.is(EventType.BEACON)).count()).isEqualTo(1);
        for (Entry e : entries()) {
            assertThat(new String(e.bytes(), StandardCharsets.UTF_8)).doesNotContain(secret);
        }
        engine.loop().close();
        assertThat(LedgerVerifier.verify(Ledger.rawEntries(engine.store())).problem()).isNull();
    }

    @Test
    void theOperatorsOfTheNodesThatCouldRunTheJobAndItsAccountMatesSitOnNoPanel() throws Exception {
        passParam("panel_min_gpus", 2L);
        passParam("panel_size", 5L);
        // bob runs a 2-GPU node that could hold the job; dave's 1-GPU node could not.
        call((s, tx) -> s.enroll("bob", "big", "s1", "lab-b", Entry.sha256("big"), tx));
        call((s, tx) -> s.enroll("dave", "small", "s1", "lab-c", Entry.sha256("small"), tx));
        call((s, tx) -> {
            s.hello(new RecordingLink(), "big", "s1", EngineFixture.a100s(2), List.of(), tx);
            s.hello(new RecordingLink(), "small", "s1", EngineFixture.a100s(1), List.of(), tx);
            return null;
        });
        long id = submit("alice", "lab-a", 2, "");
        assertThat(engine.state().panel(id).drawn()).containsExactlyInAnyOrder("carol", "dave");
        assertThat(lastPanel().body()).containsEntry("excluded", List.of("bob"))
                .containsEntry("eligible", List.of("carol", "dave"));

        // With carol's vote gone to the node operators as well, only dave is left; without him, nobody.
        call((s, tx) -> s.enroll("carol", "big2", "s1", "lab-b", Entry.sha256("big2"), tx));
        call((s, tx) -> s.enroll("dave", "big3", "s1", "lab-c", Entry.sha256("big3"), tx));
        assertThatThrownBy(() -> submit("alice", "lab-a", 2, "")).isInstanceOfSatisfying(CoopException.class, e -> {
            assertThat(e.kind()).isEqualTo(CoopException.Kind.FAILED_PRECONDITION);
            assertThat(e.getMessage()).contains("no member can review it").contains("operators");
        });
        engine.loop().close();
        assertThat(LedgerVerifier.verify(Ledger.rawEntries(engine.store())).problem()).isNull();
    }

    @Test
    void splittingWorkIntoSmallJobsNoLongerDodgesReview() throws Exception {
        passParam("panel_min_gpus", 8L);
        passParam("panel_window_s", 3600L);
        long first = submit("alice", "lab-a", 4, "train");
        assertThat(engine.state().job(first).state()).isEqualTo(JobState.PENDING);
        // The second half of the split: 4 + 4 GPUs for the same purpose reach panel_min_gpus.
        long second = submit("alice", "lab-a", 4, "train");
        assertThat(engine.state().job(second).state()).isEqualTo(JobState.REVIEW);
        // Another purpose, and another member, are counted apart.
        long infer = submit("alice", "lab-a", 4, "infer");
        assertThat(engine.state().job(infer).state()).isEqualTo(JobState.PENDING);
        assertThat(engine.state().job(submit("amos", "lab-a", 4, "train")).state()).isEqualTo(JobState.PENDING);

        // Jobs that ended count for panel_window_s after their end, then no more.
        call((s, tx) -> s.cancel("alice", first, tx));
        call((s, tx) -> s.cancel("alice", second, tx));
        call((s, tx) -> s.cancel("alice", infer, tx));
        assertThat(engine.state().job(submit("alice", "lab-a", 4, "train")).state()).isEqualTo(JobState.REVIEW);
        long again = submit("alice", "lab-a", 4, "infer");
        assertThat(engine.state().job(again).state()).isEqualTo(JobState.REVIEW);
        call((s, tx) -> s.cancel("alice", again, tx));
        clock.advanceMillis(3_601_000);
        assertThat(engine.state().job(submit("alice", "lab-a", 4, "infer")).state())
                .as("both infer jobs ended more than panel_window_s ago").isEqualTo(JobState.PENDING);
    }

    @Test
    void aNodeWhoseOperatorRefusesAPurposeNeverRunsAJobDeclaringIt() throws Exception {
        call((s, tx) -> s.enroll("alice", "n1", "s1", "lab-a", Entry.sha256("n1"), tx));
        var terms = call((s, tx) -> s.setTerms("alice", "n1", null, null, null, List.of("dual-use"), tx));
        assertThat(terms.refusedPurposes()).containsExactly("dual-use");
        assertThatThrownBy(() -> call((s, tx) -> s.setTerms("alice", "n1", null, null, null, List.of("not a name"),
                tx))).isInstanceOfSatisfying(CoopException.class,
                e -> assertThat(e.getMessage()).contains("refused_purposes"));
        engine.restart();
        call((s, tx) -> {
            s.hello(new RecordingLink(), "n1", "s1", EngineFixture.a100s(2), List.of(), tx);
            return null;
        });
        long refused = submit("bob", "lab-b", 1, "dual-use");
        long plain = submit("bob", "lab-b", 1, "");
        engine.turn();
        assertThat(engine.state().job(plain).state()).isEqualTo(JobState.RUNNING);
        assertThat(engine.state().job(refused).state()).isEqualTo(JobState.PENDING);
        assertThat(engine.state().whyPending(refused)).contains("whose operators refuse its purpose");
        // Lifted, it runs there.
        call((s, tx) -> s.setTerms("alice", "n1", null, null, null, List.of(), tx));
        engine.turn();
        assertThat(engine.state().job(refused).state()).isEqualTo(JobState.RUNNING);
    }

    private coop.scheduler.domain.Job report(String member, long job, String concern) throws Exception {
        clock.advanceMillis(1);
        var st = keys.signed(coop.scheduler.governance.Statements.report(member, clock.millis(), job, concern));
        return call((s, tx) -> s.report(member, st.statement(), st.signature(), tx));
    }

    @Test
    void aSignedReportOpensAPanelAfterTheFactThatCanCancelARunningJob() throws Exception {
        RecordingLink n1 = new RecordingLink();
        call((s, tx) -> {
            s.hello(n1, "n1", "s1", EngineFixture.a100s(2), List.of(), tx);
            return null;
        });
        long id = submit("alice", "lab-a", 1, "");
        engine.turn();
        assertThat(engine.state().job(id).state()).isEqualTo(JobState.RUNNING);

        // bob (lab-b) may not read alice's job, so may not report it.
        assertThatThrownBy(() -> report("bob", id, "odd traffic")).isInstanceOfSatisfying(CoopException.class, e -> {
            assertThat(e.kind()).isEqualTo(CoopException.Kind.PERMISSION_DENIED);
            assertThat(e.getMessage()).contains("cannot see job " + id).contains("may be read only by");
        });
        assertThat(entries().stream().filter(e -> e.is(EventType.REPORT))).isEmpty();

        report("amos", id, "it mines coins on the cooperative's GPUs");
        var panel = engine.state().panel(id);
        // Not alice, not her account-mate amos (who reported it too).
        assertThat(panel.drawn()).containsExactlyInAnyOrder("bob", "carol", "dave");
        Entry p = lastPanel();
        assertThat(p.body()).containsEntry("reported_by", "amos").containsEntry("job", id);
        assertThat(entries().get((int) p.seq() - 1).is(EventType.REPORT)).isTrue();
        assertThat(engine.state().job(id).state()).as("it runs while the panel decides").isEqualTo(JobState.RUNNING);
        assertThatThrownBy(() -> report("amos", id, "again")).isInstanceOfSatisfying(CoopException.class,
                e -> assertThat(e.kind()).isEqualTo(CoopException.Kind.FAILED_PRECONDITION));

        for (String m : List.of("bob", "carol")) {
            clock.advanceMillis(1);
            var r = keys.review(m, clock.millis(), id, false);
            call((s, tx) -> s.review(m, r.statement(), r.signature(), tx));
        }
        assertThat(engine.state().job(id).state()).isEqualTo(JobState.CANCELLED);
        assertThat(engine.state().job(id).endReason()).contains("rejected by the review panel a report opened");
        assertThat(n1.killed).isNotEmpty();
        assertThatThrownBy(() -> report("amos", id, "late")).isInstanceOfSatisfying(CoopException.class,
                e -> assertThat(e.kind()).isEqualTo(CoopException.Kind.FAILED_PRECONDITION));

        engine.loop().close();
        assertThat(LedgerVerifier.verify(Ledger.rawEntries(engine.store())).problem()).isNull();
    }
}
