package coop.scheduler.domain;

import java.nio.charset.StandardCharsets;
import java.util.Collections;
import java.util.Map;
import java.util.TreeMap;

/**
 * What a researcher asks for. {@code array}, when not empty, makes it a job array: one task per
 * index (see {@link ArraySpec}). {@link #checked} holds the rules each field must meet on its own;
 * who may submit, and how many jobs may wait, the engine decides. {@code env} and {@code chdir} are
 * the submitter's environment and working folder on the node ({@code coop submit --export},
 * {@code --chdir}); {@code container} the image its ranks run in and the host folders mounted into it. {@code workdir} names the packed folder shipped
 * with it ({@code coop submit --workdir}) by its sha256.
 */
public record JobSpec(String account, int gpusPerNode, int nodes, String gpuModel, long walltimeSeconds,
                      String command, int priority, String name, boolean crossSite, boolean noPreempt,
                      String purpose, String array, String signal, int requeueOnTimeout, Map<String, String> env,
                      String chdir, JobContainer container, String workdir, JobOptions options) {
    public static final int MAX_GPUS_PER_NODE = 64;
    public static final int MAX_NODES = 256;
    public static final int MAX_PRIORITY = 1000;
    public static final int MAX_COMMAND_BYTES = 64 * 1024;
    /** What a GPU model name must match, in a job's request and in a node's report alike. */
    public static final String GPU_MODEL = "[A-Za-z0-9][A-Za-z0-9._-]{0,31}";
    /** What the name of a variable in a job's environment must match, as POSIX shells take them. */
    public static final String ENV_NAME = "[A-Za-z_][A-Za-z0-9_]{0,255}";
    /** Longest value of one variable of a job's environment, in UTF-8 bytes. */
    public static final int MAX_ENV_VALUE_BYTES = 4 * 1024;
    /** Most bytes of a job's environment: each name, '=', value and NUL, as execve counts them. */
    public static final int MAX_ENV_BYTES = 64 * 1024;
    /** Longest working folder, in UTF-8 bytes (Linux's PATH_MAX). */
    public static final int MAX_CHDIR_BYTES = 4096;
    /** What a shipped folder's name must be: the sha256 of its packed bytes, in lowercase hex. */
    public static final String WORKDIR_DIGEST = "[0-9a-f]{64}";

    public JobSpec {
        options = options == null ? JobOptions.NONE : options;
    }

    /** A request without dependencies, notifications, a memory limit or output files. */
    public JobSpec(String account, int gpusPerNode, int nodes, String gpuModel, long walltimeSeconds,
                   String command, int priority, String name, boolean crossSite, boolean noPreempt,
                   String purpose, String array, String signal, int requeueOnTimeout, Map<String, String> env,
                   String chdir, JobContainer container, String workdir) {
        this(account, gpusPerNode, nodes, gpuModel, walltimeSeconds, command, priority, name, crossSite, noPreempt,
                purpose, array, signal, requeueOnTimeout, env, chdir, container, workdir, JobOptions.NONE);
    }

    /** The request with what it asks beyond its shape (dependencies, notifications, memory, output files). */
    public JobSpec withOptions(JobOptions asked) {
        return new JobSpec(account, gpusPerNode, nodes, gpuModel, walltimeSeconds, command, priority, name, crossSite,
                noPreempt, purpose, array, signal, requeueOnTimeout, env, chdir, container, workdir, asked);
    }

    /** A request without a container, shipping a folder ({@code workdir}, "" for none). */
    public JobSpec(String account, int gpusPerNode, int nodes, String gpuModel, long walltimeSeconds,
                   String command, int priority, String name, boolean crossSite, boolean noPreempt,
                   String purpose, String array, String signal, int requeueOnTimeout, Map<String, String> env,
                   String chdir, String workdir) {
        this(account, gpusPerNode, nodes, gpuModel, walltimeSeconds, command, priority, name, crossSite, noPreempt,
                purpose, array, signal, requeueOnTimeout, env, chdir, JobContainer.NONE, workdir);
    }

    /** A request in a container ({@link JobContainer#NONE} for none) that ships no folder. */
    public JobSpec(String account, int gpusPerNode, int nodes, String gpuModel, long walltimeSeconds,
                   String command, int priority, String name, boolean crossSite, boolean noPreempt,
                   String purpose, String array, String signal, int requeueOnTimeout, Map<String, String> env,
                   String chdir, JobContainer container) {
        this(account, gpusPerNode, nodes, gpuModel, walltimeSeconds, command, priority, name, crossSite, noPreempt,
                purpose, array, signal, requeueOnTimeout, env, chdir, container, "");
    }

    /** A request without stop terms (the default signal, no requeue on timeout), environment or folder. */
    public JobSpec(String account, int gpusPerNode, int nodes, String gpuModel, long walltimeSeconds,
                   String command, int priority, String name, boolean crossSite, boolean noPreempt,
                   String purpose, String array) {
        this(account, gpusPerNode, nodes, gpuModel, walltimeSeconds, command, priority, name, crossSite,
                noPreempt, purpose, array, "", 0, Map.of(), "", JobContainer.NONE);
    }

    /** A request without a container. */
    public JobSpec(String account, int gpusPerNode, int nodes, String gpuModel, long walltimeSeconds,
                   String command, int priority, String name, boolean crossSite, boolean noPreempt,
                   String purpose, String array, String signal, int requeueOnTimeout, Map<String, String> env,
                   String chdir) {
        this(account, gpusPerNode, nodes, gpuModel, walltimeSeconds, command, priority, name, crossSite,
                noPreempt, purpose, array, signal, requeueOnTimeout, env, chdir, JobContainer.NONE);
    }

    public JobSpec(String account, int gpusPerNode, int nodes, String gpuModel, long walltimeSeconds,
                   String command, int priority, String name, boolean crossSite, boolean noPreempt,
                   String purpose) {
        this(account, gpusPerNode, nodes, gpuModel, walltimeSeconds, command, priority, name, crossSite,
                noPreempt, purpose, "");
    }

    public JobSpec(String account, int gpusPerNode, int nodes, String gpuModel, long walltimeSeconds,
                   String command, int priority, String name, boolean crossSite, boolean noPreempt) {
        this(account, gpusPerNode, nodes, gpuModel, walltimeSeconds, command, priority, name, crossSite,
                noPreempt, "", "");
    }

    /**
     * A request whose fields each met their rule, with defaults filled in: the model list without
     * spaces, the walltime (the default, within the policy's maximum, when none was asked), name
     * and purpose never null, an array's indices ({@code null} for a single job), how the job is
     * warned before it stops and requeued when it times out, the environment sorted by name, the
     * working folder ("" for the rank's own) the container ({@link JobContainer#NONE} for none), the
     * shipped folder's digest ("" for none) and what it asks beyond its shape.
     */
    public record Checked(JobSpec spec, String gpuModel, long walltimeSeconds, String name, String purpose,
                          int[] indices, StopTerms stop, Map<String, String> env, String chdir,
                          JobContainer container, String workdir, JobOptions options) {
        public boolean isArray() {
            return indices != null;
        }

        public int gpus() {
            return spec.gpusPerNode() * spec.nodes();
        }
    }

    /**
     * Checks each field against its rule, in the order a caller reads the request; the first broken
     * rule is refused with INVALID_ARGUMENT naming the field.
     *
     * @param maxWalltimeS the live policy's {@code max_walltime_s}
     */
    public Checked checked(long maxWalltimeS) {
        if (gpusPerNode < 1 || gpusPerNode > MAX_GPUS_PER_NODE) {
            throw CoopException.invalid("gpus_per_node", "must be between 1 and " + MAX_GPUS_PER_NODE
                    + ", got " + gpusPerNode);
        }
        if (nodes < 1 || nodes > MAX_NODES) {
            throw CoopException.invalid("nodes", "must be between 1 and " + MAX_NODES + ", got " + nodes);
        }
        String model = gpuModel == null ? "" : gpuModel.replace(" ", "");
        if (!model.isEmpty() && !model.matches(GPU_MODEL + "(," + GPU_MODEL + "){0,7}")) {
            throw CoopException.invalid("gpu_model", "'" + abbreviated(model) + "' must be up to 8 comma-separated "
                    + "models, each matching " + GPU_MODEL);
        }
        long walltime = walltimeSeconds == 0 ? Math.min(Policy.DEFAULT_WALLTIME.toSeconds(), maxWalltimeS)
                : walltimeSeconds;
        if (walltime < 1 || walltime > maxWalltimeS) {
            throw CoopException.invalid("walltime_seconds", "must be between 1 and " + maxWalltimeS
                    + " (the policy's max_walltime_s), got " + walltimeSeconds);
        }
        if (command == null || command.isBlank()) {
            throw CoopException.invalid("command", "is required");
        }
        if (command.getBytes(StandardCharsets.UTF_8).length > MAX_COMMAND_BYTES) {
            throw CoopException.invalid("command", "must be at most 64 KiB (65536 bytes in UTF-8)");
        }
        if (command.indexOf('\0') >= 0) {
            throw CoopException.invalid("command", "must not contain NUL characters");
        }
        if (Math.abs(priority) > MAX_PRIORITY) {
            throw CoopException.invalid("priority", "must be between -1000 and 1000, got " + priority);
        }
        String jobName = name == null ? "" : name;
        if (jobName.length() > 128 || jobName.chars().anyMatch(Character::isISOControl)) {
            throw CoopException.invalid("name", "must be at most 128 printable characters");
        }
        String why = purpose == null ? "" : purpose;
        if (!why.isEmpty()) {
            Names.require("purpose", why);
        }
        int[] indices = array != null && !array.isEmpty() ? ArraySpec.parse(array) : null;
        int throttle = options.arrayMaxRunning();
        if (throttle < 0 || throttle > ArraySpec.MAX_TASKS) {
            throw CoopException.invalid("array_max_running", "must be between 0 (no limit) and " + ArraySpec.MAX_TASKS
                    + ", got " + throttle);
        }
        if (throttle > 0 && indices == null) {
            throw CoopException.invalid("array_max_running", "limits the tasks of an array, and this job is none");
        }
        // Its ids are checked against the jobs at submit, where they are known.
        Dependency.parse(options.dependency());
        StopTerms stop = StopTerms.parse(signal, requeueOnTimeout, walltime);
        Map<String, String> environment = checkedEnv(env);
        JobContainer image = container == null ? JobContainer.NONE
                : JobContainer.checked(container.image(), container.mounts());
        if (image.present()) {
            for (Map.Entry<String, String> e : environment.entrySet()) {
                if (e.getValue().indexOf('\n') >= 0 || e.getValue().indexOf('\r') >= 0) {
                    throw CoopException.invalid("env", "variable " + e.getKey() + ": in a container job each value "
                            + "must be one line, as the runtime's environment file takes them");
                }
            }
        }
        JobOptions asked = options.checkedFiles();
        if (image.present() && (!asked.output().isEmpty() || !asked.error().isEmpty())) {
            throw CoopException.invalid(asked.output().isEmpty() ? "error" : "output", "not with container: a "
                    + "container job's output is read with coop logs");
        }
        return new Checked(this, model, walltime, jobName, why, indices, stop, environment, checkedChdir(chdir), image,
                checkedWorkdir(workdir), asked);
    }

    /**
     * The environment, sorted by name, if each variable meets its rule. The bound is execve's way
     * of counting, so that what is accepted here fits any node's argument space with room to spare;
     * names starting with COOP_ are coop's own, which the agent sets and which would win anyway.
     */
    static Map<String, String> checkedEnv(Map<String, String> env) {
        if (env == null || env.isEmpty()) {
            return Map.of();
        }
        long total = 0;
        TreeMap<String, String> sorted = new TreeMap<>();
        // In name order, so that of several bad variables the same one is named each time.
        for (Map.Entry<String, String> e : new TreeMap<>(env).entrySet()) {
            String key = e.getKey();
            String value = e.getValue() == null ? "" : e.getValue();
            if (!key.matches(ENV_NAME)) {
                throw CoopException.invalid("env", "variable name '" + abbreviated(key) + "' must match " + ENV_NAME);
            }
            if (key.startsWith("COOP_")) {
                throw CoopException.invalid("env", "variable " + key + ": names starting with COOP_ are coop's own");
            }
            int bytes = value.getBytes(StandardCharsets.UTF_8).length;
            if (bytes > MAX_ENV_VALUE_BYTES) {
                throw CoopException.invalid("env", "variable " + key + ": value must be at most 4 KiB ("
                        + MAX_ENV_VALUE_BYTES + " bytes in UTF-8), got " + bytes);
            }
            if (value.indexOf('\0') >= 0) {
                throw CoopException.invalid("env", "variable " + key + ": value must not contain NUL characters");
            }
            total += key.length() + bytes + 2;
            sorted.put(key, value);
        }
        if (total > MAX_ENV_BYTES) {
            throw CoopException.invalid("env", "must be at most 64 KiB (" + MAX_ENV_BYTES
                    + " bytes of NAME=VALUE), got " + total);
        }
        return Collections.unmodifiableMap(sorted);
    }

    /** The working folder if it is absolute and fit to be one: a path on the node, never relative to anything. */
    static String checkedChdir(String chdir) {
        if (chdir == null || chdir.isEmpty()) {
            return "";
        }
        if (!chdir.startsWith("/")) {
            throw CoopException.invalid("chdir", "'" + abbreviated(chdir) + "' must be an absolute path (start with /)");
        }
        if (chdir.getBytes(StandardCharsets.UTF_8).length > MAX_CHDIR_BYTES
                || chdir.chars().anyMatch(Character::isISOControl)) {
            throw CoopException.invalid("chdir", "must be at most " + MAX_CHDIR_BYTES
                    + " bytes without control characters");
        }
        return chdir;
    }

    /**
     * The shipped folder's digest, if it has the form of one. Whether the scheduler holds it is not
     * this record's to know: the rpc edge checks that before the submit is queued.
     */
    public static String checkedWorkdir(String workdir) {
        if (workdir == null || workdir.isEmpty()) {
            return "";
        }
        if (!workdir.matches(WORKDIR_DIGEST)) {
            throw CoopException.invalid("workdir", "'" + abbreviated(workdir) + "' must be the sha256 of a stored "
                    + "folder, 64 lowercase hex characters");
        }
        return workdir;
    }

    /** A value echoed in a refusal, cut short so that a huge input does not make a huge message. */
    public static String abbreviated(String text) {
        if (text == null) {
            return "";
        }
        return text.length() <= 40 ? text : text.substring(0, 40) + "…";
    }
}
