package coop.scheduler.engine;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import coop.scheduler.domain.CoopException;
import coop.scheduler.domain.Gpu;
import coop.scheduler.domain.Job;
import coop.scheduler.domain.JobEvent;
import coop.scheduler.domain.JobOptions;
import coop.scheduler.domain.JobSpec;
import coop.scheduler.domain.NotifyChoice;
import coop.scheduler.domain.NotifyEvent;
import coop.scheduler.domain.NotifyReach;
import coop.scheduler.domain.RankRef;
import coop.scheduler.governance.TestMembers;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The engine's side of notifications: each change of a job saved in a turn makes its events
 * (BEGIN, END, FAIL, PREEMPT, REQUEUE), handed over only once the turn is on disk; a member's
 * default is stored outside the ledger, survives a restart and fills in what a job leaves out;
 * targets the operator does not allow are refused at submit naming the field.
 */
class JobEventsTest {
    @TempDir
    Path dir;
    private final FakeClock clock = new FakeClock();
    private final TestMembers keys = new TestMembers();
    private final List<JobEvent> events = new CopyOnWriteArrayList<>();
    private EngineFixture engine;

    @BeforeEach
    void found() throws Exception {
        engine = EngineFixture.found(dir, clock, List.of(
                keys.member("alice", List.of("lab-a")),
                keys.member("bob", List.of("lab-b"))), List.of("lab-a", "lab-b"),
                EngineFixture.PREEMPT_AT_ONCE);
        listen();
    }

    private void listen() throws Exception {
        engine.loop().onJobEvents(events::add);
        engine.call((s, tx) -> {
            s.notifyReach(new NotifyReach(Set.of("hooks.example.org"), true));
            return null;
        });
    }

    @AfterEach
    void close() {
        engine.close();
    }

    private static JobSpec spec(String account, String notify, String to) {
        return new JobSpec(account, 1, 1, "", 600, "true", 0, "", false, false, "", "", "", 0, Map.of(), "")
                .withOptions(JobOptions.NONE.withNotify(notify, to));
    }

    private long submit(String member, String account, String notify, String to) throws Exception {
        return engine.call((s, tx) -> s.submit(member, spec(account, notify, to), tx));
    }

    private RecordingLink connect(String node, int gpus) throws Exception {
        RecordingLink link = new RecordingLink();
        List<Gpu> list = EngineFixture.a100s(gpus);
        engine.call((s, tx) -> {
            s.hello(link, node, "s1", list, List.of(), "10.0.0.1", tx);
            return null;
        });
        return link;
    }

    private void exit(RecordingLink link, RankRef ref, int code, String reason) throws Exception {
        engine.call((s, tx) -> {
            s.exited(link, ref, code, reason, tx);
            return null;
        });
    }

    private Job job(long id) throws Exception {
        return engine.call((s, tx) -> s.job(id));
    }

    private NotifyChoice defaultOf(String member) throws Exception {
        return engine.call((s, tx) -> s.notifyDefault(member));
    }

    private long ledgerLength() throws Exception {
        return engine.call((s, tx) -> s.ledgerHead().size());
    }

    private List<String> eventsOf(long id) {
        return events.stream().filter(e -> e.job().id() == id).map(e -> e.event().name()).toList();
    }

    @Test
    void startsEndsAndFailuresAreHandedOverOnceOnDisk() throws Exception {
        RecordingLink n1 = connect("n1", 2);
        long ok = submit("alice", "lab-a", "END", "https://hooks.example.org/a");
        long bad = submit("alice", "lab-a", "", "");
        assertThat(eventsOf(ok)).containsExactly("BEGIN");
        assertThat(events).filteredOn(e -> e.event() == NotifyEvent.BEGIN).allSatisfy(e ->
                assertThat(e.text()).contains("started attempt 1 on n1"));
        exit(n1, new RankRef(ok, 1, 0), 0, "exited");
        exit(n1, new RankRef(bad, 1, 0), 3, "exited");
        assertThat(eventsOf(ok)).containsExactly("BEGIN", "END");
        assertThat(eventsOf(bad)).containsExactly("BEGIN", "FAIL");
        JobEvent failed = events.get(events.size() - 1);
        assertThat(failed.exitCode()).isEqualTo(3);
        assertThat(failed.text()).isEqualTo("job " + bad + " of alice in lab-a ended FAILED with exit code 3");
        // What the handler was given is what a restarted scheduler reads.
        engine.restart();
        listen();
        assertThat(job(ok).options().notifyTo()).isEqualTo("https://hooks.example.org/a");
        assertThat(job(ok).options().notifyOn()).isEqualTo("END");
    }

    @Test
    void aPreemptedBorrowerIsToldOfThePreemptionThenOfItsRequeue() throws Exception {
        RecordingLink n1 = connect("n1", 4);
        for (int i = 0; i < 4; i++) {
            submit("alice", "lab-a", "", "");
        }
        long bobs = submit("bob", "lab-b", "", "");
        RankRef victim = n1.kills.get(0).ref();
        assertThat(eventsOf(victim.jobId())).containsExactly("BEGIN", "PREEMPT");
        assertThat(events.stream().filter(e -> e.event() == NotifyEvent.PREEMPT).findFirst().orElseThrow().text())
                .contains("is being preempted: preempted by lab-b reclaiming its share for job " + bobs);
        exit(n1, victim, 138, "killed");
        assertThat(eventsOf(victim.jobId())).containsExactly("BEGIN", "PREEMPT", "REQUEUE");
    }

    @Test
    void aCancelledWaitingJobEndsWithoutEverBeginning() throws Exception {
        long id = submit("alice", "lab-a", "", "");
        engine.call((s, tx) -> s.cancel("alice", id, tx));
        assertThat(eventsOf(id)).containsExactly("END");
        assertThat(events.get(0).job().state().name()).isEqualTo("CANCELLED");
    }

    @Test
    void aMembersDefaultIsKeptOutsideTheLedgerSurvivesARestartAndFillsInWhatAJobLeavesOut() throws Exception {
        long entries = ledgerLength();
        NotifyChoice set = engine.call((s, tx) -> s.setNotifyDefault("alice", "end,fail", "alice@example.org", tx));
        assertThat(set).isEqualTo(new NotifyChoice("END,FAIL", "alice@example.org"));
        assertThat(ledgerLength()).isEqualTo(entries);
        engine.restart();
        listen();
        assertThat(defaultOf("alice")).isEqualTo(set);
        assertThat(defaultOf("bob")).isEqualTo(NotifyChoice.NONE);

        long plain = submit("alice", "lab-a", "", "");
        assertThat(job(plain).options().notifyOn()).isEqualTo("END,FAIL");
        assertThat(job(plain).options().notifyTo()).isEqualTo("alice@example.org");
        long ownEvents = submit("alice", "lab-a", "begin", "");
        assertThat(job(ownEvents).options().notifyOn()).isEqualTo("BEGIN");
        assertThat(job(ownEvents).options().notifyTo()).isEqualTo("alice@example.org");
        long none = submit("alice", "lab-a", "NONE", "");
        assertThat(job(none).options().notifyOn()).isEqualTo("NONE");
        assertThat(job(none).options().notifyTo()).isEmpty();

        // Only the address changes; "" clears.
        engine.call((s, tx) -> s.setNotifyDefault("alice", null, "https://hooks.example.org/alice", tx));
        assertThat(defaultOf("alice"))
                .isEqualTo(new NotifyChoice("END,FAIL", "https://hooks.example.org/alice"));
        engine.call((s, tx) -> s.setNotifyDefault("alice", "", "", tx));
        engine.restart();
        listen();
        assertThat(defaultOf("alice")).isEqualTo(NotifyChoice.NONE);
    }

    @Test
    void badTargetsAndEventsAreRefusedAtSubmitNamingTheField() throws Exception {
        assertRefused("END", "", "notify_to: events END need an address");
        assertRefused("END,FINISHED", "a@example.org", "notify: unknown event 'FINISHED'");
        assertRefused("END", "ftp://hooks.example.org/x", "notify_to: 'ftp://hooks.example.org/x' is a ftp: URL");
        assertRefused("END", "not an address", "notify_to: must be at most");
        assertRefused("END", "alice", "notify_to: 'alice' is neither an http(s) URL nor an email address");
        assertRefused("END", "http://10.0.0.5:8080/hook", "notify_to: this scheduler does not call host '10.0.0.5': "
                + "its operator allows hooks.example.org");
        assertRefused("NONE,END", "a@example.org", "notify: NONE cannot be given with other events");
        assertThatThrownBy(() -> engine.call((s, tx) -> s.setNotifyDefault("bob", "END", null, tx)))
                .hasMessageContaining("notify_to: events END need an address");
        engine.call((s, tx) -> {
            s.notifyReach(new NotifyReach(Set.of(), false));
            return null;
        });
        assertRefused("END", "a@example.org", "notify_to: this scheduler sends no mail: its operator gave no --smtp");
        assertRefused("END", "https://hooks.example.org/a", "its operator allowed no host (coop scheduler "
                + "--notify-hosts)");
    }

    private void assertRefused(String notify, String to, String message) {
        assertThatThrownBy(() -> submit("alice", "lab-a", notify, to)).isInstanceOf(CoopException.class)
                .hasMessageContaining(message)
                .satisfies(e -> assertThat(((CoopException) e).kind()).isEqualTo(CoopException.Kind.INVALID_ARGUMENT));
    }
}
