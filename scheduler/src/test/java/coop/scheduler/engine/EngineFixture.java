package coop.scheduler.engine;

import coop.scheduler.domain.Constitution;
import coop.scheduler.domain.Gpu;
import coop.scheduler.domain.Member;
import coop.scheduler.domain.NodeFeatures;
import coop.scheduler.domain.Params;
import coop.scheduler.store.Store;
import java.nio.file.Path;
import java.time.Duration;
import java.time.InstantSource;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.function.LongSupplier;

/**
 * A founded cooperative on a real RocksDB store under {@code dir}, with its cluster state and a
 * running event loop: heartbeats every 5 s, a preemption grace of 60 s unless set, a tick every
 * 20 ms. Under a {@link FakeClock} the tick interval is measured in real time plus the fake
 * clock's moves, so the first turn after a move ticks however loaded the machine is.
 */
public final class EngineFixture implements AutoCloseable {
    public static final Duration HEARTBEAT = Duration.ofSeconds(5);

    private final Path dir;
    private final InstantSource clock;
    private final Duration preemptionGrace;
    private final Duration tick;
    private final long clockStart;
    private Store store;
    private ClusterState state;
    private EventLoop loop;

    private EngineFixture(Path dir, InstantSource clock, Duration preemptionGrace, Duration tick) {
        this.dir = dir;
        this.clock = clock;
        this.preemptionGrace = preemptionGrace;
        this.tick = tick;
        this.clockStart = clock.millis();
    }

    /**
     * Founding parameters under which borrowed attempts may be preempted as soon as they start
     * and operators' jobs never wait for borrowers' walltimes: for tests of what a preemption
     * does, not of when the policy allows one.
     */
    public static final Params PREEMPT_AT_ONCE = Params.DEFAULTS.with(Map.of("min_run_before_preempt_s", 0,
            "reserve_wait_s", 0));

    /** Members with a vote in the review-panel tests: two in lab-a, two in lab-b, one in lab-c. */
    public static final List<String> PANEL_VOTERS = List.of("alice", "amos", "bob", "carol", "dave");

    /**
     * The cooperative of the review-panel tests, started: {@link #PANEL_VOTERS} with keys from
     * {@code keys}, accounts lab-a, lab-b and lab-c, and {@link #PREEMPT_AT_ONCE}.
     */
    public static EngineFixture panelCooperative(Path dir, InstantSource clock,
                                                 coop.scheduler.governance.TestMembers keys) {
        return found(dir, clock, List.of(
                keys.member("alice", List.of("lab-a")),
                keys.member("amos", List.of("lab-a")),
                keys.member("bob", List.of("lab-b")),
                keys.member("carol", List.of("lab-b")),
                keys.member("dave", List.of("lab-c"))), List.of("lab-a", "lab-b", "lab-c"), PREEMPT_AT_ONCE);
    }

    /** In the panel tests' cooperative: alice proposes a parameter and every voter votes yes, so it passes. */
    public coop.scheduler.domain.Proposal passParam(coop.scheduler.governance.TestMembers keys, FakeClock clock,
                                                    String name, Object value) throws Exception {
        var st = keys.propose("alice", clock.millis(), coop.scheduler.domain.ProposalKind.PARAM, 3600,
                Map.of("params", Map.of(name, value)));
        var p = call((s, tx) -> s.propose("alice", st.statement(), st.signature(), tx));
        for (String m : PANEL_VOTERS) {
            clock.advanceMillis(1);
            var v = keys.vote(m, clock.millis(), p.id(), coop.scheduler.domain.Choice.YES);
            call((s, tx) -> s.vote(m, v.statement(), v.signature(), tx));
        }
        return call((s, tx) -> s.proposal(p.id()));
    }

    /** Founds the cooperative in {@code dir} with the default parameters, dated by {@code clock}, and starts it. */
    public static EngineFixture found(Path dir, InstantSource clock, List<Member> founders, List<String> accounts) {
        return found(dir, clock, founders, accounts, Params.DEFAULTS);
    }

    /** As {@link #found(Path, InstantSource, List, List)}, with founding parameters. */
    public static EngineFixture found(Path dir, InstantSource clock, List<Member> founders, List<String> accounts,
                                      Params params) {
        return found(dir, clock, founders, accounts, params, Duration.ofSeconds(60), Duration.ofMillis(20));
    }

    /** As {@link #found(Path, InstantSource, List, List, Params)}, with the grace override (null: the policy's) and tick. */
    public static EngineFixture found(Path dir, InstantSource clock, List<Member> founders, List<String> accounts,
                                      Params params, Duration preemptionGrace, Duration tick) {
        EngineFixture f = new EngineFixture(dir, clock, preemptionGrace, tick);
        Store store = Store.open(dir);
        // The first rules let a vote close as soon as everyone has voted, whatever its kind, and
        // take any voting period: these fixtures drive votes as plumbing. Rules 2 are tested on their own.
        ClusterState.found(store, founders, accounts, params, Constitution.DEFAULTS, clock.millis());
        store.close();
        f.open();
        return f;
    }

    /** Starts on a data directory someone else founded. */
    public static EngineFixture open(Path dir, InstantSource clock, Duration preemptionGrace, Duration tick) {
        EngineFixture f = new EngineFixture(dir, clock, preemptionGrace, tick);
        f.open();
        return f;
    }

    private void open() {
        store = Store.open(dir);
        state = ClusterState.recover(store, clock, HEARTBEAT, preemptionGrace);
        LongSupplier tickTime = clock instanceof FakeClock
                ? () -> System.nanoTime() / 1_000_000 + (clock.millis() - clockStart)
                : () -> System.nanoTime() / 1_000_000;
        loop = new EventLoop(state, store, tick, tickTime);
        loop.start();
    }

    /** Stops the loop and closes the store, then recovers from disk as a restarted scheduler would. */
    public void restart() {
        close();
        open();
    }

    public Store store() {
        return store;
    }

    public EventLoop loop() {
        return loop;
    }

    /** The state the loop owns: read it only through {@link #call}, or once the loop is closed. */
    public ClusterState state() {
        return state;
    }

    /** Runs a command on the loop and waits for its turn to be on disk; a refusal is thrown as itself. */
    public <T> T call(EventLoop.Command<T> c) throws Exception {
        try {
            return loop.call(c).get();
        } catch (ExecutionException e) {
            throw (Exception) e.getCause();
        }
    }

    /** {@code n} simulated A100s of 80 GiB, indices 0 to n-1: a test node's GPUs. */
    public static List<Gpu> a100s(int n) {
        List<Gpu> gpus = new java.util.ArrayList<>();
        for (int i = 0; i < n; i++) {
            gpus.add(new Gpu(i, "A100", 81920));
        }
        return gpus;
    }

    /**
     * An agent for {@code node} at {@code site} says hello with {@code gpus} A100s and what it offers
     * besides ({@code features}), in one turn; its link records the orders it is sent.
     */
    RecordingLink connect(String node, String site, int gpus, NodeFeatures features) throws Exception {
        RecordingLink link = new RecordingLink();
        call((s, tx) -> {
            s.hello(link, node, site, a100s(gpus), List.of(), tx);
            s.features(node, features, tx);
            return null;
        });
        return link;
    }

    /** A turn with no command: under a {@link FakeClock} that has moved by a tick or more, it ticks. */
    public void turn() throws Exception {
        call((s, tx) -> null);
    }

    @Override
    public void close() {
        loop.close();
        store.close();
    }
}
