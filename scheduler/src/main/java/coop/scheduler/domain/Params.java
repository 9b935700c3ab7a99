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
 */
public record Params(long halfLifeS, long preemptionGraceS, long reserveCapBp, long maxWalltimeS,
                     long maxPendingPerMember, long votingPeriodS, long panelSize, long panelMinGpus,
                     List<String> panelPurposes, long maxWorkdirBytes) {

    /** Default of {@code max_workdir_bytes}: 64 MiB. */
    public static final long DEFAULT_MAX_WORKDIR_BYTES = 64L << 20;

    public static final Params DEFAULTS = new Params(Duration.ofDays(7).toSeconds(), 60, 5_000,
            Duration.ofDays(14).toSeconds(), 10_000, Duration.ofDays(2).toSeconds(), 3, 0, List.of(),
            DEFAULT_MAX_WORKDIR_BYTES);

    /** A parameter: its name, range and unit, for validation and help. */
    private record Spec(String name, long min, long max, String unit) {
    }

    private static final String MAX_WORKDIR = "max_workdir_bytes";
    private static final Spec WORKDIR_SPEC = new Spec(MAX_WORKDIR, 1L << 20, 1L << 30, "bytes");

    private static final List<Spec> SPECS = List.of(
            new Spec("half_life_s", 60, Duration.ofDays(365).toSeconds(), "seconds"),
            new Spec("preemption_grace_s", 0, 3_600, "seconds"),
            new Spec("reserve_cap_bp", 0, 10_000, "basis points"),
            new Spec("max_walltime_s", 60, Duration.ofDays(365).toSeconds(), "seconds"),
            new Spec("max_pending_per_member", 0, 10_000_000, "jobs"),
            new Spec("voting_period_s", 60, Duration.ofDays(60).toSeconds(), "seconds"),
            new Spec("panel_size", 1, 101, "members"),
            new Spec("panel_min_gpus", 0, 1_000_000, "GPUs"),
            WORKDIR_SPEC);
    private static final String PURPOSES = "panel_purposes";

    public Params {
        panelPurposes = List.copyOf(panelPurposes);
        maxWorkdirBytes = maxWorkdirBytes == 0 ? DEFAULT_MAX_WORKDIR_BYTES : maxWorkdirBytes;
    }

    /** Names a {@code param} proposal may set. */
    public static List<String> names() {
        List<String> out = new ArrayList<>();
        SPECS.forEach(s -> out.add(s.name()));
        out.add(PURPOSES);
        return out;
    }

    /**
     * The parameters as the ledger records them. {@code max_workdir_bytes} came after ledgers were
     * written: it appears only once a vote has moved it from its default, so that the policies those
     * ledgers enacted still read as the rules yield them.
     */
    public Map<String, Object> toMap() {
        Map<String, Object> m = shown();
        if (maxWorkdirBytes == DEFAULT_MAX_WORKDIR_BYTES) {
            m.remove(MAX_WORKDIR);
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
            votingPeriodS, panelSize, panelMinGpus, maxWorkdirBytes};
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
        return new Params(v[0], v[1], v[2], v[3], v[4], v[5], v[6], v[7], purposes, v[8]);
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
