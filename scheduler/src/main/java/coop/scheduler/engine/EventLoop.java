package coop.scheduler.engine;

import coop.scheduler.domain.CoopException;
import coop.scheduler.domain.JobEvent;
import coop.scheduler.store.Store;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import java.util.function.LongSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The scheduler's single writer. gRPC threads put commands on one queue; this thread takes
 * whatever has queued up, applies each command to the {@link ClusterState} in order, runs an
 * allocation cycle if anything changed, writes everything the turn changed as one synced
 * WriteBatch (group commit), and only then replies and sends orders to agents.
 */
public final class EventLoop implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(EventLoop.class);
    private static final int MAX_COMMANDS_PER_TURN = 4096;

    /** A command: runs on the loop thread against the state, recording changes in the turn. */
    @FunctionalInterface
    public interface Command<T> {
        T apply(ClusterState state, Tx tx);
    }

    /** A command, or (when {@code betweenTurns} is set instead) a read of the state between two turns. */
    private record Task<T>(Command<T> command, Function<ClusterState, T> betweenTurns, CompletableFuture<T> reply) {
    }

    /**
     * Told, on the loop thread, what the loop does: for metrics. Its methods must be quick and must
     * not change the state; they see it between two turns' work.
     */
    public interface Observer {
        /** Does nothing. */
        Observer NONE = new Observer() {
        };

        /** An allocation cycle took {@code nanos}. */
        default void allocated(long nanos) {
        }

        /** A turn that ran the periodic tick is committed and answered; {@code state} may be read now. */
        default void ticked(ClusterState state) {
        }
    }

    private record Outcome(Task<?> task, Object value, RuntimeException error) {
        @SuppressWarnings("unchecked")
        void deliver() {
            CompletableFuture<Object> f = (CompletableFuture<Object>) task.reply();
            if (error != null) {
                f.completeExceptionally(error);
            } else {
                f.complete(value);
            }
        }
    }

    private final BlockingQueue<Task<?>> queue = new LinkedBlockingQueue<>();
    private final ClusterState state;
    private final Store store;
    private final long tickMs;
    /** Monotonic milliseconds the tick interval is measured in. */
    private final LongSupplier tickTime;
    private final Thread thread;
    private volatile boolean running = true;
    private final CompletableFuture<Void> stopped = new CompletableFuture<>();
    private volatile Observer observer = Observer.NONE;
    private volatile java.util.function.Consumer<JobEvent> jobEvents = e -> { };
    private long lastTick;
    /** The ledger's end as last committed, published for the receipts the edges hand out. */
    private volatile GovernanceDesk.LedgerHead committed;
    private volatile coop.scheduler.ledger.HeadSigner signer;
    private volatile String publicKey;
    private final Object signing = new Object();
    private coop.scheduler.ledger.SignedHead lastSigned;

    public EventLoop(ClusterState state, Store store, Duration tick) {
        this(state, store, tick, () -> System.nanoTime() / 1_000_000);
    }

    /**
     * As {@link #EventLoop(ClusterState, Store, Duration)}, with the time the tick interval is
     * measured in: a turn ticks once {@code tick} has passed on it since the last tick. A test
     * whose clock moves by hand can pass a time that moves with it, so that the first turn after
     * a move ticks whatever the machine's load.
     */
    public EventLoop(ClusterState state, Store store, Duration tick, LongSupplier tickTime) {
        this.state = state;
        this.store = store;
        this.tickMs = tick.toMillis();
        this.tickTime = tickTime;
        this.thread = new Thread(this::run, "coop-event-loop");
        this.thread.setDaemon(true);
        this.committed = state.ledgerHead();
    }

    /**
     * Signs ledger heads with the scheduler's key from now on ({@link #signedHead}); set before
     * {@link #start()}, once its public key is announced in the ledger.
     */
    public void signHeads(java.security.KeyPair key) {
        this.publicKey = coop.scheduler.ledger.Keys.encode(key.getPublic());
        this.signer = new coop.scheduler.ledger.HeadSigner(key.getPrivate());
    }

    /** The public key heads are signed with (base64 X.509), or null when the loop signs nothing. */
    public String schedulerKey() {
        return publicKey;
    }

    /**
     * The scheduler's signature of its ledger's end as last committed (at least as far as it was
     * when called), or null when it signs nothing. Signed when asked, on the caller's thread, and
     * the latest head at once: callers that waited while another signed are covered by one
     * signature, so a turn that answers a thousand submissions costs one, and the loop none.
     */
    public coop.scheduler.ledger.SignedHead signedHead() {
        coop.scheduler.ledger.HeadSigner s = signer;
        long needed = committed.size() - 1;
        if (s == null || needed < 0) {
            return null;
        }
        synchronized (signing) {
            if (lastSigned == null || lastSigned.seq() < needed) {
                GovernanceDesk.LedgerHead h = committed;
                lastSigned = s.sign(h.size() - 1, h.head());
            }
            return lastSigned;
        }
    }

    /** Who is told what the loop does; set before {@link #start()}. */
    public void observe(Observer observer) {
        this.observer = java.util.Objects.requireNonNull(observer, "observer");
    }

    /**
     * Who is handed each job event once the turn that made it is on disk; set before
     * {@link #start()}. It runs on the loop's thread, so it must only queue the event (a notifier
     * delivers on threads of its own): a slow one would delay every scheduling decision.
     */
    public void onJobEvents(java.util.function.Consumer<JobEvent> sink) {
        this.jobEvents = java.util.Objects.requireNonNull(sink, "sink");
    }

    public void start() {
        thread.start();
    }

    /** Whether the loop still takes commands: false once closed, or stopped by a storage failure. */
    public boolean isRunning() {
        return running && thread.isAlive();
    }

    /** Queues a command; the future completes after the turn that applied it is on disk. */
    public <T> CompletableFuture<T> call(Command<T> command) {
        CompletableFuture<T> reply = new CompletableFuture<>();
        if (!running) {
            reply.completeExceptionally(new CoopException(CoopException.Kind.UNAVAILABLE, "the scheduler is stopping"));
            return reply;
        }
        queue.add(new Task<>(command, null, reply));
        return reply;
    }

    /**
     * Queues work that must see exactly what is on disk, such as a checkpoint of the store. It runs
     * on this thread after every command queued before it has been applied and committed (and
     * answered), and before any command queued after it is applied; no turn runs while it does.
     * It must not change the state, and should be quick: the scheduler waits for it.
     */
    public <T> CompletableFuture<T> betweenTurns(Function<ClusterState, T> work) {
        CompletableFuture<T> reply = new CompletableFuture<>();
        if (!running) {
            reply.completeExceptionally(new CoopException(CoopException.Kind.UNAVAILABLE, "the scheduler is stopping"));
            return reply;
        }
        queue.add(new Task<>(null, work, reply));
        return reply;
    }

    /** Queues a command whose result nobody waits for (agent reports). */
    public void post(Command<?> command) {
        call(command).whenComplete((v, e) -> {
            if (e != null && !(e instanceof CoopException)) {
                log.warn("command failed", e);
            }
        });
    }

    private void run() {
        List<Task<?>> tasks = new ArrayList<>();
        while (running) {
            try {
                Task<?> first = queue.poll(tickMs, TimeUnit.MILLISECONDS);
                tasks.clear();
                if (first != null) {
                    tasks.add(first);
                    queue.drainTo(tasks, MAX_COMMANDS_PER_TURN - 1);
                }
                // Work between turns ends the turn before it, so the commands queued ahead of it
                // are on disk when it runs and those behind it go into the next turn.
                int from = 0;
                for (int i = 0; i < tasks.size(); i++) {
                    if (tasks.get(i).betweenTurns() != null) {
                        if (i > from) {
                            turn(tasks.subList(from, i));
                        }
                        between(tasks.get(i));
                        from = i + 1;
                    }
                }
                if (from < tasks.size() || tasks.isEmpty()) {
                    turn(tasks.subList(from, tasks.size()));
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            } catch (RuntimeException | Error e) {
                // The store could not take a write (or a cycle broke): memory and disk may now
                // differ, so stop rather than acknowledge anything more.
                running = false;
                log.error("event loop stopped: {}", e.toString(), e);
                CoopException down = new CoopException(CoopException.Kind.UNAVAILABLE,
                        "the scheduler stopped (restart it to recover from disk): " + e.getMessage());
                tasks.forEach(t -> t.reply().completeExceptionally(down));
            }
        }
        CoopException down = new CoopException(CoopException.Kind.UNAVAILABLE, "the scheduler is stopping");
        for (Task<?> t; (t = queue.poll()) != null; ) {
            t.reply().completeExceptionally(down);
        }
        stopped.complete(null);
    }

    /** Completes when the loop has stopped, whether closed or stopped by a failure. */
    public CompletableFuture<Void> stopped() {
        return stopped;
    }

    private <T> void between(Task<T> task) {
        T value;
        try {
            value = task.betweenTurns().apply(state);
        } catch (RuntimeException e) {
            // It changed nothing, so memory and disk still agree: refuse it and carry on.
            if (!(e instanceof CoopException)) {
                log.error("work between turns failed", e);
            }
            task.reply().completeExceptionally(e);
            return;
        }
        task.reply().complete(value);
    }

    private void turn(List<Task<?>> tasks) {
        Tx tx = new Tx(store.batch());
        List<Outcome> outcomes = new ArrayList<>(tasks.size());
        for (Task<?> task : tasks) {
            try {
                outcomes.add(new Outcome(task, task.command().apply(state, tx), null));
            } catch (CoopException e) {
                outcomes.add(new Outcome(task, null, e));
            } catch (RuntimeException e) {
                // A refusal (CoopException) is raised before the command changes anything; any
                // other failure may have left the state half-changed. Committing the turn could
                // then write half of a command, so nothing of it is written and the loop stops:
                // a restart recovers exactly what was acknowledged from disk.
                throw new IllegalStateException("a command failed unexpectedly, so the turn is not written", e);
            }
        }
        long now = tickTime.getAsLong();
        boolean ticked = false;
        if (now - lastTick >= tickMs) {
            lastTick = now;
            state.tick(tx);
            ticked = true;
        }
        if (tx.isAllocationDue()) {
            long cycle = System.nanoTime();
            state.allocate(tx);
            observer.allocated(System.nanoTime() - cycle);
        }
        state.checkpointIfDue(tx);
        store.commit(tx.batch());
        committed = state.ledgerHead();
        // Orders go out before replies, so whoever hears "done" can rely on them being sent.
        for (Runnable r : tx.afterCommitActions()) {
            try {
                r.run();
            } catch (RuntimeException e) {
                log.warn("sending to an agent failed: {}", e.toString());
            }
        }
        // Events are queued for the notifier before replies too: whoever hears "done" finds them queued.
        for (JobEvent e : tx.jobEvents()) {
            try {
                jobEvents.accept(e);
            } catch (RuntimeException ex) {
                log.warn("job {} {}: not handed to the notifier: {}", e.job().id(), e.event(), ex.toString());
            }
        }
        outcomes.forEach(Outcome::deliver);
        if (ticked) {
            observer.ticked(state);
        }
    }

    @Override
    public void close() {
        running = false;
        thread.interrupt();
        try {
            thread.join(10_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
