package coop.scheduler.engine;

import static org.assertj.core.api.Assertions.assertThat;

import coop.scheduler.audit.LedgerVerifier;
import coop.scheduler.domain.JobSpec;
import coop.scheduler.domain.JobState;
import coop.scheduler.domain.RankRef;
import coop.scheduler.governance.TestMembers;
import coop.scheduler.ledger.Entry;
import coop.scheduler.ledger.EventType;
import coop.scheduler.ledger.Ledger;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What the scheduler decides on its own authority is in the ledger, in the turn that decided it:
 * submissions, cancellations, a node's enrolment, terms, drain and removal, a preemption naming
 * its victim and beneficiary, and attempts naming where they ran; and the ledger still verifies.
 */
class DecisionLedgerTest {
    @TempDir
    Path dir;
    private final FakeClock clock = new FakeClock();
    private final TestMembers keys = new TestMembers();
    private EngineFixture engine;

    @BeforeEach
    void found() {
        engine = EngineFixture.found(dir, clock, List.of(
                keys.member("alice", List.of("lab-a")),
                keys.member("bob", List.of("lab-b"))), List.of("lab-a", "lab-b"),
                EngineFixture.PREEMPT_AT_ONCE);
    }

    @AfterEach
    void close() {
        engine.close();
    }

    private long submit(String member, String account, int gpus) throws Exception {
        return engine.call((s, tx) -> s.submit(member, new JobSpec(account, gpus, 1, "", 60, "train.py", 0, "",
                false, false), tx));
    }

    private List<Entry> entries(EventType type) {
        return Ledger.rawEntries(engine.store()).stream().map(Entry::read).filter(e -> e.is(type)).toList();
    }

    @Test
    void everyDecisionOfTheSchedulerIsRecordedAndTheLedgerVerifies() throws Exception {
        engine.call((s, tx) -> s.enroll("alice", "n1", "s1", "lab-a", Entry.sha256("t"), tx));
        RecordingLink n1 = engine.connect("n1", "s1", 2, coop.scheduler.domain.NodeFeatures.NONE);
        engine.call((s, tx) -> s.setTerms("alice", "n1", 1, null, null, tx));
        long borrower = submit("bob", "lab-b", 1);
        long other = submit("bob", "lab-b", 1);
        long own = submit("alice", "lab-a", 1);
        Awaitility.await().atMost(Duration.ofSeconds(5)).until(() -> n1.killed.size() == 1);
        RankRef victim = n1.killed.get(0);
        clock.advanceSeconds(5);
        engine.call((s, tx) -> {
            s.exited(n1, victim, 143, "exited", tx);
            return null;
        });
        Awaitility.await().atMost(Duration.ofSeconds(5))
                .until(() -> engine.call((s, tx) -> s.job(own)).state() == JobState.RUNNING);
        long cancelled = submit("alice", "lab-a", 1);
        engine.call((s, tx) -> s.cancel("alice", cancelled, tx));
        engine.call((s, tx) -> s.drain("alice", "n1", true, "disk swap", tx));
        engine.call((s, tx) -> s.drain("alice", "n1", false, "", tx));
        engine.call((s, tx) -> {
            s.certificateIssued("member", "bob", "1a2b", tx);
            return null;
        });
        engine.call((s, tx) -> s.removeNode("alice", "n1", tx));
        engine.loop().close();

        assertThat(entries(EventType.SUBMIT)).extracting(e -> e.body().get("job"))
                .containsExactly(borrower, other, own, cancelled);
        assertThat(entries(EventType.SUBMIT).get(0).body()).containsEntry("member", "bob")
                .containsEntry("account", "lab-b").containsEntry("gpus", 1L).containsEntry("nodes", 1L)
                .containsEntry("purpose", "").containsKey("spec").doesNotContainValue("train.py");
        assertThat(entries(EventType.CANCEL)).singleElement().satisfies(e -> assertThat(e.body())
                .containsEntry("job", cancelled).containsEntry("by", "alice").containsEntry("reason", "by its submitter"));
        assertThat(entries(EventType.PREEMPT)).first().satisfies(e -> assertThat(e.body())
                .containsEntry("job", victim.jobId()).containsEntry("attempt", 1L).containsEntry("for_job", own)
                .containsEntry("account", "lab-b"));
        long victimGpu = n1.launched.stream().filter(l -> l.ref().equals(victim)).findFirst().orElseThrow()
                .gpus().get(0);
        assertThat(entries(EventType.ATTEMPT)).anySatisfy(e -> assertThat(e.body())
                .containsEntry("job", victim.jobId()).containsEntry("borrowed", true)
                .containsEntry("placements", List.of(Map.of("node", "n1", "gpu_indices", List.of(victimGpu)))));
        assertThat(entries(EventType.NODE_ENROL)).singleElement().satisfies(e -> assertThat(e.body())
                .containsEntry("node", "n1").containsEntry("account", "lab-a").containsEntry("by", "alice"));
        assertThat(entries(EventType.NODE_TERMS)).singleElement().satisfies(e -> assertThat(e.body())
                .containsEntry("reserved_gpus", 1L).containsEntry("by", "alice"));
        assertThat(entries(EventType.NODE_DRAIN)).extracting(e -> e.body().get("drain"), e -> e.body().get("reason"))
                .containsExactly(org.assertj.core.groups.Tuple.tuple(true, "disk swap"),
                        org.assertj.core.groups.Tuple.tuple(false, ""));
        assertThat(entries(EventType.CERTIFICATE)).singleElement().satisfies(e -> assertThat(e.body())
                .containsEntry("holder", "member").containsEntry("name", "bob").containsEntry("serial", "1a2b"));
        assertThat(entries(EventType.NODE_REMOVE)).singleElement().satisfies(e -> assertThat(e.body())
                .containsEntry("node", "n1").containsEntry("by", "alice"));

        LedgerVerifier.Report report = LedgerVerifier.verify(Ledger.rawEntries(engine.store()));
        assertThat(report.problem()).isNull();
        // The scheduler starts on it: recovery replays the ledger with the same checks.
        engine.restart();
        assertThat(engine.call((s, tx) -> s.job(cancelled)).state()).isEqualTo(JobState.CANCELLED);
    }

    @Test
    void anArrayIsOneSubmitEntryNamingItsTasks() throws Exception {
        var spec = new JobSpec("lab-a", 1, 1, "", 60, "true", 0, "", false, false, "", "0-9", "", 0, Map.of(), "",
                coop.scheduler.domain.JobContainer.NONE, "", coop.scheduler.domain.JobOptions.NONE);
        var submitted = engine.call((s, tx) -> s.submitJobs("alice", spec, tx));
        long single = submit("alice", "lab-a", 1);
        engine.call((s, tx) -> s.cancel("alice", submitted.firstJobId() + 9, tx));
        engine.loop().close();
        assertThat(entries(EventType.SUBMIT)).extracting(e -> e.body().get("job"), e -> e.body().get("array"),
                e -> e.body().get("tasks")).containsExactly(
                org.assertj.core.groups.Tuple.tuple(submitted.firstJobId(), submitted.arrayId(), 10L),
                org.assertj.core.groups.Tuple.tuple(single, null, null));
        assertThat(LedgerVerifier.verify(Ledger.rawEntries(engine.store())).problem()).isNull();
    }
}
