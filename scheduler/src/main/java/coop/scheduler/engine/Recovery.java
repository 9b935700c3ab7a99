package coop.scheduler.engine;

import coop.scheduler.audit.LedgerVerifier;
import coop.scheduler.domain.Constitution;
import coop.scheduler.domain.Job;
import coop.scheduler.domain.Member;
import coop.scheduler.domain.NodeRecord;
import coop.scheduler.domain.NotifyChoice;
import coop.scheduler.domain.Params;
import coop.scheduler.governance.Governance;
import coop.scheduler.ledger.Checkpoint;
import coop.scheduler.ledger.Event;
import coop.scheduler.ledger.EventType;
import coop.scheduler.ledger.Ledger;
import coop.scheduler.store.Batch;
import coop.scheduler.store.Store.Kind;
import coop.scheduler.store.Store;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SortedMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What the scheduler starts from: governance rebuilt from the ledger, the stored jobs and
 * enrolled nodes, and the next job id. Read from a {@link Store}, or made in memory from a
 * genesis for tests that need no disk.
 */
public final class Recovery {
    private static final Logger log = LoggerFactory.getLogger(Recovery.class);
    private Recovery() {
    }

    /** The state as stored, ready for {@link ClusterState#ClusterState(Stored, java.time.InstantSource, java.time.Duration, java.time.Duration)}. */
    public record Stored(Governance governance, Ledger ledger, List<Job> jobs, List<NodeRecord> nodes,
                         long nextJobId, Map<String, NotifyChoice> notifyDefaults, String beaconSecret,
                         long checkpointed) {
        public Stored {
            notifyDefaults = notifyDefaults == null ? Map.of() : Map.copyOf(notifyDefaults);
        }

        /** Read without a checkpoint: {@code checkpointed}, the entries the stored checkpoint covers, is 0. */
        public Stored(Governance governance, Ledger ledger, List<Job> jobs, List<NodeRecord> nodes, long nextJobId,
                      Map<String, NotifyChoice> notifyDefaults, String beaconSecret) {
            this(governance, ledger, jobs, nodes, nextJobId, notifyDefaults, beaconSecret, 0);
        }

        /** Before any review panel drew on the scheduler's beacon. */
        public Stored(Governance governance, Ledger ledger, List<Job> jobs, List<NodeRecord> nodes, long nextJobId,
                      Map<String, NotifyChoice> notifyDefaults) {
            this(governance, ledger, jobs, nodes, nextJobId, notifyDefaults, null);
        }

        /** Without members' notification defaults. */
        public Stored(Governance governance, Ledger ledger, List<Job> jobs, List<NodeRecord> nodes, long nextJobId) {
            this(governance, ledger, jobs, nodes, nextJobId, Map.of());
        }
    }

    /** The META key of a member's notification default: a personal setting, not a ledger entry. */
    static String notifyDefaultKey(String member) {
        return "notify_default/" + member;
    }

    /**
     * Reads the state from the store. Governance is rebuilt by running the rules over the ledger,
     * checking on the way that they yield exactly what is recorded; a ledger that does not
     * verify, or no ledger at all, is refused.
     */
    public static Stored read(Store store) {
        Checkpoint from = checkpoint(store);
        LedgerVerifier.Replayed replayed = from == null ? null : LedgerVerifier.replay(store, false, from);
        if (replayed != null && !replayed.report().ok()) {
            log.warn("the ledger after the checkpoint at entry {} does not verify from it ({}); replaying the whole "
                    + "ledger", from.seq(), replayed.report().problem());
            replayed = null;
        }
        if (replayed == null) {
            from = null;
            replayed = LedgerVerifier.replay(store, false);
        }
        if (!replayed.report().ok()) {
            throw new IllegalStateException("the ledger does not verify, so the scheduler will not start on it: "
                    + replayed.report().problem());
        }
        if (replayed.report().entries() == 0) {
            throw new IllegalStateException("the data directory has no ledger: run `coop init` first");
        }
        Ledger ledger = Ledger.resume(replayed.end().get());
        List<Job> jobs = new ArrayList<>();
        store.scan(Kind.JOBS, Job.class, (k, j) -> jobs.add(j));
        List<NodeRecord> nodes = new ArrayList<>();
        store.scan(Kind.NODES, NodeRecord.class, (k, r) -> nodes.add(r));
        Long next = store.get(Kind.META, Store.key("next_job_id"), Long.class);
        Map<String, NotifyChoice> defaults = new HashMap<>();
        for (Member m : replayed.governance().members()) {
            NotifyChoice c = store.get(Kind.META, Store.key(notifyDefaultKey(m.name())), NotifyChoice.class);
            if (c != null) {
                defaults.put(m.name(), c);
            }
        }
        String beaconSecret = store.get(Kind.META, Store.key(GovernanceDesk.BEACON_SECRET_KEY), String.class);
        return new Stored(replayed.governance(), ledger, jobs, nodes, next == null ? 1 : next, defaults,
                beaconSecret, from == null ? 0 : from.seq());
    }

    /**
     * The stored checkpoint if it can be read and fits the ledger, else null (and a warning says
     * why): start-up then replays the whole ledger, which is the record.
     */
    static Checkpoint checkpoint(Store store) {
        byte[] raw = Checkpoint.stored(store);
        if (raw == null) {
            return null;
        }
        try {
            Checkpoint c = Checkpoint.read(raw);
            String mismatch = c.mismatch(store);
            if (mismatch == null) {
                return c;
            }
            log.warn("the ledger checkpoint does not fit the ledger ({}); replaying the whole ledger", mismatch);
        } catch (IllegalArgumentException | ClassCastException | NullPointerException e) {
            log.warn("the ledger checkpoint cannot be read ({}); replaying the whole ledger", e.toString());
        }
        return null;
    }

    /** A cooperative just founded, in memory: the genesis entry is the ledger's only one, and there are no jobs or nodes. */
    public static Stored founded(List<Member> founders, List<String> accountNames, Params params, long now) {
        Ledger ledger = new Ledger();
        Governance gov = genesis(founders, accountNames, params, Constitution.FOUNDING, now, ledger, new Batch());
        return new Stored(gov, ledger, List.of(), List.of(), 1);
    }

    /**
     * Writes the genesis entry of the ledger (founding members, accounts, and the founding
     * parameters) into an empty store.
     */
    public static void found(Store store, List<Member> founders, List<String> accountNames, Params params,
                             Constitution constitution, long now) {
        var batch = store.batch();
        genesis(founders, accountNames, params, constitution, now, new Ledger(), batch);
        batch.put(Kind.META, "next_job_id", 1L);
        store.commit(batch);
    }

    /** The founding rules applied (refusing bad founders or accounts), and their genesis entry appended to {@code ledger}. */
    private static Governance genesis(List<Member> founders, List<String> accountNames, Params params,
                                      Constitution constitution, long now, Ledger ledger, Batch batch) {
        SortedMap<String, Object> body = Governance.genesis(founders, accountNames, params, constitution);
        Governance gov = Governance.found(body, now);
        ledger.append(now, Event.of(EventType.GENESIS, body), batch);
        return gov;
    }
}
