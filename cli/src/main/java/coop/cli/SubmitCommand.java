package coop.cli;

import coop.v1.JobMount;
import coop.v1.SubmitRequest;
import coop.v1.SubmitResponse;
import java.time.Duration;
import java.util.List;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;
import picocli.CommandLine.Model.PositionalParamSpec;

/**
 * {@code coop submit}: queues a job and prints its id. Its picocli model is built in code
 * ({@link #model()}) rather than read from annotations, since a researcher's submit is a new JVM
 * each time (see {@link Main}); each option's value is read back from its spec.
 */
final class SubmitCommand extends ClientCommand {

    static final String NAME = "submit";

    private final OptionSpec account = OptionSpec.builder("--account").required(true).paramLabel("ACCOUNT")
            .type(String.class).description("Account charged for the GPU time; you must belong to it.").build();

    private final OptionSpec gpus = OptionSpec.builder("--gpus").required(true).paramLabel("N")
            .type(int.class).description("GPUs wanted on each node, all of one model (at least 1): --gpus 4 --nodes 2 "
                    + "is 8 GPUs.").build();

    private final OptionSpec gpuModel = OptionSpec.builder("--gpu-model").paramLabel("MODEL")
            .type(String.class).initialValue("")
            .description("GPU model wanted, e.g. A100, or several: A100,H100 (default: any).").build();

    private final OptionSpec nodes = OptionSpec.builder("--nodes").paramLabel("K").type(int.class).defaultValue("1")
            .description("Nodes wanted (at least 1); more than 1 makes a gang placed all or nothing (default: "
                    + "${DEFAULT-VALUE}).")
            .build();

    private final OptionSpec walltime = OptionSpec.builder("--walltime").paramLabel("DURATION")
            .type(Duration.class).converters(new Durations.Converter())
            .description("Longest run time: 90s, 30m, 1h30m, 2d or seconds (default: the policy's).").build();

    private final OptionSpec priority = OptionSpec.builder("--priority").paramLabel("P").type(int.class)
            .defaultValue("0")
            .description("Order within the account; higher runs first (default: ${DEFAULT-VALUE}).").build();

    private final OptionSpec name = OptionSpec.builder("--name").paramLabel("NAME").type(String.class)
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

    private final OptionSpec array = OptionSpec.builder("--array").paramLabel("INDICES").type(String.class)
            .initialValue("")
            .description("Submit a job array: one task per index, as in Slurm: 0-1999, 0-99:10 (every 10th), 1,5,7, "
                    + "or a mix (1-3,10). Indices are 0 to 999999; at most 10000 tasks, and each counts as a waiting job "
                    + "under the policy's max_pending_per_member.")
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

    private final OptionSpec chdir = OptionSpec.builder("--chdir").paramLabel("DIR").type(String.class)
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

    private final OptionSpec json = Models.flag("--json", "Print {\"job_id\": N} instead of text (with --array also "
            + "array_id and array_tasks; job_id is then the first task's).");

    private final PositionalParamSpec command = PositionalParamSpec.builder().arity("1..*").required(true)
            .paramLabel("CMD").type(List.class).auxiliaryTypes(String.class)
            .description("The command to run, after --.").build();

    private SubmitCommand() {
    }

    /** The model of a new submit command, the command its user object. */
    static CommandSpec model() {
        SubmitCommand submit = new SubmitCommand();
        CommandSpec spec = Models.clientCommand(submit, NAME, List.of(submit.account, submit.gpus, submit.gpuModel,
                        submit.nodes, submit.walltime, submit.priority, submit.name, submit.crossSite, submit.noPreempt,
                        submit.purpose, submit.array, submit.signal, submit.requeueOnTimeout, submit.chdir, submit.export,
                        submit.envFile, submit.container, submit.mount, submit.workdir, submit.json),
                "Queue a job: a shell command run with bash -c on each of its nodes.",
                "Put the command after --; its words are joined with spaces.",
                "Example: coop submit --account lab-a --gpus 4 --nodes 2 --walltime 2h -- python train.py --lr 3e-4",
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
        Duration limit = walltime.getValue();
        List<String> words = command.getValue();
        // The scheduler refuses these too; refused here, the error names the option the user typed.
        atLeastOne("--gpus", gpus.<Integer>getValue());
        atLeastOne("--nodes", nodes.<Integer>getValue());
        String folder = chdir.<String>getValue();
        if (!folder.isEmpty() && !folder.startsWith("/")) {
            throw new CliException("--chdir: '" + folder + "' must be an absolute path on the node (start with /)");
        }
        String image = container.<String>getValue();
        List<JobMount> mounts = new java.util.ArrayList<>();
        List<String> mountTexts = mount.getValue();
        for (String text : mountTexts == null ? List.<String>of() : mountTexts) {
            mounts.add(mount(text));
        }
        if (!mounts.isEmpty() && image.isEmpty()) {
            throw new CliException("--mount: needs --container IMAGE; a job's mounts go into its container");
        }
        java.util.Map<String, String> env = image.isEmpty()
                ? ExportedEnvironment.of(export.<String>getValue(), envFile.<java.nio.file.Path>getValue(), System.getenv())
                : ExportedEnvironment.forContainer(export.<String>getValue(), envFile.<java.nio.file.Path>getValue(),
                        System.getenv());
        SubmitRequest request = SubmitRequest.newBuilder()
                .setAccount(account.<String>getValue())
                .setGpusPerNode(gpus.<Integer>getValue())
                .setNodes(nodes.<Integer>getValue())
                .setGpuModel(gpuModel.<String>getValue())
                .setWalltimeSeconds(limit == null ? 0 : limit.toSeconds())
                .setCommand(String.join(" ", words))
                .setPriority(priority.<Integer>getValue())
                .setName(name.<String>getValue())
                .setCrossSite(crossSite.<Boolean>getValue())
                .setNoPreempt(noPreempt.<Boolean>getValue())
                .setPurpose(purpose.<String>getValue())
                .setArray(array.<String>getValue())
                .setSignal(signal.<String>getValue())
                .setRequeueOnTimeout(requeueOnTimeout.<Integer>getValue())
                .putAllEnv(env)
                .setChdir(folder)
                .setContainer(image)
                .addAllMounts(mounts)
                .build();
        SubmitResponse response;
        try (Client c = client.connect()) {
            java.nio.file.Path shipped = workdir.getValue();
            if (shipped != null) {
                request = request.toBuilder().setWorkdir(WorkdirUpload.ship(c, shipped, err())).build();
            }
            response = c.jobs().submit(request);
        }
        if (json.<Boolean>getValue()) {
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

    private static void atLeastOne(String option, int value) {
        if (value < 1) {
            throw new CliException(option + ": must be at least 1, got " + value);
        }
    }
}
