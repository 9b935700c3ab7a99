package coop.scheduler.audit;

import static org.assertj.core.api.Assertions.assertThat;

import coop.scheduler.domain.Member;
import coop.scheduler.governance.Governance;
import coop.scheduler.governance.TestMembers;
import coop.scheduler.ledger.Entry;
import coop.scheduler.ledger.EventType;
import coop.scheduler.ledger.Keys;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;

/** The verifier's checks of the scheduler's own records: their form, and that jobs they name were submitted. */
class DecisionChecksTest {
    private final List<Entry> ledger = new ArrayList<>();

    DecisionChecksTest() {
        TestMembers keys = new TestMembers();
        List<Member> founders = List.of(keys.member("alice", List.of("lab-a")), keys.member("bob", List.of("lab-a")));
        add(EventType.GENESIS, Governance.genesis(founders, List.of("lab-a")));
    }

    private void add(EventType type, Map<String, Object> body) {
        String prev = ledger.isEmpty() ? Entry.ORIGIN : ledger.get(ledger.size() - 1).hash();
        ledger.add(Entry.make(ledger.size(), 1_700_000_000_000L + ledger.size(), type, new TreeMap<>(body), prev));
    }

    private LedgerVerifier.Report verify() {
        return LedgerVerifier.verify(ledger.stream().map(Entry::bytes).toList());
    }

    private void submit(long job) {
        add(EventType.SUBMIT, Map.of("job", job, "member", "alice", "account", "lab-a", "gpus", 1L, "nodes", 1L,
                "purpose", "", "spec", Entry.sha256("spec " + job)));
    }

    private void cancel(long job) {
        add(EventType.CANCEL, Map.of("job", job, "by", "alice", "reason", "by its submitter"));
    }

    @Test
    void aLedgerFromBeforeSubmissionsWereRecordedNamesAnyJob() {
        cancel(5);
        add(EventType.PREEMPT, Map.of("job", 6L, "attempt", 1L, "account", "lab-a", "for_job", 7L, "reason", "r"));
        assertThat(verify().problem()).isNull();
    }

    @Test
    void afterTheFirstSubmissionAJobNoSubmitIntroducedIsRefused() {
        cancel(2);
        submit(3);
        cancel(3);
        // Job 2 was submitted before the scheduler recorded submissions: it is taken as it comes.
        cancel(2);
        assertThat(verify().problem()).isNull();
        cancel(4);
        assertThat(verify().problem()).isEqualTo("entry 5 (cancel) is refused by the rules: names job 4, which no "
                + "submit entry introduced");
    }

    @Test
    void anArraysTasksAreIntroducedByItsOneEntry() {
        add(EventType.SUBMIT, Map.of("job", 11L, "array", 10L, "tasks", 3L, "member", "alice", "account", "lab-a",
                "gpus", 1L, "nodes", 1L, "purpose", "", "spec", Entry.sha256("array")));
        cancel(13);
        assertThat(verify().problem()).isNull();
        cancel(14);
        assertThat(verify().badSeq()).isEqualTo(3);
    }

    @Test
    void submissionsFollowTheSchedulersNumbering() {
        submit(3);
        submit(2);
        assertThat(verify().problem()).contains("submits job 2 after job 3");
    }

    @Test
    void anAttemptsPlacementsHoldTheGpusItWasChargedFor() {
        submit(1);
        Map<String, Object> attempt = new TreeMap<>(Map.of("job", 1L, "attempt", 1L, "account", "lab-a",
                "member", "alice", "gpus", 2L, "started_at", 0L, "finished_at", 10L, "gpu_ms", 20L, "outcome", "exit 0",
                "borrowed", false));
        attempt.put("placements", List.of(Map.of("node", "n1", "gpu_indices", List.of(0L))));
        add(EventType.ATTEMPT, attempt);
        assertThat(verify().problem()).contains("placements hold 1 GPUs, not the 2 charged");
    }

    @Test
    void anAnnouncedSchedulerKeyMustBeAKey() {
        add(EventType.SCHEDULER_KEY, Map.of("public_key", Keys.encode(Keys.generate().getPublic())));
        assertThat(verify().problem()).isNull();
        add(EventType.SCHEDULER_KEY, Map.of("public_key", "not a key"));
        assertThat(verify().problem()).contains("not an Ed25519 public key");
    }
}
