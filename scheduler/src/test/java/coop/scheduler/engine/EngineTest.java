package coop.scheduler.engine;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import coop.scheduler.domain.Choice;
import coop.scheduler.domain.CoopException;
import coop.scheduler.domain.Gpu;
import coop.scheduler.domain.Job;
import coop.scheduler.domain.JobSpec;
import coop.scheduler.domain.JobState;
import coop.scheduler.domain.Proposal;
import coop.scheduler.domain.ProposalState;
import coop.scheduler.domain.RankRef;
import coop.scheduler.governance.TestMembers;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The event loop and cluster state together, on a real RocksDB store, with a hand-moved clock. */
class EngineTest {
    @TempDir
    Path dir;
    private final FakeClock clock = new FakeClock();
    private final TestMembers keys = new TestMembers();
    private EngineFixture engine;

    @BeforeEach
    void found() {
        engine = EngineFixture.found(dir, clock, List.of(
                keys.member("alice", List.of("lab-a")),
                keys.member("bob", List.of("lab-b")),
                keys.member("carol", List.of("lab-a", "lab-b"))), List.of("lab-a", "lab-b"),
                EngineFixture.PREEMPT_AT_ONCE);
    }

    private void restart() {
        engine.restart();
    }

    @AfterEach
    void close() {
        engine.close();
    }

    private <T> T call(EventLoop.Command<T> c) throws Exception {
        return engine.call(c);
    }

    private long submit(String member, String account, int gpus, int nodes) throws Exception {
        return call((s, tx) -> s.submit(member, new JobSpec(account, gpus, nodes, "", 60, "true", 0, "",
                false, false), tx));
    }

    private RecordingLink connect(String node, String site, int gpus) throws Exception {
        return reconnect(node, site, gpus);
    }

    /** A node coming back after a restart of the scheduler, reporting the ranks it still runs. */
    private RecordingLink reconnect(String node, String site, int gpus, RankRef... running) throws Exception {
        RecordingLink link = new RecordingLink();
        List<Gpu> list = EngineFixture.a100s(gpus);
        call((s, tx) -> {
            s.hello(link, node, site, list, List.of(running), "10.0.0." + (node.hashCode() & 0x7f), tx);
            return null;
        });
        return link;
    }

    private void exit(RecordingLink link, RankRef ref, int code) throws Exception {
        call((s, tx) -> {
            s.exited(link, ref, code, "exited", tx);
            return null;
        });
    }

    private Job job(long id) throws Exception {
        return call((s, tx) -> s.job(id));
    }

    @Test
    void aSubmittedJobIsLaunchedOnFreeGpusAndSucceedsWhenItExitsZero() throws Exception {
        RecordingLink n1 = connect("n1", "s1", 4);
        assertThat(n1.welcomed).isTrue();
        long id = submit("alice", "lab-a", 2, 1);
        assertThat(n1.launched).singleElement().satisfies(l -> {
            assertThat(l.ref()).isEqualTo(new RankRef(id, 1, 0));
            assertThat(l.gpus()).containsExactly(0, 1);
            assertThat(l.env()).containsEntry("NODE_RANK", "0").containsEntry("COOP_ACCOUNT", "lab-a");
        });
        assertThat(job(id).state()).isEqualTo(JobState.RUNNING);
        clock.advanceSeconds(10);
        exit(n1, new RankRef(id, 1, 0), 0);
        assertThat(n1.acked).containsExactly(new RankRef(id, 1, 0));
        Job done = job(id);
        assertThat(done.state()).isEqualTo(JobState.SUCCEEDED);
        assertThat(done.current().gpuMillis(0, clock.millis())).isEqualTo(20_000);
        var usage = call((s, tx) -> s.usage());
        assertThat(usage.accounts()).filteredOn(a -> a.account().equals("lab-a"))
                .singleElement().satisfies(a -> {
                    assertThat(a.gpuSeconds()).isEqualTo(20.0);
                    assertThat(a.achievedPercent()).isEqualTo(100.0);
                });
    }

    @Test
    void aNonZeroExitFailsTheJobAndAGangRankFailureKillsTheOtherRanks() throws Exception {
        RecordingLink n1 = connect("n1", "s1", 2);
        RecordingLink n2 = connect("n2", "s1", 2);
        long id = submit("alice", "lab-a", 2, 2);
        assertThat(n1.launched).hasSize(1);
        assertThat(n2.launched).hasSize(1);
        RankRef onN1 = n1.launched.get(0).ref();
        RankRef onN2 = n2.launched.get(0).ref();
        exit(n1, onN1, 3);
        assertThat(n2.killed).containsExactly(onN2);
        assertThat(job(id).state()).isEqualTo(JobState.RUNNING);
        exit(n2, onN2, 143);
        assertThat(job(id).state()).isEqualTo(JobState.FAILED);
        assertThat(job(id).current().exitCode()).isEqualTo(3);
    }

    @Test
    void aJobFirstInLineSaysWhenItsReservationStarts() throws Exception {
        connect("n1", "s1", 2);
        long holder = submit("alice", "lab-a", 2, 1);
        long waiting = submit("bob", "lab-b", 2, 1);
        assertThat(job(holder).state()).isEqualTo(JobState.RUNNING);
        // The running job's walltime is 60 s: the reservation starts at most 60 s from now.
        String expected = java.time.format.DateTimeFormatter.ofPattern("HH:mm").withZone(java.time.ZoneOffset.UTC)
                .format(java.time.Instant.ofEpochMilli(clock.millis() + 60_000));
        String why = call((s, tx) -> s.whyPending(waiting));
        assertThat(why).endsWith("first in line: 2 GPUs reserved on n1 from " + expected + " UTC, in 1 min");
        // Said as of each reading, not as of the cycle: it counts down with no cycle in between.
        clock.advanceSeconds(10);
        assertThat((String) call((s, tx) -> s.whyPending(waiting)))
                .endsWith("reserved on n1 from " + expected + " UTC, in 50 s");
        // As squeue --start: the time itself, for the wire and --json.
        long at = call((s, tx) -> s.expectedStart(waiting));
        assertThat(at).isBetween(clock.millis(), clock.millis() + 60_000);
        assertThat((long) call((s, tx) -> s.expectedStart(holder))).as("running: no expected start").isZero();
    }

    @Test
    void jobsBehindTheFirstInLineAreExplainedWhenAsked() throws Exception {
        connect("n1", "s1", 2);
        submit("alice", "lab-a", 2, 1);
        long first = submit("bob", "lab-b", 2, 1);
        long second = submit("bob", "lab-b", 2, 1);
        long third = submit("alice", "lab-a", 2, 1);
        String whyFirst = call((s, tx) -> s.whyPending(first));
        assertThat(whyFirst).contains("first in line");
        for (long id : List.of(second, third)) {
            String why = call((s, tx) -> s.whyPending(id));
            assertThat(why).as("job %d", id).contains("holds").contains("no GPU it can use is idle");
        }
    }

    @Test
    void jobsQueuedWhileNoNodeIsOnlineAreExplainedAsAFullCycleWouldAndStartOnceOneConnects() throws Exception {
        long first = submit("alice", "lab-a", 2, 1);
        // These turns only queue jobs after a cycle that had no node and nothing running: no cycle runs.
        long second = submit("bob", "lab-b", 2, 1);
        long third = submit("alice", "lab-a", 1, 1);
        List<String> told = new ArrayList<>();
        for (long id : List.of(first, second, third)) {
            told.add(call((s, tx) -> s.whyPending(id)));
        }
        List<String> afterFullCycle = call((s, tx) -> {
            s.allocate(tx);
            return List.of(s.whyPending(first), s.whyPending(second), s.whyPending(third));
        });
        assertThat(told).isEqualTo(afterFullCycle).allSatisfy(why -> assertThat(why).isNotEmpty());
        RecordingLink n1 = connect("n1", "s1", 8);
        assertThat(n1.launched).hasSize(3);
        for (long id : List.of(first, second, third)) {
            assertThat(job(id).state()).isEqualTo(JobState.RUNNING);
        }
    }

    @Test
    void badSubmissionsAreRefusedNamingTheFieldAndStoreNothing() throws Exception {
        assertThatThrownBy(() -> submit("alice", "lab-x", 1, 1)).isInstanceOfSatisfying(CoopException.class, e -> {
            assertThat(e.kind()).isEqualTo(CoopException.Kind.INVALID_ARGUMENT);
            assertThat(e.getMessage()).startsWith("account:");
        });
        assertThatThrownBy(() -> submit("alice", "lab-a", 0, 1)).hasMessageStartingWith("gpus_per_node:");
        assertThatThrownBy(() -> submit("alice", "lab-b", 1, 1)).isInstanceOfSatisfying(CoopException.class,
                e -> assertThat(e.kind()).isEqualTo(CoopException.Kind.PERMISSION_DENIED));
        assertThatThrownBy(() -> submit(null, "lab-a", 1, 1)).isInstanceOfSatisfying(CoopException.class,
                e -> assertThat(e.kind()).isEqualTo(CoopException.Kind.UNAUTHENTICATED));
        List<Job> stored = call((s, tx) -> s.jobs(null, Set.of(), 0));
        assertThat(stored).isEmpty();
        restart();
        assertThat(submit("alice", "lab-a", 1, 1)).isEqualTo(1);
    }

    private Proposal propose(String member, long a, long b, long closesIn) throws Exception {
        var st = keys.shares(member, clock.millis(), closesIn, Map.of("lab-a", a, "lab-b", b));
        return call((s, tx) -> s.propose(member, st.statement(), st.signature(), tx));
    }

    private Proposal vote(String member, long id, Choice c) throws Exception {
        clock.advanceMillis(1);
        var st = keys.vote(member, clock.millis(), id, c);
        return call((s, tx) -> s.vote(member, st.statement(), st.signature(), tx));
    }

    @Test
    void aProposalPassesWhenEveryoneHasVotedAndBecomesTheNextPolicy() throws Exception {
        var p = propose("alice", 7000, 3000, 3600);
        vote("alice", p.id(), Choice.NO);
        vote("alice", p.id(), Choice.YES);
        vote("bob", p.id(), Choice.NO);
        var closed = vote("carol", p.id(), Choice.YES);
        assertThat(closed.state()).isEqualTo(ProposalState.PASSED);
        assertThat(closed.enactedVersion()).isEqualTo(2);
        assertThat(call((s, tx) -> s.policy()).shares()).containsEntry("lab-a", 7000).containsEntry("lab-b", 3000);
        assertThatThrownBy(() -> vote("bob", p.id(), Choice.YES))
                .isInstanceOfSatisfying(CoopException.class,
                        e -> assertThat(e.kind()).isEqualTo(CoopException.Kind.FAILED_PRECONDITION));
        restart();
        assertThat(call((s, tx) -> s.policy()).version()).isEqualTo(2);
        assertThat(call((s, tx) -> s.proposals(false)).get(0).state()).isEqualTo(ProposalState.PASSED);
    }

    @Test
    void aProposalClosesAtItsDeadlineAndFailsWithoutQuorum() throws Exception {
        var p = propose("alice", 7000, 3000, 60);
        vote("alice", p.id(), Choice.YES);
        clock.advanceSeconds(61);
        org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(5)).until(
                () -> call((s, tx) -> s.proposals(false)).get(0).state() == ProposalState.REJECTED);
        assertThat(call((s, tx) -> s.proposals(false)).get(0).outcome()).startsWith("no quorum");
        assertThat(call((s, tx) -> s.policy()).version()).isEqualTo(1);
    }

    @Test
    void sharesThatDoNotSumToOneHundredAreRefused() {
        assertThatThrownBy(() -> propose("alice", 7000, 2000, 60))
                .hasMessage("shares: must sum to 100%, got 90%");
    }

    @Test
    void afterARestartRunningWorkIsKeptAndANodeThatNeverReturnsIsDeclaredLostAndItsJobRequeued() throws Exception {
        RecordingLink n1 = connect("n1", "s1", 1);
        long id = submit("alice", "lab-a", 1, 1);
        assertThat(job(id).state()).isEqualTo(JobState.RUNNING);
        restart();
        assertThat(job(id).state()).isEqualTo(JobState.RUNNING);
        clock.advanceSeconds(14);
        // Still within the restart grace: a turn after the move ticks, and must keep it running.
        engine.turn();
        assertThat(job(id).state()).isEqualTo(JobState.RUNNING);
        clock.advanceSeconds(2);
        org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(5))
                .until(() -> job(id).state() == JobState.PENDING);
        assertThat(job(id).attempts().get(0).outcome()).contains("lost");
        RecordingLink back = connect("n1", "s1", 1);
        org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(5)).until(() -> job(id).attemptNumber() == 2);
        assertThat(back.launched).singleElement().satisfies(l -> assertThat(l.ref()).isEqualTo(new RankRef(id, 2, 0)));
        // A stale report about attempt 1 changes nothing.
        exit(back, new RankRef(id, 1, 0), 0);
        assertThat(job(id).state()).isEqualTo(JobState.RUNNING);
    }

    @Test
    void aSecondAgentWithTheSameNodeIdentityIsRefusedWhileTheFirstIsHeardFrom() throws Exception {
        RecordingLink first = connect("n1", "s1", 2);

        assertThatThrownBy(() -> connect("n1", "s1", 2)).isInstanceOfSatisfying(CoopException.class, e -> {
            assertThat(e.kind()).isEqualTo(CoopException.Kind.ALREADY_EXISTS);
            assertThat(e.getMessage()).contains("node n1 is already connected from another agent");
        });
        assertThat(first.closedBecause).isNull();

        // Silent for two heartbeat intervals (5 s here), the first is presumed gone: a new agent takes over.
        clock.advanceSeconds(10);
        connect("n1", "s1", 2);
        assertThat(first.closedBecause).contains("replaced by a newer session of node n1");
    }

    @Test
    void anAgentThatReconnectsReportingAStaleAttemptIsToldToKillIt() throws Exception {
        RecordingLink link = new RecordingLink();
        call((s, tx) -> {
            s.hello(link, "n9", "s1", List.of(new Gpu(0, "A100", 1)), List.of(new RankRef(99, 1, 0)), tx);
            return null;
        });
        assertThat(link.killed).containsExactly(new RankRef(99, 1, 0));
    }

    private void passParam(String name, long value) throws Exception {
        var st = keys.propose("alice", clock.millis(), coop.scheduler.domain.ProposalKind.PARAM, 3600,
                Map.of("params", Map.of(name, value)));
        Proposal p = call((s, tx) -> s.propose("alice", st.statement(), st.signature(), tx));
        for (String m : List.of("alice", "bob", "carol")) {
            vote(m, p.id(), Choice.YES);
        }
        assertThat(call((s, tx) -> s.proposal(p.id())).state()).isEqualTo(ProposalState.PASSED);
    }

    private Job review(String member, long job, boolean approve) throws Exception {
        clock.advanceMillis(1);
        var st = keys.review(member, clock.millis(), job, approve);
        return call((s, tx) -> s.review(member, st.statement(), st.signature(), tx));
    }

    @Test
    void aHighRiskJobWaitsInReviewUntilItsPanelApprovesThenRuns() throws Exception {
        connect("n1", "s1", 4);
        passParam("panel_size", 2);
        passParam("panel_min_gpus", 4);
        long id = submit("alice", "lab-a", 4, 1);
        assertThat(job(id).state()).isEqualTo(JobState.REVIEW);
        var panel = call((s, tx) -> s.panel(id));
        // carol shares alice's account lab-a, so only bob may sit on the panel.
        assertThat(panel.drawn()).containsExactly("bob");
        String why = call((s, tx) -> s.whyPending(id));
        assertThat(why).contains("waiting for review").contains("0 of 1 approvals");
        assertThatThrownBy(() -> review("alice", id, true)).isInstanceOfSatisfying(CoopException.class,
                e -> assertThat(e.kind()).isEqualTo(CoopException.Kind.PERMISSION_DENIED));
        assertThatThrownBy(() -> review("carol", id, true)).isInstanceOfSatisfying(CoopException.class,
                e -> assertThat(e.kind()).isEqualTo(CoopException.Kind.PERMISSION_DENIED));
        restart();
        connect("n1", "s1", 4);
        assertThat(job(id).state()).isEqualTo(JobState.REVIEW);
        review("bob", id, true);
        org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(5)).until(() -> job(id).state() == JobState.RUNNING);
        // Review counts alice's GPUs across her jobs: with the 4 running, even one more needs review.
        long small = submit("alice", "lab-a", 1, 1);
        assertThat(job(small).state()).isEqualTo(JobState.REVIEW);
    }

    @Test
    void aRejectedJobIsCancelledAndACancelledReviewIsRecorded() throws Exception {
        passParam("panel_size", 2);
        passParam("panel_min_gpus", 2);
        long rejected = submit("alice", "lab-a", 2, 1);
        review(call((s, tx) -> s.panel(rejected)).drawn().get(0), rejected, false);
        assertThat(job(rejected).state()).isEqualTo(JobState.CANCELLED);
        long withdrawn = submit("alice", "lab-a", 2, 1);
        call((s, tx) -> s.cancel("alice", withdrawn, tx));
        assertThatThrownBy(() -> review("bob", withdrawn, true)).isInstanceOfSatisfying(CoopException.class,
                e -> assertThat(e.kind()).isEqualTo(CoopException.Kind.NOT_FOUND));
        restart();
        assertThatThrownBy(() -> review("bob", withdrawn, true)).isInstanceOfSatisfying(CoopException.class,
                e -> assertThat(e.kind()).isEqualTo(CoopException.Kind.NOT_FOUND));
        engine.loop().close();
        assertThat(coop.scheduler.audit.LedgerVerifier.verify(coop.scheduler.ledger.Ledger.rawEntries(engine.store())).problem())
                .isNull();
        restart();
    }

    @Test
    void aMemberWhoResignsLosesItsTokenAndWaitingJobsAtOnceWhileItsRunningJobFinishes() throws Exception {
        RecordingLink n1 = connect("n1", "s1", 1);
        long running = submit("bob", "lab-b", 1, 1);
        long waiting = submit("bob", "lab-b", 1, 1);
        assertThat(job(running).state()).isEqualTo(JobState.RUNNING);
        Map<String, String> before = call((s, tx) -> Map.copyOf(s.tokenDigests()));
        assertThat(before).containsKey("bob");

        var st = keys.signed(coop.scheduler.governance.Statements.resign("bob", clock.millis(), "moving on"));
        call((s, tx) -> s.resign("bob", st.statement(), st.signature(), tx));

        boolean resigned = call((s, tx) -> s.resigned("bob"));
        assertThat(resigned).isTrue();
        Map<String, String> after = call((s, tx) -> Map.copyOf(s.tokenDigests()));
        assertThat(after).doesNotContainKey("bob");
        assertThat(job(waiting).state()).isEqualTo(JobState.CANCELLED);
        assertThat(job(waiting).endReason()).isEqualTo("cancelled: member bob resigned");
        assertThat(job(running).state()).isEqualTo(JobState.RUNNING);
        assertThat(n1.killed).isEmpty();
        // Nothing bob signs is taken from now on, and a restart rebuilds the resignation from the ledger.
        var later = keys.delegate("bob", clock.millis() + 1, coop.scheduler.domain.Topic.SHARES, "alice");
        assertThatThrownBy(() -> call((s, tx) -> s.delegate("bob", later.statement(), later.signature(), tx)))
                .isInstanceOf(CoopException.class);
        restart();
        boolean stillResigned = call((s, tx) -> s.resigned("bob"));
        assertThat(stillResigned).isTrue();
        coop.scheduler.domain.Member bob = call((s, tx) -> s.member("bob"));
        assertThat(bob.active()).isFalse();
    }

    @Test
    void aRemovedMembersWaitingJobsAreCancelledAtItsRemovalWhileItsRunningJobFinishes() throws Exception {
        passParam("panel_size", 2);
        passParam("panel_min_gpus", 3);
        // Submitted before any node reported: a 3-GPU job is not yet known to be more than any node has.
        // Its purpose is its own, so bob's 1-GPU jobs below (2 GPUs without one) need no review.
        long inReview = call((s, tx) -> s.submit("bob", new JobSpec("lab-b", 3, 1, "", 60, "true", 0, "", false,
                false, "big"), tx));
        RecordingLink n1 = connect("n1", "s1", 1);
        long running = submit("bob", "lab-b", 1, 1);
        long waiting = submit("bob", "lab-b", 1, 1);
        long others = submit("carol", "lab-b", 1, 1);
        assertThat(job(running).state()).isEqualTo(JobState.RUNNING);
        assertThat(job(waiting).state()).isEqualTo(JobState.PENDING);
        assertThat(job(inReview).state()).isEqualTo(JobState.REVIEW);

        var st = keys.propose("alice", clock.millis(), coop.scheduler.domain.ProposalKind.REMOVE, 3600,
                Map.of("name", "bob"));
        Proposal remove = call((s, tx) -> s.propose("alice", st.statement(), st.signature(), tx));
        for (String m : List.of("alice", "carol", "bob")) {
            vote(m, remove.id(), Choice.YES);
        }
        assertThat(call((s, tx) -> s.proposal(remove.id())).state()).isEqualTo(ProposalState.PASSED);

        for (int round = 0; round < 2; round++) {
            assertThat(job(running).state()).isEqualTo(JobState.RUNNING);
            assertThat(job(running).endReason()).isEmpty();
            for (long id : List.of(waiting, inReview)) {
                assertThat(job(id).state()).isEqualTo(JobState.CANCELLED);
                assertThat(job(id).endReason()).isEqualTo("cancelled: member bob was removed");
                assertThat(job(id).finishedAt()).isNotZero();
            }
            assertThat(job(others).state()).isEqualTo(JobState.PENDING);
            assertThatThrownBy(() -> call((s, tx) -> s.panel(inReview))).isInstanceOfSatisfying(
                    CoopException.class, e -> assertThat(e.kind()).isEqualTo(CoopException.Kind.NOT_FOUND));
            assertThat(n1.killed).isEmpty();
            restart();
            n1 = reconnect("n1", "s1", 1, new RankRef(running, 1, 0));
        }
        // The running job runs to its end; then the GPU goes to the next job waiting, carol's.
        exit(n1, new RankRef(running, 1, 0), 0);
        assertThat(job(running).state()).isEqualTo(JobState.SUCCEEDED);
        org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(5))
                .until(() -> job(others).state() == JobState.RUNNING);
        engine.loop().close();
        assertThat(coop.scheduler.audit.LedgerVerifier.verify(coop.scheduler.ledger.Ledger.rawEntries(engine.store())).problem())
                .isNull();
        restart();
    }

    @Test
    void anOpenVoteWithADelegationSurvivesARestartAndClosesTheSameWay() throws Exception {
        clock.advanceMillis(1);
        var d = keys.delegate("carol", clock.millis(), coop.scheduler.domain.Topic.SHARES, "alice");
        call((s, tx) -> s.delegate("carol", d.statement(), d.signature(), tx));
        var p = propose("alice", 7000, 3000, 60);
        vote("alice", p.id(), Choice.YES);
        vote("bob", p.id(), Choice.NO);
        restart();
        clock.advanceSeconds(61);
        org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(5)).until(
                () -> call((s, tx) -> s.proposal(p.id())).state() != ProposalState.OPEN);
        var closed = call((s, tx) -> s.proposal(p.id()));
        assertThat(closed.state()).isEqualTo(ProposalState.PASSED);
        assertThat(closed.tally().delegated()).isEqualTo(1);
        assertThat(call((s, tx) -> s.policy()).share("lab-a")).isEqualTo(7000);
        engine.loop().close();
        assertThat(coop.scheduler.audit.LedgerVerifier.verify(coop.scheduler.ledger.Ledger.rawEntries(engine.store())).problem())
                .isNull();
        restart();
    }

    @Test
    void aGangsRanksGetTheRendezvousTorchrunExpects() throws Exception {
        RecordingLink n1 = connect("n1", "s1", 2);
        RecordingLink n2 = connect("n2", "s1", 2);
        long id = submit("alice", "lab-a", 2, 2);
        assertThat(job(id).state()).isEqualTo(JobState.RUNNING);
        List<RecordingLink.Launched> ranks = new ArrayList<>(n1.launched);
        ranks.addAll(n2.launched);
        assertThat(ranks).hasSize(2);
        String rank0Node = job(id).current().placements().get(0).node();
        String master = "10.0.0." + (rank0Node.hashCode() & 0x7f);
        for (RecordingLink.Launched l : ranks) {
            assertThat(l.env()).containsEntry("MASTER_ADDR", master).containsEntry("NNODES", "2")
                    .containsEntry("WORLD_SIZE", "4").containsEntry("COOP_GPUS_PER_NODE", "2")
                    .containsEntry("NODE_RANK", Integer.toString(l.ref().rank()))
                    .containsEntry("MASTER_PORT", Integer.toString(ClusterState.masterPort(id, 1)));
        }
        assertThat(ClusterState.masterPort(id, 2)).isNotEqualTo(ClusterState.masterPort(id, 1)).isBetween(20_000, 29_999);
    }

    @Test
    void anAgentMustGiveAUsableAddress() {
        assertThatThrownBy(() -> call((s, tx) -> {
            s.hello(new RecordingLink(), "n9", "s1", List.of(new Gpu(0, "A100", 1)), List.of(), "a b; rm", tx);
            return null;
        })).hasMessageStartingWith("hello.address");
    }

    @Test
    void anOperatorEnrollsANodeWhichThenSpeaksOnlyForItself() throws Exception {
        String digest = coop.scheduler.ledger.Entry.sha256("node-secret");
        assertThatThrownBy(() -> call((s, tx) -> s.enroll("bob", "n7", "north", "lab-a", digest, tx)))
                .isInstanceOfSatisfying(CoopException.class,
                        e -> assertThat(e.kind()).isEqualTo(CoopException.Kind.PERMISSION_DENIED));
        call((s, tx) -> s.enroll("alice", "n7", "north", "lab-a", digest, tx));
        assertThatThrownBy(() -> call((s, tx) -> s.enroll("bob", "n7", "north", "lab-b", digest, tx)))
                .isInstanceOfSatisfying(CoopException.class,
                        e -> assertThat(e.kind()).isEqualTo(CoopException.Kind.ALREADY_EXISTS));
        restart();
        call((s, tx) -> {
            s.authenticateNode("n7", "node-secret", "n7", "north");
            return null;
        });
        Map<String, CoopException.Kind> refused = Map.of(
                "no identity", CoopException.Kind.UNAUTHENTICATED,
                "wrong token", CoopException.Kind.UNAUTHENTICATED,
                "another node", CoopException.Kind.PERMISSION_DENIED,
                "another site", CoopException.Kind.PERMISSION_DENIED);
        for (var e : refused.entrySet()) {
            String[] args = switch (e.getKey()) {
                case "no identity" -> new String[] {null, null, "n7", "north"};
                case "wrong token" -> new String[] {"n7", "guess", "n7", "north"};
                case "another node" -> new String[] {"n7", "node-secret", "n1", "north"};
                default -> new String[] {"n7", "node-secret", "n7", "south"};
            };
            assertThatThrownBy(() -> call((s, tx) -> {
                s.authenticateNode(args[0], args[1], args[2], args[3]);
                return null;
            })).as(e.getKey()).isInstanceOfSatisfying(CoopException.class,
                    x -> assertThat(x.kind()).isEqualTo(e.getValue()));
        }
    }

    @Test
    void aDrainingNodeTakesNoNewWorkButKeepsWhatRunsAndOnlyItsOperatorsMayDrainIt() throws Exception {
        call((s, tx) -> s.enroll("alice", "n1", "s1", "lab-a", coop.scheduler.ledger.Entry.sha256("t"), tx));
        RecordingLink n1 = connect("n1", "s1", 2);
        long running = submit("alice", "lab-a", 1, 1);
        assertThat(job(running).state()).isEqualTo(JobState.RUNNING);
        assertThatThrownBy(() -> call((s, tx) -> s.drain("bob", "n1", true, "", tx)))
                .isInstanceOfSatisfying(CoopException.class,
                        e -> assertThat(e.kind()).isEqualTo(CoopException.Kind.PERMISSION_DENIED));
        var status = call((s, tx) -> s.drain("carol", "n1", true, "disk swap", tx));
        assertThat(status.draining()).isTrue();
        assertThat(status.drainReason()).isEqualTo("disk swap");
        long waiting = submit("alice", "lab-a", 1, 1);
        assertThat(job(waiting).state()).isEqualTo(JobState.PENDING);
        assertThat(job(running).state()).isEqualTo(JobState.RUNNING);
        assertThat(n1.killed).isEmpty();
        restart();
        n1 = connect("n1", "s1", 2);
        assertThat(call((s, tx) -> s.nodes()).get(0).draining()).isTrue();
        assertThat(job(waiting).state()).isEqualTo(JobState.PENDING);
        call((s, tx) -> s.drain("alice", "n1", false, "", tx));
        org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(5))
                .until(() -> job(waiting).state() == JobState.RUNNING);
        assertThatThrownBy(() -> call((s, tx) -> s.drain("alice", "n9", true, "", tx)))
                .isInstanceOfSatisfying(CoopException.class,
                        e -> assertThat(e.kind()).isEqualTo(CoopException.Kind.NOT_FOUND));
    }

    private void beat(RecordingLink link, RankRef... running) throws Exception {
        call((s, tx) -> {
            s.heartbeat(link, List.of(running), tx);
            return null;
        });
    }

    /**
     * The loss state machine under the hand-moved clock (heartbeat 5 s): a node is lost only
     * after three whole intervals without a heartbeat; each heartbeat starts the count again; a
     * closed stream alone does not requeue anything.
     */
    @Test
    void aNodeIsLostOnlyAfterThreeMissedHeartbeatsAndEachHeartbeatStartsTheCountAgain() throws Exception {
        RecordingLink n1 = connect("n1", "s1", 1);
        long id = submit("alice", "lab-a", 1, 1);
        RankRef rank = new RankRef(id, 1, 0);
        assertThat(job(id).state()).isEqualTo(JobState.RUNNING);
        clock.advanceSeconds(14);
        engine.turn();
        assertThat(job(id).attempts()).hasSize(1);
        assertThat(job(id).state()).isEqualTo(JobState.RUNNING);
        beat(n1, rank);
        clock.advanceSeconds(14);
        engine.turn();
        assertThat(job(id).state()).isEqualTo(JobState.RUNNING);
        call((s, tx) -> {
            s.disconnected(n1);
            return null;
        });
        engine.turn();
        assertThat(job(id).state()).isEqualTo(JobState.RUNNING);
        clock.advanceSeconds(2);
        org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(5))
                .until(() -> job(id).state() == JobState.PENDING);
        assertThat(job(id).attempts().get(0).outcome()).startsWith("requeued").contains("missed 3 heartbeats");
    }

    /**
     * Availability windows under the hand-moved clock, which starts on a Tuesday at 22:13 UTC:
     * a node offered Mon-Fri 08:00-18:00 takes no work at night, starts the waiting job when its
     * window opens, refuses a job whose walltime would outlast the window, and reads its windows
     * in its own time zone (12:59 in New York is inside the same window).
     */
    @Test
    void aNodeTakesWorkOnlyInsideItsWindowsReadInItsTimeZone() throws Exception {
        call((s, tx) -> s.enroll("alice", "n1", "s1", "lab-a", coop.scheduler.ledger.Entry.sha256("t"), tx));
        RecordingLink n1 = connect("n1", "s1", 1);
        var set = call((s, tx) -> s.setTerms("alice", "n1", null, List.of("mon-fri 8:00-18:00"), "UTC", tx));
        java.time.ZonedDateTime wednesday8 = java.time.ZonedDateTime.of(2023, 11, 15, 8, 0, 0, 0,
                java.time.ZoneOffset.UTC);
        assertThat(set.windows()).containsExactly("Mon-Fri 08:00-18:00");
        assertThat(set.offered()).isFalse();
        assertThat(set.windowChangeAt()).isEqualTo(wednesday8.toInstant().toEpochMilli());

        long night = submit("alice", "lab-a", 1, 1);
        assertThat(job(night).state()).isEqualTo(JobState.PENDING);
        // A silent idle node would be declared lost over the night: it says hello again.
        clock.advanceMillis(wednesday8.toInstant().toEpochMilli() - clock.millis() - 1);
        n1 = connect("n1", "s1", 1);
        engine.turn();
        assertThat(job(night).state()).isEqualTo(JobState.PENDING);
        clock.advanceMillis(1);
        org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(5))
                .until(() -> job(night).state() == JobState.RUNNING);
        exit(n1, new RankRef(night, 1, 0), 0);

        // 17:59:30: a 60 s job would outlast the window.
        clock.advanceMillis(wednesday8.plusHours(10).minusSeconds(30).toInstant().toEpochMilli() - clock.millis());
        connect("n1", "s1", 1);
        long late = submit("alice", "lab-a", 1, 1);
        assertThat(job(late).state()).isEqualTo(JobState.PENDING);
        assertThat((String) call((s, tx) -> s.whyPending(late))).contains("stays offered long enough");

        var ny = call((s, tx) -> s.setTerms("alice", "n1", null, null, "America/New_York", tx));
        assertThat(ny.windows()).containsExactly("Mon-Fri 08:00-18:00");
        assertThat(ny.offered()).isTrue();
        assertThat(ny.windowChangeAt()).isEqualTo(wednesday8.plusHours(15).toInstant().toEpochMilli());
        org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(5))
                .until(() -> job(late).state() == JobState.RUNNING);

        restart();
        var after = call((s, tx) -> s.nodes()).get(0);
        assertThat(after.windows()).containsExactly("Mon-Fri 08:00-18:00");
        assertThat(after.timeZone()).isEqualTo("America/New_York");
    }

    @Test
    void badTermsAreRefusedNamingTheFieldAndChangeNothing() throws Exception {
        call((s, tx) -> s.enroll("alice", "n1", "s1", "lab-a", coop.scheduler.ledger.Entry.sha256("t"), tx));
        connect("n1", "s1", 4);
        call((s, tx) -> s.setTerms("alice", "n1", 1, List.of("Sat,Sun"), "Europe/Berlin", tx));
        Map<String, EventLoop.Command<?>> bad = new java.util.LinkedHashMap<>();
        bad.put("window", (s, tx) -> s.setTerms("alice", "n1", null, List.of("Mon-Fri 20:00-25:00"), null, tx));
        bad.put("time_zone", (s, tx) -> s.setTerms("alice", "n1", null, List.of("daily"), "Mars/Olympus", tx));
        // Half of 4 GPUs is the founding policy's reserve cap.
        bad.put("reserved_gpus", (s, tx) -> s.setTerms("alice", "n1", 3, List.of(), null, tx));
        for (var e : bad.entrySet()) {
            assertThatThrownBy(() -> call(e.getValue())).as(e.getKey())
                    .isInstanceOfSatisfying(CoopException.class, x -> {
                        assertThat(x.kind()).isEqualTo(CoopException.Kind.INVALID_ARGUMENT);
                        assertThat(x.getMessage()).startsWith(e.getKey());
                    });
        }
        assertThatThrownBy(() -> call((s, tx) -> s.setTerms("bob", "n1", 0, null, null, tx)))
                .isInstanceOfSatisfying(CoopException.class,
                        e -> assertThat(e.kind()).isEqualTo(CoopException.Kind.PERMISSION_DENIED));
        restart();
        var n = call((s, tx) -> s.nodes()).get(0);
        assertThat(n.reservedGpus()).isEqualTo(1);
        assertThat(n.windows()).containsExactly("Sat,Sun");
        assertThat(n.timeZone()).isEqualTo("Europe/Berlin");
    }

    /**
     * Operator sovereignty: another account may borrow a node's reserved GPUs while its operator's
     * account does not use them, and gives them back (preempted) when the operator's job comes.
     */
    @Test
    void anOperatorsJobTakesItsReserveBackFromABorrower() throws Exception {
        call((s, tx) -> s.enroll("alice", "n1", "s1", "lab-a", coop.scheduler.ledger.Entry.sha256("t"), tx));
        RecordingLink n1 = connect("n1", "s1", 2);
        assertThat(call((s, tx) -> s.setTerms("alice", "n1", 1, null, null, tx)).reservedGpus()).isEqualTo(1);
        long first = submit("bob", "lab-b", 1, 1);
        long second = submit("bob", "lab-b", 1, 1);
        assertThat(job(first).state()).isEqualTo(JobState.RUNNING);
        assertThat(job(second).state()).isEqualTo(JobState.RUNNING);
        assertThat(n1.killed).isEmpty();

        long own = submit("alice", "lab-a", 1, 1);
        org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(5)).until(() -> n1.killed.size() == 1);
        RankRef victim = n1.killed.get(0);
        assertThat(victim.jobId()).isIn(first, second);
        assertThat(job(own).state()).isEqualTo(JobState.PENDING);
        assertThat((String) call((s, tx) -> s.whyPending(own))).contains("reserve");
        exit(n1, victim, 143);
        org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(5))
                .until(() -> job(own).state() == JobState.RUNNING);
        assertThat(job(victim.jobId()).state()).isEqualTo(JobState.PENDING);
    }

    /**
     * A command that fails with anything but a refusal may have changed the state half-way: the
     * turn is not written, its callers hear UNAVAILABLE, the loop stops, and a restart recovers
     * exactly what was acknowledged before.
     */
    @Test
    void anUnexpectedFailureStopsTheLoopWithoutWritingTheTurn() throws Exception {
        long kept = submit("alice", "lab-a", 1, 1);
        long[] half = new long[1];
        assertThatThrownBy(() -> call((s, tx) -> {
            half[0] = s.submit("alice", new JobSpec("lab-a", 1, 1, "", 60, "true", 0, "", false, false),
                    tx);
            throw new IllegalStateException("broken after the change");
        })).isInstanceOfSatisfying(CoopException.class,
                e -> assertThat(e.kind()).isEqualTo(CoopException.Kind.UNAVAILABLE));
        assertThat(engine.loop().stopped()).succeedsWithin(Duration.ofSeconds(5));
        assertThat(engine.loop().isRunning()).isFalse();
        assertThatThrownBy(() -> submit("bob", "lab-b", 1, 1)).isInstanceOfSatisfying(CoopException.class,
                e -> assertThat(e.kind()).isEqualTo(CoopException.Kind.UNAVAILABLE));

        restart();
        assertThat(job(kept).state()).isEqualTo(JobState.PENDING);
        assertThatThrownBy(() -> job(half[0])).isInstanceOfSatisfying(CoopException.class,
                e -> assertThat(e.kind()).isEqualTo(CoopException.Kind.NOT_FOUND));
        assertThat((List<?>) call((s, tx) -> s.jobs(null, java.util.EnumSet.allOf(JobState.class), 100)))
                .hasSize(1);
    }
}
