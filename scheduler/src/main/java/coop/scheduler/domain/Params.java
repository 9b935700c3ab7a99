package coop.scheduler.domain;

import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The policy's parameters, changed by a {@code param} proposal (special majority). Each has a
 * name as written in proposals and on the command line, and a range a proposal must stay in.
 *
 * @param halfLifeS            half-life of the usage that orders accounts for fair share
 * @param preemptionGraceS     time a preempted attempt gets between SIGTERM and SIGKILL
 * @param reserveCapBp         largest share of its node's GPUs an operator may reserve for its own account
 * @param maxWalltimeS         longest walltime a job may ask for
 * @param maxPendingPerMember  most jobs one member may have waiting (0: no limit)
 * @param votingPeriodS        voting period of proposals that do not set one
 * @param panelSize            members drawn to review a high-risk job
 * @param panelMinGpus         jobs of at least this many GPUs need review (0: none by size)
 * @param panelPurposes        declared purposes that need review
 * @param maxWorkdirBytes      largest packed working folder a job may ship ({@code coop submit --workdir})
 * @param minRunBeforePreemptS how long an attempt runs before it may be preempted (Slurm's PreemptExemptTime);
 *                             a job asking for less walltime preempts no one
 * @param reserveWaitS         how long an operator's job claiming its reserve waits for borrowers'
 *                             walltimes to end there before it preempts them
 * @param panelWindowS         how long a member's ended jobs still count toward the GPUs per purpose
 *                             that {@code panel_min_gpus} is compared against
 */
public record Params(long halfLifeS, long preemptionGraceS, long reserveCapBp, long maxWalltimeS,
                     long maxPendingPerMember, long votingPeriodS, long panelSize, long panelMinGpus,
                     List<String> panelPurposes, long maxWorkdirBytes, long minRunBeforePreemptS,
                     long reserveWaitS, long panelWindowS) {

    /** Default of {@code max_workdir_bytes}: 64 MiB. */
    public static final long DEFAULT_MAX_WORKDIR_BYTES = 64L << 20;
    /** Default of {@code min_run_before_preempt_s}: 5 minutes. */
    public static final long DEFAULT_MIN_RUN_BEFORE_PREEMPT_S = 300;
    /** Default of {@code reserve_wait_s}: 5 minutes. */
    public static final long DEFAULT_RESERVE_WAIT_S = 300;
    /** Default of {@code panel_window_s}: a day. */
    public static final long DEFAULT_PANEL_WINDOW_S = Duration.ofDays(1).toSeconds();

    public static final Params DEFAULTS = new Params(Duration.ofDays(7).toSeconds(), 60, 5_000,
            Duration.ofDays(14).toSeconds(), 10_000, Duration.ofDays(2).toSeconds(), 3, 0, List.of(),
            DEFAULT_MAX_WORKDIR_BYTES, DEFAULT_MIN_RUN_BEFORE_PREEMPT_S, DEFAULT_RESERVE_WAIT_S,
            DEFAULT_PANEL_WINDOW_S);

    /** A parameter: its name, range and unit, for validation and help. */
    private record Spec(String name, long min, long max, String unit) {
    }

    /**
     * Parameters that came after ledgers were written, each with its default: they appear in the
     * ledger's record of a policy only once a vote has moved them from it.
     */
    private static final List<Spec> LATE = List.of(
            new Spec("max_workdir_bytes", 1L << 20, 1L << 30, "bytes"),
            new Spec("min_run_before_preempt_s", 0, Duration.ofDays(1).toSeconds(), "seconds"),
            new Spec("reserve_wait_s", 0, Duration.ofDays(1).toSeconds(), "seconds"),
            new Spec("panel_window_s", 0, Duration.ofDays(90).toSeconds(), "seconds"));
    private static final long[] LATE_DEFAULTS = {DEFAULT_MAX_WORKDIR_BYTES, DEFAULT_MIN_RUN_BEFORE_PREEMPT_S,
        DEFAULT_RESERVE_WAIT_S, DEFAULT_PANEL_WINDOW_S};

    private static final List<Spec> SPECS = List.of(
            new Spec("half_life_s", 60, Duration.ofDays(365).toSeconds(), "seconds"),
            new Spec("preemption_grace_s", 0, 3_600, "seconds"),
            new Spec("reserve_cap_bp", 0, 10_000, "basis points"),
            new Spec("max_walltime_s", 60, Duration.ofDays(365).toSeconds(), "seconds"),
            new Spec("max_pending_per_member", 0, 10_000_000, "jobs"),
            new Spec("voting_period_s", 60, Duration.ofDays(60).toSeconds(), "seconds"),
            new Spec("panel_size", 1, 101, "members"),
            new Spec("panel_min_gpus", 0, 1_000_000, "GPUs"),
            LATE.get(0), LATE.get(1), LATE.get(2), LATE.get(3));
    private static final String PURPOSES = "panel_purposes";

    public Params {
        panelPurposes = List.copyOf(panelPurposes);
        maxWorkdirBytes = maxWorkdirBytes == 0 ? DEFAULT_MAX_WORKDIR_BYTES : maxWorkdirBytes;
    }

    /** The parameters before review counted a member's jobs over a window, that window at its default. */
    public Params(long halfLifeS, long preemptionGraceS, long reserveCapBp, long maxWalltimeS,
                  long maxPendingPerMember, long votingPeriodS, long panelSize, long panelMinGpus,
                  List<String> panelPurposes, long maxWorkdirBytes, long minRunBeforePreemptS, long reserveWaitS) {
        this(halfLifeS, preemptionGraceS, reserveCapBp, maxWalltimeS, maxPendingPerMember, votingPeriodS, panelSize,
                panelMinGpus, panelPurposes, maxWorkdirBytes, minRunBeforePreemptS, reserveWaitS,
                DEFAULT_PANEL_WINDOW_S);
    }

    /** The parameters before the preemption bounds were voted, those at their defaults. */
    public Params(long halfLifeS, long preemptionGraceS, long reserveCapBp, long maxWalltimeS,
                  long maxPendingPerMember, long votingPeriodS, long panelSize, long panelMinGpus,
                  List<String> panelPurposes, long maxWorkdirBytes) {
        this(halfLifeS, preemptionGraceS, reserveCapBp, maxWalltimeS, maxPendingPerMember, votingPeriodS, panelSize,
                panelMinGpus, panelPurposes, maxWorkdirBytes, DEFAULT_MIN_RUN_BEFORE_PREEMPT_S,
                DEFAULT_RESERVE_WAIT_S);
    }

    /** Names a {@code param} proposal may set. */
    public static List<String> names() {
        List<String> out = new ArrayList<>();
        SPECS.forEach(s -> out.add(s.name()));
        out.add(PURPOSES);
        return out;
    }

    /**
     * The parameters as the ledger records them. Those that came after ledgers were written appear
     * only once a vote has moved them from their defaults, so that the policies those ledgers
     * enacted still read as the rules yield them.
     */
    public Map<String, Object> toMap() {
        Map<String, Object> m = shown();
        for (int i = 0; i < LATE.size(); i++) {
            if (((Number) m.get(LATE.get(i).name())).longValue() == LATE_DEFAULTS[i]) {
                m.remove(LATE.get(i).name());
            }
        }
        return m;
    }

    /** Every parameter with its value, defaults included, for people to read ({@code coop policy}). */
    public Map<String, Object> shown() {
        Map<String, Object> m = new LinkedHashMap<>();
        long[] v = values();
        for (int i = 0; i < SPECS.size(); i++) {
            m.put(SPECS.get(i).name(), v[i]);
        }
        m.put(PURPOSES, panelPurposes);
        return m;
    }

    private long[] values() {
        return new long[] {halfLifeS, preemptionGraceS, reserveCapBp, maxWalltimeS, maxPendingPerMember,
            votingPeriodS, panelSize, panelMinGpus, maxWorkdirBytes, minRunBeforePreemptS, reserveWaitS,
            panelWindowS};
    }

    /** Reads a whole parameter set (the founding policy). */
    public static Params fromMap(Map<String, Object> m) {
        return DEFAULTS.with(m);
    }

    /**
     * These parameters with {@code changes} applied.
     *
     * @throws CoopException naming the parameter when one is unknown or out of range
     */
    public Params with(Map<String, Object> changes) {
        if (changes == null || changes.isEmpty()) {
            throw CoopException.invalid("params", "set at least one parameter (" + String.join(", ", names()) + ")");
        }
        long[] v = values();
        List<String> purposes = panelPurposes;
        for (Map.Entry<String, Object> e : new TreeMap<>(changes).entrySet()) {
            String field = "params." + e.getKey();
            if (e.getKey().equals(PURPOSES)) {
                purposes = purposes(field, e.getValue());
                continue;
            }
            int i = index(e.getKey());
            if (i < 0) {
                throw CoopException.invalid(field, "unknown parameter (parameters: " + String.join(", ", names()) + ")");
            }
            Spec s = SPECS.get(i);
            if (!(e.getValue() instanceof Number n) || n.longValue() < s.min() || n.longValue() > s.max()) {
                throw CoopException.invalid(field, "must be a whole number of " + s.unit() + " between " + s.min()
                        + " and " + s.max() + ", got " + e.getValue());
            }
            v[i] = n.longValue();
        }
        return new Params(v[0], v[1], v[2], v[3], v[4], v[5], v[6], v[7], purposes, v[8], v[9], v[10], v[11]);
    }

    private static List<String> purposes(String field, Object value) {
        if (!(value instanceof List<?> list) || list.size() > 32) {
            throw CoopException.invalid(field, "must be a list of at most 32 purposes");
        }
        List<String> out = new ArrayList<>();
        for (Object o : list) {
            if (!(o instanceof String s)) {
                throw CoopException.invalid(field, "purposes are names, got " + o);
            }
            Names.require(field, s);
            out.add(s);
        }
        return List.copyOf(new java.util.TreeSet<>(out));
    }

    private static int index(String name) {
        for (int i = 0; i < SPECS.size(); i++) {
            if (SPECS.get(i).name().equals(name)) {
                return i;
            }
        }
        return -1;
    }

    public Duration halfLife() {
        return Duration.ofSeconds(halfLifeS);
    }
}
