package coop.scheduler.engine;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import coop.scheduler.domain.Attempt;
import coop.scheduler.domain.Choice;
import coop.scheduler.domain.Gpu;
import coop.scheduler.domain.Job;
import coop.scheduler.domain.JobSpec;
import coop.scheduler.domain.JobState;
import coop.scheduler.domain.Policy;
import coop.scheduler.domain.RankRef;
import coop.scheduler.domain.ShareVerdict.Outcome;
import coop.scheduler.governance.TestMembers;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The usage report's judgement: each account's share over the live shares' period and the
 * trailing hour and day, the verdict on it, and what preemption cost each account, all of it
 * the same after a restart.
 */
class UsageVerdictTest {
    @TempDir
    Path dir;
    private final FakeClock clock = new FakeClock();
    private final TestMembers keys = new TestMembers();
    private EngineFixture engine;
    private RecordingLink n1;

    @BeforeEach
    void found() {
        engine = EngineFixture.found(dir, clock, List.of(
                keys.member("alice", List.of("lab-a")),
                keys.member("bob", List.of("lab-b")),
                keys.member("carol", List.of("lab-a", "lab-b"))), List.of("lab-a", "lab-b"),
                EngineFixture.PREEMPT_AT_ONCE);
    }

    @AfterEach
    void close() {
        engine.close();
    }

    private long submit(String member, String account) throws Exception {
        return engine.call((s, tx) -> s.submit(member, new JobSpec(account, 1, 1, "", 7200, "true", 0, "",
                false, false), tx));
    }

    private void connect(int gpus) throws Exception {
        n1 = new RecordingLink();
        List<Gpu> list = EngineFixture.a100s(gpus);
        engine.call((s, tx) -> {
            s.hello(n1, "n1", "s1", list, List.of(), "10.0.0.1", tx);
            return null;
        });
    }

    /** The node reports the ranks it runs, so it is not declared lost while the clock moves. */
    private void heartbeat() throws Exception {
        engine.call((s, tx) -> {
            List<RankRef> running = new ArrayList<>();
            for (Job j : s.jobs("", Set.of(JobState.RUNNING), 0)) {
                running.add(new RankRef(j.id(), j.attemptNumber(), 0));
            }
            s.heartbeat(n1, running, 0, List.of(), tx);
            return null;
        });
    }

    private Accounting.Usage usage() throws Exception {
        return engine.call((s, tx) -> s.usage());
    }

    private static Accounting.AccountUsage row(Accounting.Usage u, String account) {
        return u.accounts().stream().filter(a -> a.account().equals(account)).findFirst().orElseThrow();
    }

    private void vote(String member, long id) throws Exception {
        clock.advanceMillis(1);
        var st = keys.vote(member, clock.millis(), id, Choice.YES);
        engine.call((s, tx) -> s.vote(member, st.statement(), st.signature(), tx));
    }

    @Test
    void sharesAreJudgedSinceThePolicyAndOverTrailingStretchesThatDoNotStartAgainAtAnEnactment() throws Exception {
        long t0 = clock.millis();
        for (int i = 0; i < 6; i++) {
            submit("alice", "lab-a");
            submit("bob", "lab-b");
        }
        connect(10);
        clock.advanceSeconds(10);
        heartbeat();

        Accounting.Usage even = usage();
        // Five GPUs each under 50/50 shares, a job of each still waiting since the start: kept everywhere.
        assertThat(even.verdicts()).extracting(Accounting.StretchVerdict::outcome)
                .containsExactly(Outcome.KEPT, Outcome.KEPT, Outcome.KEPT);
        for (String a : List.of("lab-a", "lab-b")) {
            assertThat(row(even, a).windows()).hasSize(3).allSatisfy(w -> {
                assertThat(w.votedPercent()).isCloseTo(50.0, within(1e-9));
                assertThat(w.achievedPercent()).isCloseTo(50.0, within(1e-9));
                assertThat(w.waited()).isTrue();
                assertThat(w.from()).isEqualTo(t0);
            });
        }

        var st = keys.shares("alice", clock.millis(), 3600, Map.of("lab-a", 7000L, "lab-b", 3000L));
        long proposal = engine.call((s, tx) -> s.propose("alice", st.statement(), st.signature(), tx)).id();
        vote("alice", proposal);
        vote("bob", proposal);
        vote("carol", proposal);
        Policy enacted = engine.call((s, tx) -> s.policy());
        assertThat(enacted.version()).isEqualTo(2);
        // lab-b holds five GPUs against a due of three: one is taken back for lab-a's waiting job.
        assertThat(n1.kills).singleElement().satisfies(k -> assertThat(k.cause()).isEqualTo("preempted"));
        RankRef victim = n1.kills.get(0).ref();
        clock.advanceSeconds(2);
        engine.call((s, tx) -> {
            s.exited(n1, victim, 138, "killed", tx);
            return null;
        });
        long stoppedAt = clock.millis();
        clock.advanceSeconds(4);
        heartbeat();

        Accounting.Usage after = usage();
        Accounting.AccountUsage b = row(after, "lab-b");
        Accounting.AccountUsage a = row(after, "lab-a");
        // The whole attempt is counted lost: one GPU from the start until it ended.
        assertThat(b.preemptions()).isEqualTo(1);
        assertThat(b.maxJobPreemptions()).isEqualTo(1);
        assertThat(b.lostGpuSeconds()).isEqualTo((stoppedAt - t0) / 1000.0);
        assertThat(a.preemptions()).isZero();
        assertThat(engine.<Accounting.Census>call((s, tx) -> s.census()).preemptions()).containsEntry("lab-b", 1L);

        Accounting.ShareWindow policyWindow = a.windows().get(0);
        Accounting.ShareWindow hour = a.windows().get(1);
        assertThat(policyWindow.stretch()).isEqualTo(Accounting.Stretch.POLICY);
        assertThat(policyWindow.from()).isEqualTo(enacted.sharesSince());
        assertThat(policyWindow.votedPercent()).isEqualTo(70.0);
        assertThat(policyWindow.achievedPercent()).isCloseTo(a.achievedPercent(), within(1e-9));
        // lab-a's queue ran empty when its waiting job started: its shortfall under the new shares is not judged.
        assertThat(policyWindow.waited()).isFalse();
        assertThat(policyWindow.verdict().outcome()).isEqualTo(Outcome.NOT_JUDGED);
        // The trailing hour still starts at the founding, and weighs each policy's shares by its time in force.
        assertThat(hour.stretch()).isEqualTo(Accounting.Stretch.HOUR);
        assertThat(hour.from()).isEqualTo(t0);
        long now = after.windowEnd();
        double voted = (50.0 * (enacted.enactedAt() - t0) + 70.0 * (now - enacted.enactedAt())) / (now - t0);
        assertThat(hour.votedPercent()).isCloseTo(voted, within(1e-9));
        double aMs = 5.0 * (now - t0) + (now - stoppedAt);
        double bMs = 4.0 * (now - t0) + (stoppedAt - t0);
        assertThat(hour.achievedPercent()).isCloseTo(100 * aMs / (aMs + bMs), within(1e-9));
        assertThat(hour.verdict().gapPp()).isCloseTo(hour.achievedPercent() - voted, within(1e-9));

        // A restart derives the same report from the stored jobs.
        engine.restart();
        Accounting.Usage restarted = usage();
        assertThat(restarted.accounts()).isEqualTo(after.accounts());
        assertThat(restarted.verdicts()).isEqualTo(after.verdicts());
    }

    @Test
    void votedSharesOverAStretchAreWeightedByHowLongEachPolicyWasInForce() {
        Policy first = new Policy(1, new TreeMap<>(Map.of("a", 5000, "b", 5000)), 1_000, 0);
        Policy second = new Policy(2, new TreeMap<>(Map.of("a", 2000, "b", 8000)), 4_000, 1);
        Map<String, Double> voted = Accounting.votedOver(List.of(first, second), 1_000, 5_000);
        assertThat(voted.get("a")).isCloseTo(0.75 * 50 + 0.25 * 20, within(1e-9));
        assertThat(voted.get("b")).isCloseTo(0.75 * 50 + 0.25 * 80, within(1e-9));
        assertThat(Accounting.votedOver(List.of(first, second), 4_500, 5_000)).containsEntry("a", 20.0);
        assertThat(Accounting.votedOver(List.of(first, second), 5_000, 5_000)).containsEntry("b", 80.0);
    }

    @Test
    void aPreemptedAttemptLosesAllItsGpuTimeAsIfItNeverSavedACheckpoint() {
        Attempt a = new Attempt(1, 10_000, 70_000, List.of(new coop.scheduler.domain.Placement("n1",
                "s1", "A100", List.of(0, 1))), List.of(1), "preempted by x", true, "", 7);
        assertThat(Accounting.lostGpuMillis(a)).isEqualTo(2 * 60_000);
    }
}
