package coop.scheduler.audit;

import coop.scheduler.domain.Member;
import coop.scheduler.governance.Governance;
import coop.scheduler.ledger.Canonical;
import coop.scheduler.ledger.Checkpoint;
import coop.scheduler.ledger.Entry;
import coop.scheduler.ledger.EventType;
import coop.scheduler.ledger.Keys;
import coop.scheduler.ledger.Ledger;
import coop.scheduler.ledger.SignedHead;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SortedMap;

/**
 * The verifier's checks of what the scheduler records on its own authority (submissions,
 * cancellations, nodes, preemptions, certificates, its signing key) and of members' witnesses,
 * one entry at a time and in memory bounded by {@link #WITNESS_WINDOW}.
 *
 * <p>Job references: ledgers written before submissions were recorded have none, and a scheduler
 * upgraded in place keeps running jobs submitted before. So the rule starts with the first
 * submit entry: from then on each submission's job ids follow the ones before (the scheduler
 * numbers jobs in order), and a cancel, attempt or preemption naming a job at or above the first
 * recorded submission must name one a submit entry introduced. Jobs below it are older than the
 * record and are taken as they come.
 */
final class DecisionChecks {
    /** How far back (in entries) a witness may name a head: the verifier keeps that many hashes. */
    static final int WITNESS_WINDOW = SignedHead.WITNESS_WINDOW;

    private long firstSubmitted;
    private long lastSubmitted;
    /** The scheduler key in force (announced last), or null before any announcement. */
    private String schedulerKey;
    private long submits;
    private long witnesses;
    private final String[] recent = new String[WITNESS_WINDOW];

    /** Picks up where the replay that made {@code c} left off. */
    void resume(Checkpoint c) {
        firstSubmitted = c.firstSubmitted();
        lastSubmitted = c.lastSubmitted();
        schedulerKey = c.schedulerKey();
        for (int i = 0; i < c.recent().size(); i++) {
            long seq = c.seq() - c.recent().size() + i;
            recent[(int) (seq % WITNESS_WINDOW)] = c.recent().get(i);
        }
    }

    /** A checkpoint of this state after {@code accepted} entries ending at {@code head}, with {@code governance}. */
    Checkpoint checkpoint(long accepted, String head, long lastAt, SortedMap<String, Object> governance) {
        List<String> hashes = new java.util.ArrayList<>();
        for (long seq = Math.max(0, accepted - WITNESS_WINDOW); seq < accepted; seq++) {
            hashes.add(recent[(int) (seq % WITNESS_WINDOW)]);
        }
        return new Checkpoint(accepted, head, lastAt, schedulerKey, hashes, firstSubmitted, lastSubmitted,
                governance);
    }

    /** Remembers an accepted entry's hash, for witnesses that name it later. */
    void accepted(Entry e) {
        recent[(int) (e.seq() % WITNESS_WINDOW)] = e.hash();
    }

    /** The hash of entry {@code seq} if it is among the last {@link #WITNESS_WINDOW} accepted, else null. */
    String recentHash(long seq, long accepted) {
        if (seq < 0 || seq >= accepted || seq < accepted - WITNESS_WINDOW) {
            return null;
        }
        return recent[(int) (seq % WITNESS_WINDOW)];
    }

    long submits() {
        return submits;
    }

    long witnesses() {
        return witnesses;
    }

    /**
     * Checks the form of an entry the scheduler recorded, or a witness.
     *
     * @throws IllegalArgumentException naming what is wrong
     */
    void check(Entry e, Governance gov) {
        SortedMap<String, Object> b = e.body();
        EventType type = EventType.of(e.type()).orElse(EventType.GENESIS);
        switch (type) {
            case SUBMIT -> {
                long job = positive(b, "job");
                text(b, "member");
                account(gov, text(b, "account"));
                positive(b, "gpus");
                positive(b, "nodes");
                text(b, "purpose");
                hash(b, "spec");
                if (b.containsKey("tasks")) {
                    long array = positive(b, "array");
                    if (array != job - 1) {
                        throw new IllegalArgumentException("array " + array + "'s first task must be job " + (array + 1)
                                + ", not " + job);
                    }
                    positive(b, "tasks");
                }
                long last = Ledger.lastJob(b);
                if (job <= lastSubmitted) {
                    throw new IllegalArgumentException("submits job " + job + " after job " + lastSubmitted
                            + ": the scheduler numbers jobs in order");
                }
                if (firstSubmitted == 0) {
                    firstSubmitted = job;
                }
                lastSubmitted = last;
                submits++;
            }
            case CANCEL -> {
                submitted(positive(b, "job"));
                text(b, "by");
                text(b, "reason");
            }
            case PREEMPT -> {
                submitted(positive(b, "job"));
                positive(b, "attempt");
                submitted(positive(b, "for_job"));
                text(b, "reason");
            }
            case ATTEMPT -> {
                submitted(positive(b, "job"));
                if (b.containsKey("placements")) {
                    placements(b);
                }
            }
            case NODE_ENROL -> {
                text(b, "node");
                text(b, "site");
                account(gov, text(b, "account"));
                text(b, "by");
            }
            case NODE_DRAIN -> {
                text(b, "node");
                text(b, "by");
                text(b, "reason");
                if (!(b.get("drain") instanceof Boolean)) {
                    throw new IllegalArgumentException("drain must be true or false");
                }
            }
            case NODE_TERMS -> {
                text(b, "node");
                text(b, "by");
                number(b, "reserved_gpus");
                text(b, "time_zone");
                if (!(b.get("windows") instanceof List<?>)) {
                    throw new IllegalArgumentException("windows must be a list");
                }
            }
            case NODE_REMOVE -> {
                text(b, "node");
                text(b, "by");
            }
            case CERTIFICATE -> {
                if (!Set.of("member", "node").contains(text(b, "holder"))) {
                    throw new IllegalArgumentException("a certificate is a member's or a node's, not " + b.get("holder")
                            + "'s");
                }
                text(b, "name");
                if (!text(b, "serial").matches("[0-9a-f]+")) {
                    throw new IllegalArgumentException("serial must be hexadecimal");
                }
            }
            case SCHEDULER_KEY -> {
                String key = text(b, "public_key");
                Keys.publicKey(key);
                schedulerKey = key;
            }
            case WITNESS -> witness(e, gov);
            default -> {
            }
        }
    }

    /** The scheduler key announced last, or null. */
    String schedulerKey() {
        return schedulerKey;
    }

    private void witness(Entry e, Governance gov) {
        SortedMap<String, Object> statement = map(e.body(), "statement");
        String signature = text(e.body(), "signature");
        SignedHead.Witness w = SignedHead.Witness.of(statement);
        Member m = gov.member(w.member());
        if (m == null || !m.active()) {
            throw new IllegalArgumentException("witness " + w.member() + " is not a member of the cooperative");
        }
        if (!Keys.verify(m.publicKey(), Canonical.encode(statement), signature)) {
            throw new IllegalArgumentException("the witness is not signed by " + w.member() + "'s key");
        }
        if (w.seq() >= e.seq()) {
            throw new IllegalArgumentException(w.member() + " witnessed entry " + w.seq() + ", which is not before "
                    + "the witness: the ledger before it was changed");
        }
        if (w.seq() < e.seq() - WITNESS_WINDOW) {
            throw new IllegalArgumentException("a witness names a head among the " + WITNESS_WINDOW
                    + " entries before it, not entry " + w.seq());
        }
        String hash = recent[(int) (w.seq() % WITNESS_WINDOW)];
        if (!w.head().equals(hash)) {
            throw new IllegalArgumentException(w.member() + " witnessed head " + w.head() + " at entry " + w.seq()
                    + ", but that entry's hash is " + hash);
        }
        witnesses++;
    }

    private void submitted(long job) {
        if (firstSubmitted > 0 && job >= firstSubmitted && job > lastSubmitted) {
            throw new IllegalArgumentException("names job " + job + ", which no submit entry introduced");
        }
    }

    private static void placements(Map<String, Object> b) {
        if (!(b.get("placements") instanceof List<?> ranks) || ranks.isEmpty()) {
            throw new IllegalArgumentException("placements must be a list of the ranks' nodes and GPUs");
        }
        long gpus = 0;
        for (Object o : ranks) {
            if (!(o instanceof Map<?, ?> p) || !(p.get("node") instanceof String)
                    || !(p.get("gpu_indices") instanceof List<?> indices)) {
                throw new IllegalArgumentException("each placement names a node and its gpu_indices");
            }
            gpus += indices.size();
        }
        if (gpus != (Long) b.get("gpus")) {
            throw new IllegalArgumentException("placements hold " + gpus + " GPUs, not the " + b.get("gpus")
                    + " charged");
        }
        if (!(b.get("borrowed") instanceof Boolean)) {
            throw new IllegalArgumentException("borrowed must be true or false");
        }
    }

    private static void account(Governance gov, String account) {
        if (gov.accounts().get(account) == null) {
            throw new IllegalArgumentException("names unknown account '" + account + "'");
        }
    }

    private static long positive(Map<String, Object> b, String field) {
        long v = number(b, field);
        if (v < 1) {
            throw new IllegalArgumentException(field + " must be at least 1, got " + v);
        }
        return v;
    }

    private static long number(Map<String, Object> b, String field) {
        if (!(b.get(field) instanceof Long v)) {
            throw new IllegalArgumentException(field + " must be a whole number");
        }
        return v;
    }

    private static String text(Map<String, Object> b, String field) {
        if (!(b.get(field) instanceof String v)) {
            throw new IllegalArgumentException(field + " must be text");
        }
        return v;
    }

    private static void hash(Map<String, Object> b, String field) {
        if (!text(b, field).matches("[0-9a-f]{64}")) {
            throw new IllegalArgumentException(field + " must be a SHA-256 in hex");
        }
    }

    @SuppressWarnings("unchecked")
    private static SortedMap<String, Object> map(Map<String, Object> b, String field) {
        if (!(b.get(field) instanceof SortedMap<?, ?> v)) {
            throw new IllegalArgumentException(field + " must be an object");
        }
        return (SortedMap<String, Object>) v;
    }
}
