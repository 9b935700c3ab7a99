package coop.scheduler;

import coop.scheduler.ledger.Entry;
import coop.scheduler.replica.Replica;
import coop.scheduler.store.Store;
import java.nio.charset.StandardCharsets;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A scheduler that is one replica of a replicated cooperative. Its store is a Raft state machine
 * ({@link Replica}): every replica applies every committed turn. While this replica leads (and
 * has applied all that was committed before its term), it runs a {@link SchedulerServer} on its
 * store, exactly as a restart would, whose commits go through the group; when it stops leading,
 * or its event loop stops because a commit did not go through, that server is closed and its
 * memory dropped, and the replica follows again until it is elected.
 */
public final class ReplicatedServer implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(ReplicatedServer.class);

    /** Which replica this is, and every replica of the group (this one included). */
    public record ReplicaConfig(String id, List<Replica.Peer> peers) {
        public ReplicaConfig {
            peers = List.copyOf(peers);
        }
    }

    private final SchedulerServer.Config config;
    private final InstantSource clock;
    private final Store store;
    private final Replica replica;
    private final Thread watch;
    private volatile SchedulerServer serving;
    private volatile long servingTerm = -1;
    private volatile boolean closed;

    private ReplicatedServer(SchedulerServer.Config config, InstantSource clock, Store store, Replica replica) {
        this.config = config;
        this.clock = clock;
        this.store = store;
        this.replica = replica;
        this.watch = new Thread(this::watch, "coop-replica-" + config.dataDir().getFileName());
        this.watch.setDaemon(true);
    }

    /** The META key of the replica list {@code coop init --replicas} founds the cooperative with. */
    public static final String REPLICAS_KEY = "replicas";

    /**
     * Records the replicas a cooperative is founded with, in its store's META: every replica
     * starts from a copy of that store, so all of them read the same list.
     */
    public static void recordReplicas(Store store, List<Replica.Peer> peers) {
        var batch = store.batch();
        batch.put(Store.Kind.META, REPLICAS_KEY, new ArrayList<>(peers));
        store.commit(batch);
    }

    /** The replica list in the store, or an empty list for a cooperative founded without replicas. */
    public static List<Replica.Peer> replicas(Store store) {
        Replica.Peer[] peers = store.get(Store.Kind.META, Store.key(REPLICAS_KEY), Replica.Peer[].class);
        return peers == null ? List.of() : List.of(peers);
    }

    /**
     * Starts replica {@code id} of the replicas the cooperative in {@code config.dataDir()} was
     * founded with ({@link #recordReplicas}).
     *
     * @throws IllegalArgumentException when the cooperative has no replicas, or none named {@code id}
     */
    public static ReplicatedServer start(SchedulerServer.Config config, String id, InstantSource clock) {
        if (!Store.exists(config.dataDir())) {
            throw new IllegalStateException("no cooperative in " + config.dataDir()
                    + ": run `coop init --data " + config.dataDir() + " ...` first");
        }
        List<Replica.Peer> peers;
        try (Store store = Store.openReadOnly(config.dataDir())) {
            peers = replicas(store);
        }
        if (peers.isEmpty()) {
            throw new IllegalArgumentException("--replica: the cooperative in " + config.dataDir() + " was founded "
                    + "without replicas (coop init --replicas ID=HOST:PORT,...); start it without --replica");
        }
        if (peers.stream().noneMatch(p -> p.id().equals(id))) {
            throw new IllegalArgumentException("--replica: no replica named '" + id + "' in this cooperative (replicas: "
                    + String.join(", ", peers.stream().map(Replica.Peer::id).toList()) + ")");
        }
        return start(config, new ReplicaConfig(id, peers), clock);
    }

    /**
     * Starts replica {@code rc.id()} on the cooperative in {@code config.dataDir()}. The Raft group
     * is named after the cooperative's genesis entry, so a replica started on another
     * cooperative's data folder is in another group and joins nothing.
     */
    public static ReplicatedServer start(SchedulerServer.Config config, ReplicaConfig rc, InstantSource clock) {
        if (!Store.exists(config.dataDir())) {
            throw new IllegalStateException("no cooperative in " + config.dataDir()
                    + ": run `coop init --data " + config.dataDir() + " ...` first");
        }
        Store store = Store.open(config.dataDir());
        try {
            Replica replica = Replica.start(rc.id(), rc.peers(), group(store), config.dataDir(), store,
                    tls(config.dataDir()));
            ReplicatedServer s = new ReplicatedServer(config, clock, store, replica);
            s.watch.start();
            return s;
        } catch (RuntimeException e) {
            store.close();
            throw e;
        }
    }

    /**
     * Mutual TLS between replicas with the replicas' certificate ({@code coop init --replicas}
     * issues it), or null where the data folder has none: then Raft traffic is plaintext, and the
     * log says so.
     */
    static Replica.Tls tls(java.nio.file.Path dataDir) {
        java.nio.file.Path folder = dataDir.resolve(coop.scheduler.trust.Authority.FOLDER);
        java.nio.file.Path cert = folder.resolve("replica.crt");
        if (!java.nio.file.Files.isRegularFile(cert)) {
            log.warn("no replica certificate in {}: Raft traffic between replicas is plaintext", folder);
            return null;
        }
        return new Replica.Tls(folder.resolve("replica.key"), cert, folder.resolve("ca.crt"));
    }

    /** The Raft group of the cooperative whose genesis {@code store} holds. */
    static UUID group(Store store) {
        byte[] genesis = store.getRaw(Store.Kind.LEDGER, Store.key(0));
        if (genesis == null) {
            throw new IllegalStateException("the data folder has no genesis entry: run `coop init` first");
        }
        return UUID.nameUUIDFromBytes(("coop replicas of " + Entry.read(genesis).hash()).getBytes(StandardCharsets.UTF_8));
    }

    private void watch() {
        while (!closed) {
            try {
                SchedulerServer s = serving;
                long term = replica.readyTerm();
                if (s == null && term > 0 && replica.stateMachine().refused() == null) {
                    lead(term);
                } else if (s != null && (term != servingTerm || s.loopStopped().isDone())) {
                    follow(term != servingTerm ? "leadership moved on (term " + servingTerm + " ended)"
                            : "its event loop stopped");
                }
                Thread.sleep(50);
            } catch (InterruptedException e) {
                return;
            } catch (RuntimeException e) {
                log.error("replica {}: {}", config.dataDir(), e.toString(), e);
                follow("it failed: " + e.getMessage());
                try {
                    Thread.sleep(500);
                } catch (InterruptedException ie) {
                    return;
                }
            }
        }
    }

    private void lead(long term) {
        log.info("replica in {} leads term {}: starting the scheduler on its store", config.dataDir(), term);
        store.replicateThrough(bytes -> replica.commit(term, bytes));
        servingTerm = term;
        serving = SchedulerServer.start(config, clock, store, false, replica::status);
    }

    private void follow(String why) {
        SchedulerServer s = serving;
        serving = null;
        servingTerm = -1;
        store.replicateThrough(bytes -> {
            throw new IllegalStateException("this replica does not lead, so it writes nothing of its own");
        });
        if (s != null) {
            log.warn("replica in {} stops serving: {}", config.dataDir(), why);
            s.close();
        }
    }

    /** The scheduler this replica runs while it leads; null while it follows. */
    public SchedulerServer serving() {
        return serving;
    }

    public Replica replica() {
        return replica;
    }

    @Override
    public void close() {
        closed = true;
        watch.interrupt();
        try {
            watch.join(10_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        follow("the replica is closing");
        replica.close();
        store.close();
    }
}
