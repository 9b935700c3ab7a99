package coop.scheduler.domain;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * A job as the scheduler stores it: what was asked (account, GPUs per node, nodes, model,
 * walltime, command, declared purpose) and what happened (state, attempts). Immutable; each change yields a
 * new record that the event loop persists. A task of a job array is a job like any other that also
 * carries its array's id and its index there ({@code arrayId} 0 for a job on its own). A job the
 * scheduler ended for a reason of its own (its member was removed) says why in {@code endReason}.
 * {@code stop} is how it is warned before it stops and whether it runs again after a timeout.
 * Its ranks get {@code env} on top of the node's clean base and start in {@code chdir} ("" for
 * each rank's own folder). {@code workdir} is the sha256 of the folder shipped with it ("" for
 * none), unpacked into each rank's own folder before its command starts; {@code container}'s
 * image is where its ranks run, when it has one.
 */
public record Job(long id, String name, String account, String member, int gpusPerNode, int nodes,
                  String gpuModel, long walltimeSeconds, String command, int priority, boolean crossSite,
                  JobState state, long submittedAt, long finishedAt, List<Attempt> attempts, boolean noPreempt,
                  String purpose, long arrayId, int arrayIndex, String endReason, StopTerms stop,
                  Map<String, String> env, String chdir, JobContainer container, String workdir,
                  JobOptions options) {

    public Job {
        // Records stored before the field existed read it as null: the stop as it always was.
        stop = stop == null ? StopTerms.DEFAULT : stop;
        attempts = List.copyOf(attempts);
        purpose = purpose == null ? "" : purpose;
        // Records stored before these fields existed read them as null.
        endReason = endReason == null ? "" : endReason;
        env = env == null || env.isEmpty() ? Map.of() : java.util.Collections.unmodifiableMap(new TreeMap<>(env));
        chdir = chdir == null ? "" : chdir;
        container = container == null ? JobContainer.NONE : container;
        workdir = workdir == null ? "" : workdir;
        options = options == null ? JobOptions.NONE : options;
    }

    /** A job as stored before it had dependencies, notifications, a memory limit or output files. */
    public Job(long id, String name, String account, String member, int gpusPerNode, int nodes,
               String gpuModel, long walltimeSeconds, String command, int priority, boolean crossSite,
               JobState state, long submittedAt, long finishedAt, List<Attempt> attempts, boolean noPreempt,
               String purpose, long arrayId, int arrayIndex, String endReason, StopTerms stop,
               Map<String, String> env, String chdir, JobContainer container, String workdir) {
        this(id, name, account, member, gpusPerNode, nodes, gpuModel, walltimeSeconds, command, priority, crossSite,
                state, submittedAt, finishedAt, attempts, noPreempt, purpose, arrayId, arrayIndex, endReason, stop,
                env, chdir, container, workdir, JobOptions.NONE);
    }

    /** A job as stored before it could ship a folder or run in a container. */
    public Job(long id, String name, String account, String member, int gpusPerNode, int nodes,
               String gpuModel, long walltimeSeconds, String command, int priority, boolean crossSite,
               JobState state, long submittedAt, long finishedAt, List<Attempt> attempts, boolean noPreempt,
               String purpose, long arrayId, int arrayIndex, String endReason, StopTerms stop,
               Map<String, String> env, String chdir) {
        this(id, name, account, member, gpusPerNode, nodes, gpuModel, walltimeSeconds, command, priority, crossSite,
                state, submittedAt, finishedAt, attempts, noPreempt, purpose, arrayId, arrayIndex, endReason, stop,
                env, chdir, JobContainer.NONE, "");
    }

    /** A job as stored before it had stop terms, an environment and a working folder of its own. */
    public Job(long id, String name, String account, String member, int gpusPerNode, int nodes,
               String gpuModel, long walltimeSeconds, String command, int priority, boolean crossSite,
               JobState state, long submittedAt, long finishedAt, List<Attempt> attempts, boolean noPreempt,
               String purpose, long arrayId, int arrayIndex, String endReason) {
        this(id, name, account, member, gpusPerNode, nodes, gpuModel, walltimeSeconds, command, priority, crossSite,
                state, submittedAt, finishedAt, attempts, noPreempt, purpose, arrayId, arrayIndex, endReason,
                StopTerms.DEFAULT, Map.of(), "");
    }

    /** A task of a job array, or (arrayId 0) a job on its own, as submitted. */
    public Job(long id, String name, String account, String member, int gpusPerNode, int nodes,
               String gpuModel, long walltimeSeconds, String command, int priority, boolean crossSite,
               JobState state, long submittedAt, long finishedAt, List<Attempt> attempts, boolean noPreempt,
               String purpose, long arrayId, int arrayIndex) {
        this(id, name, account, member, gpusPerNode, nodes, gpuModel, walltimeSeconds, command, priority, crossSite,
                state, submittedAt, finishedAt, attempts, noPreempt, purpose, arrayId, arrayIndex, "");
    }

    /** A job on its own, not a task of an array. */
    public Job(long id, String name, String account, String member, int gpusPerNode, int nodes,
               String gpuModel, long walltimeSeconds, String command, int priority, boolean crossSite,
               JobState state, long submittedAt, long finishedAt, List<Attempt> attempts, boolean noPreempt,
               String purpose) {
        this(id, name, account, member, gpusPerNode, nodes, gpuModel, walltimeSeconds, command, priority, crossSite,
                state, submittedAt, finishedAt, attempts, noPreempt, purpose, 0, 0, "");
    }

    /** Whether it is a task of a job array. */
    public boolean inArray() {
        return arrayId != 0;
    }

    public int gpus() {
        return gpusPerNode * nodes;
    }

    /** GPU models it accepts; empty for any. */
    public List<String> models() {
        return gpuModel.isEmpty() ? List.of() : List.of(gpuModel.split(","));
    }

    public Attempt current() {
        return attempts.isEmpty() ? null : attempts.get(attempts.size() - 1);
    }

    public int attemptNumber() {
        return attempts.size();
    }

    public Job to(JobState next, long now) {
        if (!state.canBecome(next)) {
            throw new IllegalStateException("job " + id + " cannot go from " + state + " to " + next);
        }
        return new Job(id, name, account, member, gpusPerNode, nodes, gpuModel, walltimeSeconds, command,
                priority, crossSite, next, submittedAt, next.isFinal() ? now : 0, attempts, noPreempt, purpose,
                arrayId, arrayIndex, endReason, stop, env, chdir, container, workdir, options);
    }

    /** The job cancelled by the scheduler itself, saying why ("cancelled: member frank was removed"). */
    public Job cancelled(long now, String reason) {
        Job j = to(JobState.CANCELLED, now);
        return new Job(id, name, account, member, gpusPerNode, nodes, gpuModel, walltimeSeconds, command,
                priority, crossSite, j.state(), submittedAt, j.finishedAt(), attempts, noPreempt, purpose, arrayId,
                arrayIndex, reason, stop, env, chdir, container, workdir, options);
    }

    /** The job with its stop terms, as submitted. */
    public Job withStop(StopTerms terms) {
        return new Job(id, name, account, member, gpusPerNode, nodes, gpuModel, walltimeSeconds, command,
                priority, crossSite, state, submittedAt, finishedAt, attempts, noPreempt, purpose, arrayId, arrayIndex,
                endReason, terms, env, chdir, container, workdir, options);
    }

    /** How many of its attempts ran out of walltime. */
    public int timeouts() {
        return (int) attempts.stream().filter(Attempt::isTimedOut).count();
    }

    public Job withAttempt(Attempt attempt) {
        // Attempts are numbered 1, 2, ... in order, so number - 1 is the position.
        List<Attempt> list = new ArrayList<>(attempts);
        if (attempt.number() <= list.size()) {
            list.set(attempt.number() - 1, attempt);
        } else {
            list.add(attempt);
        }
        return new Job(id, name, account, member, gpusPerNode, nodes, gpuModel, walltimeSeconds, command,
                priority, crossSite, state, submittedAt, finishedAt, list, noPreempt, purpose, arrayId, arrayIndex,
                endReason, stop, env, chdir, container, workdir, options);
    }

    /** The job with the environment and working folder its ranks get, as its checked request said. */
    public Job withWorkspace(Map<String, String> environment, String folder) {
        return new Job(id, name, account, member, gpusPerNode, nodes, gpuModel, walltimeSeconds, command, priority,
                crossSite, state, submittedAt, finishedAt, attempts, noPreempt, purpose, arrayId, arrayIndex, endReason,
                stop, environment, folder, container, workdir, options);
    }

    /** The job with the container its ranks run in, as its checked request said. */
    public Job withContainer(JobContainer image) {
        return new Job(id, name, account, member, gpusPerNode, nodes, gpuModel, walltimeSeconds, command, priority,
                crossSite, state, submittedAt, finishedAt, attempts, noPreempt, purpose, arrayId, arrayIndex, endReason,
                stop, env, chdir, image, workdir, options);
    }

    /** The job with the folder shipped with it, by its digest ("" for none). */
    public Job withWorkdir(String digest) {
        return new Job(id, name, account, member, gpusPerNode, nodes, gpuModel, walltimeSeconds, command, priority,
                crossSite, state, submittedAt, finishedAt, attempts, noPreempt, purpose, arrayId, arrayIndex, endReason,
                stop, env, chdir, container, digest, options);
    }

    /** The job with what it asked beyond its shape (dependencies, notifications, memory, output files). */
    public Job withOptions(JobOptions asked) {
        return new Job(id, name, account, member, gpusPerNode, nodes, gpuModel, walltimeSeconds, command, priority,
                crossSite, state, submittedAt, finishedAt, attempts, noPreempt, purpose, arrayId, arrayIndex, endReason,
                stop, env, chdir, container, workdir, asked);
    }
}
