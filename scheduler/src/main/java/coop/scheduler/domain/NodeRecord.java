package coop.scheduler.domain;

import java.util.List;

/**
 * An enrolled node: where it is, the account of the operator who enrolled it (its own jobs go
 * there), who enrolled it, the SHA-256 of the secret its agent proves itself with, whether its
 * operator is draining it (no new work), and why, and its operator's terms: how many of its GPUs
 * the operator's account has first claim on, and the weekly windows (in {@code timeZone}) in which
 * it is offered at all (none: always). Apart from its operator's drain, a node may be drained by
 * its own agent: {@code healthDrain} is why its health check (or a prolog or epilog) failed, empty
 * while it is healthy. The two are kept apart so that a passing check never lifts the operator's.
 * {@code features} is what its agent last said it offers besides GPUs (container runtimes, mounts);
 * {@code gpuModels} the model of each of its GPUs as its agent last said (null until it has):
 * what a job is judged by at submit while the agent is away. {@code refusedPurposes} are the
 * declared purposes ({@code coop submit --purpose}) its operator will not run there.
 */
public record NodeRecord(String name, String site, String account, String operator, String tokenSha256,
                         long enrolledAt, boolean draining, String drainReason, int reservedGpus,
                         List<String> windows, String timeZone, String healthDrain, NodeFeatures features,
                         List<String> gpuModels, List<String> refusedPurposes) {
    public NodeRecord {
        // Records stored before operators could refuse purposes read back refusing none.
        refusedPurposes = refusedPurposes == null ? List.of() : List.copyOf(new java.util.TreeSet<>(refusedPurposes));
        // Records stored before agents' GPUs were kept read back as never reported.
        gpuModels = gpuModels == null ? null : List.copyOf(gpuModels);
        // Records stored before agents said what they offer read back as offering nothing.
        features = features == null ? NodeFeatures.NONE : features;
        drainReason = drainReason == null ? "" : drainReason;
        // Records stored before health checks existed read back as healthy.
        healthDrain = healthDrain == null ? "" : healthDrain;
        // Records stored before operators' terms existed read back with none.
        windows = windows == null ? List.of() : List.copyOf(windows);
        timeZone = timeZone == null || timeZone.isEmpty() ? "UTC" : timeZone;
    }

    /** A node whose operator refuses no purpose. */
    public NodeRecord(String name, String site, String account, String operator, String tokenSha256,
                      long enrolledAt, boolean draining, String drainReason, int reservedGpus,
                      List<String> windows, String timeZone, String healthDrain, NodeFeatures features,
                      List<String> gpuModels) {
        this(name, site, account, operator, tokenSha256, enrolledAt, draining, drainReason, reservedGpus, windows,
                timeZone, healthDrain, features, gpuModels, List.of());
    }

    /** A node whose agent has not reported its GPUs. */
    public NodeRecord(String name, String site, String account, String operator, String tokenSha256,
                      long enrolledAt, boolean draining, String drainReason, int reservedGpus,
                      List<String> windows, String timeZone, String healthDrain, NodeFeatures features) {
        this(name, site, account, operator, tokenSha256, enrolledAt, draining, drainReason, reservedGpus, windows,
                timeZone, healthDrain, features, null);
    }

    /** A node whose agent has not said what it offers besides GPUs. */
    public NodeRecord(String name, String site, String account, String operator, String tokenSha256,
                      long enrolledAt, boolean draining, String drainReason, int reservedGpus,
                      List<String> windows, String timeZone, String healthDrain) {
        this(name, site, account, operator, tokenSha256, enrolledAt, draining, drainReason, reservedGpus, windows,
                timeZone, healthDrain, NodeFeatures.NONE);
    }

    /** A newly enrolled node: not draining, no reserve, always offered. */
    public NodeRecord(String name, String site, String account, String operator, String tokenSha256,
                      long enrolledAt) {
        this(name, site, account, operator, tokenSha256, enrolledAt, false, "", 0, List.of(), "UTC", "");
    }

    /**
     * Drained or undrained by its operator. An undrain lifts the health check's drain too: the
     * operator has the last word, and a check that still fails drains the node again at its next run.
     */
    public NodeRecord drained(boolean drain, String reason) {
        return new NodeRecord(name, site, account, operator, tokenSha256, enrolledAt, drain, drain ? reason : "",
                reservedGpus, windows, timeZone, drain ? healthDrain : "", features, gpuModels, refusedPurposes);
    }

    /** Drained by its own health check with {@code reason}, or (empty) healthy again. */
    public NodeRecord withHealthDrain(String reason) {
        return new NodeRecord(name, site, account, operator, tokenSha256, enrolledAt, draining, drainReason,
                reservedGpus, windows, timeZone, reason, features, gpuModels, refusedPurposes);
    }

    /** Whether no new work may be placed there: its operator or its health check drains it. */
    public boolean takesNoWork() {
        return draining || !healthDrain.isEmpty();
    }

    /** The same node under a renewed token, by the member who renewed it; its state and terms kept. */
    public NodeRecord renewed(String byOperator, String newTokenSha256, long at) {
        return new NodeRecord(name, site, account, byOperator, newTokenSha256, at, draining, drainReason,
                reservedGpus, windows, timeZone, healthDrain, features, gpuModels, refusedPurposes);
    }

    /** The same node under new operator's terms. */
    public NodeRecord withTerms(int reserved, Availability availability) {
        return new NodeRecord(name, site, account, operator, tokenSha256, enrolledAt, draining, drainReason,
                reserved, availability.windows(), availability.zone().getId(), healthDrain, features, gpuModels,
                refusedPurposes);
    }

    /** The same node with what its agent last said it offers besides GPUs. */
    public NodeRecord withFeatures(NodeFeatures offered) {
        return new NodeRecord(name, site, account, operator, tokenSha256, enrolledAt, draining, drainReason,
                reservedGpus, windows, timeZone, healthDrain, offered, gpuModels, refusedPurposes);
    }

    /** The same node with the models of its GPUs as its agent last reported them. */
    public NodeRecord withGpuModels(List<String> models) {
        return new NodeRecord(name, site, account, operator, tokenSha256, enrolledAt, draining, drainReason,
                reservedGpus, windows, timeZone, healthDrain, features, models, refusedPurposes);
    }

    /** The same node with the declared purposes its operator refuses to run. */
    public NodeRecord withRefusedPurposes(List<String> purposes) {
        return new NodeRecord(name, site, account, operator, tokenSha256, enrolledAt, draining, drainReason,
                reservedGpus, windows, timeZone, healthDrain, features, gpuModels, purposes);
    }

    /** When the node is offered, parsed from the stored windows. */
    public Availability availability() {
        return Availability.parse(windows, timeZone);
    }
}
