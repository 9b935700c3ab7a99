package coop.cli;

import coop.v1.JobMount;
import coop.v1.SubmitRequest;
import coop.v1.SubmitResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import picocli.CommandLine;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;
import picocli.CommandLine.Model.PositionalParamSpec;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.ParseResult;
import picocli.CommandLine.TypeConversionException;

/**
 * {@code coop submit}: queues a job and prints its id. The job is a command, or a batch script
 * read as sbatch reads one ({@link BatchScript}): its {@code #SBATCH} and {@code #COOP} lines are
 * parsed, line by line, with this command's own options and converters, and the command line wins
 * over them. Its picocli model is built in code ({@link #model()}) rather than read from
 * annotations, since a researcher's submit is a new JVM each time (see {@link Main}); each option's
 * value is read back from its spec.
 */
final class SubmitCommand extends ClientCommand {

    static final String NAME = "submit";

    private final OptionSpec account = OptionSpec.builder("--account", "-A").paramLabel("ACCOUNT")
            .type(String.class).initialValue("")
            .description("Account charged for the GPU time; you must belong to it (required, here or in the "
                    + "script).").build();

    private final OptionSpec gpus = OptionSpec.builder("--gpus").paramLabel("N")
            .type(Integer.class).description("GPUs wanted on each node, all of one model (at least 1): --gpus 4 "
                    + "--nodes 2 is 8 GPUs. Required, here or in the script (where #SBATCH -G/--gpus counts the whole "
                    + "job's, as in Slurm).").build();

    private final OptionSpec gpuModel = OptionSpec.builder("--gpu-model").paramLabel("MODEL")
            .type(String.class).initialValue("")
            .description("GPU model wanted, e.g. A100, or several: A100,H100 (default: any).").build();

    private final OptionSpec nodes = OptionSpec.builder("--nodes", "-N").paramLabel("K").type(int.class)
            .defaultValue("1")
            .description("Nodes wanted (at least 1); more than 1 makes a gang placed all or nothing (default: "
                    + "${DEFAULT-VALUE}).")
            .build();

    private final OptionSpec walltime = OptionSpec.builder("--walltime", "-t", "--time").paramLabel("DURATION")
            .type(Duration.class).converters(new Durations.Converter())
            .description("Longest run time (default: the policy's). " + Durations.FORMS_HELP).build();

    private final OptionSpec priority = OptionSpec.builder("--priority").paramLabel("P").type(int.class)
            .defaultValue("0")
            .description("Order within the account; higher runs first (default: ${DEFAULT-VALUE}).").build();

    private final OptionSpec name = OptionSpec.builder("--name", "-J", "--job-name").paramLabel("NAME")
            .type(String.class)
            .initialValue("").description("A name to recognise the job by.").build();

    private final OptionSpec crossSite = Models.flag("--cross-site",
            "Allow the job's nodes to be at different sites.");

    private final OptionSpec noPreempt = Models.flag("--no-preempt",
            "Never preempt this job; it then runs only within the account's entitlement, never on borrowed GPUs.");

    private final OptionSpec purpose = OptionSpec.builder("--purpose").paramLabel("NAME").type(String.class)
            .initialValue("")
            .description("Declared purpose; the policy may send some purposes to a review panel before the job may "
                    + "run.")
            .build();

    private final OptionSpec array = OptionSpec.builder("--array").paramLabel("INDICES[%MAX]").type(String.class)
            .initialValue("").converters(new ArrayConverter())
            .description("Submit a job array: one task per index, as in Slurm: 0-1999, 0-99:10 (every 10th), 1,5,7, "
                    + "or a mix (1-3,10); %%MAX (0-99%%10) runs at most MAX tasks at once. Indices are 0 to 999999; at "
                    + "most 10000 tasks, and each counts as a waiting job under the policy's max_pending_per_member.")
            .build();

    private final OptionSpec signal = OptionSpec.builder("--signal").paramLabel("[B:]SIG@SECONDS").type(String.class)
            .initialValue("")
            .description("As in Slurm: send SIG (USR1, SIGUSR1 or 10) SECONDS (default 60) before the job is stopped, "
                    + "at its walltime or when it is preempted or cancelled; B: sends it to the rank's shell alone. "
                    + "Before it the file $COOP_STOP_REASON_FILE says why: walltime, preempted or cancelled "
                    + "(default: SIGTERM at the stop).")
            .build();

    private final OptionSpec requeueOnTimeout = OptionSpec.builder("--requeue-on-timeout").paramLabel("N")
            .type(int.class).defaultValue("0")
            .description("Run the job again, as a new attempt, when it reaches its walltime, up to N times, instead "
                    + "of ending TIMEOUT (default: ${DEFAULT-VALUE}).")
            .build();

    private final OptionSpec chdir = OptionSpec.builder("--chdir", "-D").paramLabel("DIR").type(String.class)
            .initialValue("")
            .description("Folder on the node each rank starts in, an absolute path (a shared file system's); a rank "
                    + "whose node lacks it fails at once. Default: the rank's own folder under the agent's work "
                    + "directory.")
            .build();

    private final OptionSpec export = OptionSpec.builder("--export").paramLabel("ALL|NONE|NAME[=VALUE],...")
            .type(String.class).initialValue("ALL")
            .description("The environment the ranks get on top of the node's clean base (PATH, HOME, USER, LOGNAME, "
                    + "LANG), as Slurm's --export: ALL (default) sends yours, NONE nothing, NAME,NAME=VALUE only "
                    + "those, ALL,NAME=VALUE yours and those. " + ExportedEnvironment.DENY_TEXT + ". At most 4 KiB "
                    + "a value, 64 KiB in all. COOP_* and CUDA_VISIBLE_DEVICES are coop's and win.")
            .build();

    private final OptionSpec envFile = OptionSpec.builder("--env-file").paramLabel("FILE").type(java.nio.file.Path.class)
            .description("Add the NAME=VALUE lines of FILE to the environment (# comments and blank lines skipped, "
                    + "values as written); they win over --export.")
            .build();

    private final OptionSpec container = OptionSpec.builder("--container").paramLabel("IMAGE").type(String.class)
            .initialValue("")
            .description("Run each rank in this container image (localhost/coop-bb:1, docker.io/pytorch/pytorch:2.5.1-"
                    + "cuda12.4-cudnn9-runtime), through the container runtime of a node that has one (agent "
                    + "--container-runtime), as the rank's user, with its GPUs and its folders. The command runs with "
                    + "the image's /bin/sh -c; --chdir is a folder inside the container; ALL does not send PATH or "
                    + "LD_LIBRARY_PATH, which are the image's.")
            .build();

    private final OptionSpec mount = OptionSpec.builder("--mount").paramLabel("SRC:DST[:ro]").type(List.class)
            .auxiliaryTypes(String.class)
            .description("Mount the node's folder SRC at DST in the container (read-write; :ro read-only). Only under "
                    + "folders the node's operator allows (agent --allow-mount); a job no node allows waits saying so, "
                    + "one no enrolled node could ever run is refused. Repeatable; needs --container.")
            .build();

    private final OptionSpec workdir = OptionSpec.builder("--workdir").paramLabel("DIR")
            .type(java.nio.file.Path.class)
            .description("Ship the folder DIR with the job: packed (less .git/ and what DIR's .coopignore, else its "
                    + ".gitignore, excludes; symbolic links are refused), stored once on the scheduler by its sha256 "
                    + "within the policy's max_workdir_bytes (64 MiB by default), and unpacked into each rank's own "
                    + "folder, $COOP_WORKDIR, before the command starts there. With --chdir the rank starts in that "
                    + "folder instead and finds the shipped one at $COOP_WORKDIR.")
            .build();

    private final OptionSpec output = OptionSpec.builder("--output", "-o").paramLabel("FILE").type(String.class)
            .initialValue("")
            .description("Also write each rank's standard output to FILE on its node, as Slurm's -o: %%j job id, %%A "
                    + "array id, %%a array index, %%x job name, %%t rank, %%N node, %%%% a %%; relative to the folder "
                    + "the rank starts in (default: the rank's own folder only; coop logs reads it either way).")
            .build();

    private final OptionSpec error = OptionSpec.builder("--error", "-e").paramLabel("FILE").type(String.class)
            .initialValue("")
            .description("As --output, for standard error (default: with the output when --output is given).").build();

    private final OptionSpec dependency = OptionSpec.builder("--dependency").paramLabel("TYPE:ID[:ID...][,...]")
            .type(String.class).initialValue("").converters(new DependencyConverter())
            .description("Start only once these hold, as Slurm's: afterok:ID (each ended SUCCEEDED), afterany:ID "
                    + "(each ended), afternotok:ID (each ended otherwise), singleton (no other unfinished job of "
                    + "yours with this name); several joined with commas must all hold. An ID is a job, an array "
                    + "task or a whole array: --dependency afterok:$(coop submit --parsable ...).")
            .build();

    private final OptionSpec notify = OptionSpec.builder("--notify", "--mail-type").paramLabel("EVENTS")
            .type(String.class).initialValue("")
            .description("Tell me of these events, as Slurm's --mail-type: BEGIN, END, FAIL, PREEMPT, REQUEUE, ALL or "
                    + "NONE, comma-separated (default: your member default).")
            .build();

    private final OptionSpec notifyTo = OptionSpec.builder("--notify-to", "--mail-user").paramLabel("URL|EMAIL")
            .type(String.class).initialValue("")
            .description("Where --notify's events go: an http(s) URL (a JSON POST) or an email address (default: your "
                    + "member default).")
            .build();

    private final OptionSpec mem = OptionSpec.builder("--mem").paramLabel("SIZE[K|M|G|T]").type(Long.class)
            .initialValue(0L).converters(new MemoryConverter())
            .description("Memory each rank may use on its node, as Slurm's --mem: 16G, 500M, or a number of MiB "
                    + "(default: what the node's operator gives).")
            .build();

    private final OptionSpec parsable = Models.flag("--parsable", "Print only the job's id (an array's id for an "
            + "array), as sbatch --parsable, for --dependency afterok:$(coop submit --parsable ...).");

    private final OptionSpec json = Models.flag("--json", "Print {\"job_id\": N} instead of text (with --array also "
            + "array_id and array_tasks; job_id is then the first task's).");

    private final PositionalParamSpec command = PositionalParamSpec.builder().arity("1..*").required(true)
            .paramLabel("CMD | SCRIPT [ARGS]").type(List.class).auxiliaryTypes(String.class)
            .description("The command to run, after --; or a batch script and its arguments.").build();

    /** Set in {@link #run()}: what the command line gave, and what the batch script's lines did (by option). */
    private ParseResult given;
    private final Map<String, Object> fromScript = new LinkedHashMap<>();
    private final Map<String, String> scriptLine = new LinkedHashMap<>();

    private SubmitCommand() {
    }

    private List<OptionSpec> options() {
        return List.of(account, gpus, gpuModel, nodes, walltime, priority, name, crossSite, noPreempt, purpose, array,
                signal, requeueOnTimeout, chdir, export, envFile, container, mount, workdir, output, error, dependency,
                notify, notifyTo, mem, parsable, json);
    }

    /**
     * The options a batch script's lines are parsed with: a submit's, without its command. A new
     * model, so that the lines' values never touch the command line's.
     */
    static CommandSpec scriptModel() {
        SubmitCommand submit = new SubmitCommand();
        return Models.clientCommand(submit, NAME, submit.options());
    }

    /** The model of a new submit command, the command its user object. */
    static CommandSpec model() {
        SubmitCommand submit = new SubmitCommand();
        CommandSpec spec = Models.clientCommand(submit, NAME, submit.options(),
                "Queue a job: a shell command run with bash -c on each of its nodes, or a batch script.",
                "Put the command after --; its words are joined with spaces.",
                "A batch script, as with sbatch: coop submit [OPTIONS] job.sh [ARGS...], where job.sh (with no -- "
                        + "before it) is a file whose first line is a shebang or which has #SBATCH or #COOP lines. "
                        + "Those before its first command are read: #COOP lines hold these options; #SBATCH lines "
                        + "-J/--job-name, -t/--time, --gres=gpu[:MODEL]:N and --gpus-per-node [MODEL:]N (per node), "
                        + "-G/--gpus [MODEL:]N (the whole job's, divided over its nodes), -N/--nodes, -a/--array (with "
                        + "%%MAX), -A/--account, -o/--output and -e/--error (%%j %%A %%a %%x %%t %%N %%%%), "
                        + "-d/--dependency, --mail-type, --mail-user, --signal, -D/--chdir (relative to here), "
                        + "--export and --mem. Other sbatch options are listed as ignored; options given here win "
                        + "over the script's. The script travels in the job (at most 64 KiB) and runs on every node "
                        + "of the job (no srun needed), with its shebang's interpreter (bash when none) and ARGS as "
                        + "$1..., in the folder coop starts a rank in, with SLURM_JOB_ID, SLURM_JOB_NAME, "
                        + "SLURM_ARRAY_JOB_ID, SLURM_ARRAY_TASK_ID, SLURM_NNODES, SLURM_NODEID, SLURM_PROCID, "
                        + "SLURM_GPUS_ON_NODE, SLURM_RESTART_COUNT and SLURM_SUBMIT_DIR (that folder) set from coop's "
                        + "own variables.",
                "Example: coop submit --account lab-a --gpus 4 --nodes 2 --walltime 2h -- python train.py --lr 3e-4",
                "  coop submit --parsable job.sh 3e-4     (job.sh: #SBATCH -A lab-a, #SBATCH --gres=gpu:a100:2, ...)",
                "With --array, one task per index, each a job of its own that finds its index in $COOP_ARRAY_INDEX:",
                "  coop submit --account lab-a --gpus 1 --array 0-99 -- python sweep.py --trial '$COOP_ARRAY_INDEX'",
                "In a container, with a dataset mounted read-only:",
                "  coop submit --account lab-a --gpus 1 --container docker.io/pytorch/pytorch:2.5.1-cuda12.4-cudnn9-runtime "
                        + "--mount /data/imagenet:/data:ro -- python train.py --data /data");
        spec.addPositional(submit.command);
        return spec;
    }

    @Override
    int run() {
        given = spec.commandLine().getParseResult();
        List<String> words = command.getValue();
        BatchScript script = null;
        if (!afterDoubleDash(given.originalArgs(), words) && BatchScript.names(words.get(0))) {
            script = BatchScript.read(Path.of(words.get(0)), words.get(0));
            readDirectives(script);
            for (String warning : script.warnings()) {
                err().println("warning: " + warning);
            }
        }
        if (parsable.<Boolean>getValue() && json.<Boolean>getValue()) {
            throw new CliException("--parsable and --json: choose one");
        }
        String accountName = value(account);
        if (accountName.isEmpty()) {
            throw new CliException("--account: required: the account charged for the GPU time (-A; #SBATCH -A in a "
                    + "script)");
        }
        // The scheduler refuses these too; refused here, the error names the option or line the user wrote.
        int nodeCount = value(nodes);
        atLeastOne("--nodes", nodeCount);
        int perNode = gpusPerNode(script, nodeCount);
        atLeastOne("--gpus", perNode);
        Duration limit = value(walltime);
        String folder = value(chdir);
        if (!folder.isEmpty() && !folder.startsWith("/")) {
            throw new CliException(where("--chdir") + ": '" + folder + "' must be an absolute path on the node (start "
                    + "with /)");
        }
        String image = value(container);
        List<JobMount> mounts = new ArrayList<>();
        List<String> mountTexts = value(mount);
        for (String text : mountTexts == null ? List.<String>of() : mountTexts) {
            mounts.add(mount(text));
        }
        if (!mounts.isEmpty() && image.isEmpty()) {
            throw new CliException("--mount: needs --container IMAGE; a job's mounts go into its container");
        }
        String exported = value(export);
        Path envFileValue = value(envFile);
        Map<String, String> env = image.isEmpty()
                ? ExportedEnvironment.of(exported, envFileValue, System.getenv())
                : ExportedEnvironment.forContainer(exported, envFileValue, System.getenv());
        String arrayText = value(array);
        int throttle = arrayText.indexOf('%');
        String indices = throttle < 0 ? arrayText : arrayText.substring(0, throttle);
        int maxRunning = throttle < 0 ? 0 : Integer.parseInt(arrayText.substring(throttle + 1));
        String commandText = script == null ? String.join(" ", words)
                : script.command(words.subList(1, words.size()), indices);
        SubmitRequest request = SubmitRequest.newBuilder()
                .setAccount(accountName)
                .setGpusPerNode(perNode)
                .setNodes(nodeCount)
                .setGpuModel(value(gpuModel))
                .setWalltimeSeconds(limit == null ? 0 : limit.toSeconds())
                .setCommand(commandText)
                .setPriority(value(priority))
                .setName(value(name))
                .setCrossSite(value(crossSite))
                .setNoPreempt(value(noPreempt))
                .setPurpose(value(purpose))
                .setArray(indices)
                .setArrayMaxRunning(maxRunning)
                .setSignal(value(signal))
                .setRequeueOnTimeout(value(requeueOnTimeout))
                .putAllEnv(env)
                .setChdir(folder)
                .setContainer(image)
                .addAllMounts(mounts)
                .setDependency(value(dependency))
                .setNotify(value(notify))
                .setNotifyTo(value(notifyTo))
                .setMemMb(value(mem))
                .setOutput(value(output))
                .setError(value(error))
                .build();
        SubmitResponse response;
        try (Client c = client.connect()) {
            Path shipped = value(workdir);
            if (shipped != null) {
                request = request.toBuilder().setWorkdir(WorkdirUpload.ship(c, shipped, err())).build();
            }
            response = c.jobs().submit(request);
        }
        if (value(parsable)) {
            out().println(response.getArrayId() != 0 ? response.getArrayId() : response.getJobId());
        } else if (value(json)) {
            var o = JsonOutput.object().put("job_id", response.getJobId());
            if (response.getArrayId() != 0) {
                o.put("array_id", response.getArrayId()).put("array_tasks", response.getArrayTasks());
            }
            JsonOutput.print(out(), o);
        } else if (response.getArrayId() != 0) {
            out().println("submitted job array " + response.getArrayId() + " (" + response.getArrayTasks()
                    + " tasks, jobs " + response.getJobId() + "-" + (response.getJobId() + response.getArrayTasks() - 1)
                    + ")");
        } else {
            out().println("submitted job " + response.getJobId());
        }
        return 0;
    }

    /**
     * Whether the command's words came after a {@code --}: then they are a command even when the
     * first names a file, as they always were.
     */
    static boolean afterDoubleDash(List<String> args, List<String> words) {
        int n = args.size();
        int k = words.size();
        return n > k && args.get(n - k - 1).equals("--") && args.subList(n - k, n).equals(words);
    }

    /**
     * Parses each directive of {@code script} with a submit's options, one line at a time so that a
     * refusal names its line; a later line wins over an earlier one, as in sbatch, and a repeated
     * list option (--mount) adds up.
     */
    private void readDirectives(BatchScript script) {
        CommandLine lines = new CommandLine(scriptModel());
        for (BatchScript.Directive d : script.directives()) {
            String where = script.file() + ":" + d.line() + ": " + d.text();
            ParseResult parsed;
            try {
                parsed = lines.parseArgs(d.options().toArray(new String[0]));
            } catch (ParameterException e) {
                Throwable cause = e.getCause();
                throw new CliException(where + ": " + (cause instanceof TypeConversionException
                        ? cause.getMessage() : e.getMessage()));
            }
            for (OptionSpec o : parsed.matchedOptions()) {
                if (o.usageHelp() || o.versionHelp() || SCRIPT_FREE.contains(o.longestName())) {
                    throw new CliException(where + ": " + o.longestName() + " belongs on the command line");
                }
                Object v = o.getValue();
                if (v instanceof List<?> list) {
                    List<Object> all = new ArrayList<>();
                    if (fromScript.get(o.longestName()) instanceof List<?> before) {
                        all.addAll(before);
                    }
                    all.addAll(list);
                    v = all;
                }
                fromScript.put(o.longestName(), v);
                scriptLine.put(o.longestName(), where);
            }
        }
    }

    /** Options a script may not set: how this call prints, not what the job is. */
    private static final Set<String> SCRIPT_FREE = Set.of("--parsable", "--json");

    /** The option's value: the command line's when given there, else the script's, else its default. */
    @SuppressWarnings("unchecked")
    private <T> T value(OptionSpec option) {
        String key = option.longestName();
        if (!given.hasMatchedOption(option) && fromScript.containsKey(key)) {
            return (T) fromScript.get(key);
        }
        return option.getValue();
    }

    /** What to name in a refusal of the option's value: the script's line when it came from there. */
    private String where(String option) {
        OptionSpec o = spec.findOption(option);
        return o != null && !given.hasMatchedOption(o) && scriptLine.containsKey(o.longestName())
                ? scriptLine.get(o.longestName()) : option;
    }

    /**
     * GPUs per node: the command line's --gpus; else the script's last word on it, which for
     * {@code #SBATCH -G N} is the whole job's N divided over its nodes (as Slurm, refused when it
     * does not divide, since coop gives every node of a job the same number).
     */
    private int gpusPerNode(BatchScript script, int nodeCount) {
        if (!given.hasMatchedOption(gpus) && script != null && script.jobGpus() != null) {
            BatchScript.JobGpus total = script.jobGpus();
            if (total.gpus() % nodeCount != 0) {
                throw new CliException(script.file() + ":" + total.line() + ": " + total.text() + ": " + total.gpus()
                        + " GPUs do not divide over " + nodeCount + " nodes; coop gives each node of a job the same "
                        + "number (--gres=gpu:N or --gpus-per-node N per node)");
            }
            return total.gpus() / nodeCount;
        }
        Integer n = value(gpus);
        if (n == null) {
            throw new CliException("--gpus: required: the GPUs wanted on each node (in a script #SBATCH --gres=gpu:N, "
                    + "--gpus-per-node N or -G N)");
        }
        return n;
    }

    /** {@code SRC:DST[:ro|rw]}, read-write unless {@code :ro}; the scheduler checks the paths themselves. */
    static JobMount mount(String text) {
        String[] parts = text.split(":", -1);
        boolean readOnly = false;
        int n = parts.length;
        if (n == 3 && (parts[2].equals("ro") || parts[2].equals("rw"))) {
            readOnly = parts[2].equals("ro");
            n = 2;
        }
        if (n != 2 || parts[0].isEmpty() || parts[1].isEmpty()) {
            throw new CliException("--mount: '" + text + "' is not SRC:DST[:ro] (two absolute paths)");
        }
        if (!parts[0].startsWith("/") || !parts[1].startsWith("/")) {
            throw new CliException("--mount: '" + text + "': SRC and DST must be absolute paths (start with /)");
        }
        return JobMount.newBuilder().setSource(parts[0]).setDestination(parts[1]).setReadOnly(readOnly).build();
    }

    private void atLeastOne(String option, int value) {
        if (value < 1) {
            throw new CliException(where(option) + ": must be at least 1, got " + value);
        }
    }

    /** Slurm's --mem: a size with K, M (the default), G or T, in MiB rounded up; 0 the node's default. */
    static final class MemoryConverter implements ITypeConverter<Long> {
        private static final java.util.regex.Pattern SIZE = java.util.regex.Pattern.compile("(\\d+)([KkMmGgTt]?)[Bb]?");

        @Override
        public Long convert(String value) {
            java.util.regex.Matcher m = SIZE.matcher(value.strip());
            if (!m.matches()) {
                throw new TypeConversionException("'" + value + "' is not a size; use for example 16G, 500M or a "
                        + "number of MiB, as Slurm's --mem");
            }
            try {
                long n = Long.parseLong(m.group(1));
                return switch (m.group(2).toUpperCase(java.util.Locale.ROOT)) {
                    case "K" -> (n + 1023) / 1024;
                    case "G" -> Math.multiplyExact(n, 1024L);
                    case "T" -> Math.multiplyExact(n, 1024L * 1024);
                    default -> n;
                };
            } catch (NumberFormatException | ArithmeticException e) {
                throw new TypeConversionException("'" + value + "' is too large a size");
            }
        }
    }

    /** An array's indices as sent, with Slurm's %MAX throttle checked here (the scheduler checks the indices). */
    static final class ArrayConverter implements ITypeConverter<String> {
        @Override
        public String convert(String value) {
            String v = value.strip();
            int percent = v.indexOf('%');
            if (percent >= 0) {
                String max = v.substring(percent + 1);
                if (percent == 0 || !max.matches("\\d{1,6}") || Integer.parseInt(max) < 1) {
                    throw new TypeConversionException("'" + value + "': write INDICES%MAX with MAX at least 1, as "
                            + "0-99%10");
                }
            }
            return v;
        }
    }

    /**
     * A dependency's types, checked here so that a script's line is named; the rest (its job ids,
     * whether they exist and may be seen) is the scheduler's to say.
     */
    static final class DependencyConverter implements ITypeConverter<String> {
        private static final Set<String> TYPES = Set.of("afterok", "afterany", "afternotok");

        @Override
        public String convert(String value) {
            String v = value.strip();
            if (v.isEmpty()) {
                return v;
            }
            if (v.contains("?")) {
                throw new TypeConversionException("'" + value + "': coop takes no ?-separated (any of) "
                        + "dependencies; conditions joined with , must all hold");
            }
            for (String item : v.split(",", -1)) {
                String type = item.contains(":") ? item.substring(0, item.indexOf(':')) : item;
                if (item.equals("singleton")) {
                    continue;
                }
                if (!TYPES.contains(type)) {
                    throw new TypeConversionException("unknown dependency type '" + type + "' (coop knows afterok, "
                            + "afterany, afternotok and singleton)");
                }
                if (item.length() == type.length() + 1 || !item.contains(":")) {
                    throw new TypeConversionException("'" + item + "' names no job: write " + type + ":ID[:ID...]");
                }
            }
            return v;
        }
    }
}
