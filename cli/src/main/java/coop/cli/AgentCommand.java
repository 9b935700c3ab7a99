package coop.cli;

import coop.agent.Agent;
import coop.agent.AgentConfig;
import coop.agent.Confinement;
import coop.agent.ContainerRuntime;
import coop.agent.GpuDevice;
import coop.agent.GpuSpec;
import coop.agent.GpuTelemetry;
import coop.agent.Isolation;
import coop.agent.LocalUser;
import coop.agent.NodeHooks;
import coop.agent.NvidiaSmi;
import coop.agent.RunAs;
import coop.agent.Sizes;
import coop.agent.UsageSampler;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.stream.Collectors;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code coop agent}: runs the node daemon until Ctrl-C. It reports this node's GPUs to the
 * scheduler and runs the ranks placed here; on shutdown it stops them (SIGTERM, then SIGKILL
 * after 5 s) so that no job outlives the agent that is accountable for it.
 */
@Command(name = "agent", mixinStandardHelpOptions = true,
        description = "Run the node agent: dial the scheduler, report this node's GPUs and run the jobs "
                + "placed on it until interrupted.")
public final class AgentCommand implements Callable<Integer> {

    @Option(names = "--identity", paramLabel = "FILE", required = true,
            description = "The node identity file from coop node enroll: the node's name, site and secret.")
    Path identity;

    @Option(names = "--scheduler", paramLabel = "HOST:PORT",
            description = "Scheduler to dial (default: the identity file's, else 127.0.0.1:7070).")
    String scheduler;

    @Option(names = "--gpus", paramLabel = "SPEC", required = true,
            description = "'auto' to ask nvidia-smi, or a simulated node such as sim:8xA100-80GB or "
                    + "sim:2xA100-80GB,2xL4-24GB.")
    String gpus;

    @Option(names = "--work-dir", paramLabel = "DIR",
            description = "Where jobs run and keep their output (default: <java.io.tmpdir>/coop-agent/<node>).")
    Path workDir;

    @Option(names = "--advertise-address", paramLabel = "HOST",
            description = "Address other nodes reach this one at, given to gangs as MASTER_ADDR when rank 0 runs "
                    + "here (default: the address the scheduler sees this agent connect from).")
    String advertiseAddress;

    @Option(names = "--run-as", paramLabel = "ACCOUNT=USER,...",
            description = "Local user each account's jobs run as, * for every other account, e.g. "
                    + "lab-a=coop-lab-a,*=coop-job. Needs an agent running as root. Default: the agent's own user, "
                    + "which root may only be with --allow-root-jobs.")
    String runAs;

    @Option(names = "--allow-root-jobs",
            description = "Let jobs run as root when the agent does and no --run-as map says otherwise.")
    boolean allowRootJobs;

    @Option(names = "--isolation", paramLabel = "runc|none",
            description = "runc: each rank in a container of its own (its GPUs' device nodes only, a memory and "
                    + "process limit, nothing outlives it); none: process groups, for development. "
                    + "Default: runc when the agent runs as root, else none.")
    String isolation;

    @Option(names = "--runtime", paramLabel = "PATH",
            description = "The OCI runtime for --isolation runc (default: runc on the PATH, /usr/sbin/runc).")
    Path runtime;

    @Option(names = "--mem-per-gpu", paramLabel = "SIZE",
            description = "Memory a rank may use per GPU it holds under runc, e.g. 64G (default: the node's memory "
                    + "divided by its GPUs).")
    String memPerGpu;

    @Option(names = "--pids-limit", paramLabel = "N", defaultValue = "4096",
            description = "Processes and threads a rank may have at once under runc (default: ${DEFAULT-VALUE}).")
    long pidsLimit;

    @Option(names = "--mount", paramLabel = "SRC[:DST][:ro|rw]",
            description = "A host folder every rank sees under runc (a shared file system, datasets); read-only "
                    + "unless :rw. Repeatable.")
    List<String> mounts = new java.util.ArrayList<>();

    @Option(names = "--gpu-device-dir", paramLabel = "DIR", defaultValue = "/dev", hidden = true,
            description = "Where the nvidia* device nodes are (default: /dev).")
    Path deviceDir;

    @Option(names = "--retain", paramLabel = "DURATION", defaultValue = "7d",
            description = "How long a job's output and folder stay on the node after it ends, e.g. 7d or 12h; "
                    + "'forever' keeps them (default: ${DEFAULT-VALUE}). "
                    + Durations.FORMS_HELP)
    String retain;
    @Option(names = "--health-check", paramLabel = "CMD",
            description = "A node health check (an NHC or DCGM script), run with bash -c at start, every "
                    + "--health-every and before each launch. A non-zero exit (or 60 s without one) drains the node "
                    + "with the script's first output line as the reason and refuses launches; a later zero exit "
                    + "lifts that drain (never an operator's).")
    String healthCheck;

    @Option(names = "--health-every", paramLabel = "DURATION",
            description = "How often --health-check runs (default: 5m). "
                    + Durations.FORMS_HELP)
    String healthEvery;

    @Option(names = "--prolog", paramLabel = "CMD",
            description = "Run with bash -c, as the agent's user, before each rank starts, with COOP_JOB_ID, "
                    + "COOP_ATTEMPT, COOP_RANK, COOP_JOB_USER, COOP_GPUS and COOP_JOB_DIR set. If it fails (non-zero "
                    + "exit or 60 s), the rank does not start, its job is requeued elsewhere and the node is drained.")
    String prolog;

    @Option(names = "--epilog", paramLabel = "CMD",
            description = "Run like --prolog after each rank ends; the rank's GPUs are released once it is done. "
                    + "If it fails, the node is drained.")
    String epilog;

    @Option(names = "--gpu-job-map", paramLabel = "DIR",
            description = "Keep one file per GPU in use here, named by its index and holding its job's id: give "
                    + "the same folder to dcgm-exporter --hpc-job-mapping-dir to get per-job GPU metrics.")
    Path gpuJobMap;

    @Option(names = "--checkpoint-root", paramLabel = "DIR",
            description = "A folder on the site's shared file system: each job's COOP_CHECKPOINT_DIR is then "
                    + "DIR/<job id>, the same for every attempt on every node given the same DIR, and a requeued job "
                    + "prefers this site's nodes. Give it to every node of the site, or to none. Default: "
                    + "<work dir>/checkpoints/<job id>, kept on this node only.")
    Path checkpointRoot;

    @Option(names = "--container-runtime", paramLabel = "podman|PATH",
            description = "Run container jobs (coop submit --container IMAGE) with this runtime: podman, found on the "
                    + "PATH, or its path. Each rank runs in its own container as its mapped user, with its GPUs' device "
                    + "nodes only. Default: none, and container jobs are not placed here.")
    String containerRuntime;

    @Option(names = "--allow-mount", paramLabel = "DIR[,DIR...]", split = ",",
            description = "Host folders under which container jobs may mount theirs (coop submit --mount SRC:DST); "
                    + "symbolic links are resolved before the check. Default: none.")
    List<Path> allowMounts = new java.util.ArrayList<>();

    @Option(names = "--container-pull", paramLabel = "never|missing|always|newer", defaultValue = "missing",
            description = "When the runtime pulls a job's image (default: ${DEFAULT-VALUE}, only images the node lacks).")
    String containerPull;

    @Option(names = "--print-systemd-unit",
            description = "Print a systemd unit that runs this agent with these options as a service, and exit.")
    boolean printUnit;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        NodeIdentity id = NodeIdentity.read(identity);
        if (printUnit) {
            spec.commandLine().getOut().print(systemdUnit(id));
            spec.commandLine().getOut().flush();
            return 0;
        }
        String node = id.node();
        String site = id.site();
        String target = scheduler != null ? scheduler : id.scheduler() != null ? id.scheduler() : "127.0.0.1:7070";
        List<GpuDevice> devices;
        AgentConfig config;
        GpuSpec gpuSpec;
        try {
            gpuSpec = GpuSpec.parse(gpus);
            devices = gpuSpec.resolve(NvidiaSmi.onSystemPath());
            Path dir = workDir != null
                    ? workDir
                    : Path.of(System.getProperty("java.io.tmpdir"), "coop-agent", node);
            config = new AgentConfig(target, node, site, devices, dir, Agent.version(), advertiseAddress, id.token(),
                    id.tls(), confinement(devices.size()),
                    retain.equals("forever") ? java.time.Duration.ZERO : Durations.option("--retain", retain),
                    nodeHooks(), checkpointRoot());
        } catch (IllegalArgumentException | IllegalStateException e) {
            // Both already name the option and what was expected.
            throw new CliException(e.getMessage(), e);
        }
        // Simulated GPUs report no usage: there is nothing true to say about them.
        GpuTelemetry telemetry = gpuSpec instanceof GpuSpec.Auto
                ? new UsageSampler(NvidiaSmi.onSystemPath(), devices, UsageSampler.DEFAULT_PERIOD,
                        UsageSampler.DEFAULT_TIMEOUT)
                : GpuTelemetry.NONE;
        Agent agent = Agent.create(config, telemetry);
        Runtime.getRuntime().addShutdownHook(new Thread(agent::close, "coop-agent-shutdown"));
        agent.start();
        System.err.printf("coop agent %s (site %s, %d GPUs) dialing scheduler %s (work dir: %s)%n"
                        + "isolation: %s%n",
                node, site, devices.size(), target, config.workDir(), config.confinement().describe());
        agent.awaitClosed();
        if (agent.failure().isPresent()) {
            throw new CliException("agent " + node + " stopped: " + agent.failure().get());
        }
        return 0;
    }

    /** The shared checkpoint folder, absolute, if it is a folder on this host; null without the flag. */
    Path checkpointRoot() {
        if (checkpointRoot == null) {
            return null;
        }
        Path root = checkpointRoot.toAbsolutePath().normalize();
        if (!java.nio.file.Files.isDirectory(root)) {
            throw new IllegalArgumentException("--checkpoint-root: " + root + " is not a folder on this host");
        }
        return root;
    }

    /** The operator's scripts and mapping folder, checked: each bad one is an error naming its flag. */
    NodeHooks nodeHooks() {
        if (healthEvery != null && healthCheck == null) {
            throw new IllegalArgumentException("--health-every needs --health-check");
        }
        Duration every = healthEvery == null ? null : Durations.option("--health-every", healthEvery);
        NodeHooks hooks = NodeHooks.of(healthCheck, every, prolog, epilog, gpuJobMap);
        hooks.check();
        return hooks;
    }

    /** A word of an ExecStart= line: quoted, with systemd's escapes, when it holds anything but plain characters. */
    private static String unitWord(String word) {
        if (word.matches("[A-Za-z0-9_@+=:,./-]+")) {
            return word;
        }
        return "\"" + word.replace("\\", "\\\\").replace("\"", "\\\"").replace("$", "$$").replace("%", "%%")
                + "\"";
    }

    /**
     * The users and limits ranks run with, from the flags, checked against this host: an unknown
     * user, a missing runtime, a root agent that was not told whom to run jobs as are each refused
     * here, before anything starts.
     */
    Confinement confinement(int gpus) {
        LocalUser agentUser = LocalUser.current();
        RunAs users = RunAs.parse(runAs, allowRootJobs, agentUser, LocalUser::lookup);
        Isolation mode = isolation != null ? Isolation.of(isolation)
                : agentUser.isRoot() ? Isolation.RUNC : Isolation.NONE;
        List<Confinement.Mount> shared = mounts.stream().map(Confinement.Mount::parse).toList();
        for (Confinement.Mount m : shared) {
            if (!java.nio.file.Files.isDirectory(m.source())) {
                throw new IllegalArgumentException("--mount: " + m.source() + " is not a folder on this host");
            }
        }
        if (mode == Isolation.NONE) {
            if (!shared.isEmpty()) {
                throw new IllegalArgumentException("--mount applies to --isolation runc; under none, ranks see the "
                        + "whole host");
            }
            return new Confinement(Isolation.NONE, null, users, 0, 0, List.of(), deviceDir).withContainers(containers());
        }
        if (!agentUser.isRoot()) {
            throw new IllegalArgumentException("--isolation runc needs an agent running as root (this one runs as "
                    + agentUser.name() + "); use --isolation none to run jobs as " + agentUser.name());
        }
        Path binary = runtime != null ? runtime : onPath("runc");
        if (binary == null || !java.nio.file.Files.isExecutable(binary)) {
            throw new IllegalArgumentException("--isolation runc: no runc runtime "
                    + (runtime != null ? "at " + runtime : "on the PATH") + " (apt install runc, or --runtime PATH; "
                    + "--isolation none runs jobs unconfined)");
        }
        long memory = memPerGpu != null ? Sizes.parse(memPerGpu, "--mem-per-gpu") : hostMemory() / Math.max(1, gpus);
        return new Confinement(Isolation.RUNC, binary, users, memory, pidsLimit, shared, deviceDir)
                .withContainers(containers());
    }

    /** The container runtime for container jobs, checked against this host; null without --container-runtime. */
    ContainerRuntime containers() {
        if (containerRuntime == null) {
            if (!allowMounts.isEmpty()) {
                throw new IllegalArgumentException("--allow-mount applies to container jobs: give --container-runtime");
            }
            return null;
        }
        if (!containerRuntime.equals("podman") && !Path.of(containerRuntime).getFileName().toString().equals("podman")) {
            throw new IllegalArgumentException("--container-runtime: '" + containerRuntime + "' is not supported; "
                    + "podman is (by name, or its path)");
        }
        Path binary = containerRuntime.contains("/") ? Path.of(containerRuntime) : onPath("podman");
        if (binary == null || !java.nio.file.Files.isExecutable(binary)) {
            throw new IllegalArgumentException("--container-runtime: no podman "
                    + (containerRuntime.contains("/") ? "at " + containerRuntime : "on the PATH") + " (apt install podman)");
        }
        List<Path> allowed = new java.util.ArrayList<>();
        for (Path p : allowMounts) {
            if (!p.isAbsolute()) {
                throw new IllegalArgumentException("--allow-mount: " + p + " must be an absolute path");
            }
            allowed.add(p.normalize());
        }
        return new ContainerRuntime(binary.toAbsolutePath(), allowed, containerPull);
    }

    private static Path onPath(String program) {
        String path = System.getenv().getOrDefault("PATH", "") + ":/usr/sbin:/usr/bin:/sbin:/bin";
        for (String folder : path.split(":")) {
            Path candidate = folder.isEmpty() ? null : Path.of(folder, program);
            if (candidate != null && java.nio.file.Files.isExecutable(candidate)) {
                return candidate;
            }
        }
        return null;
    }

    /** The host's memory, from /proc/meminfo. */
    private static long hostMemory() {
        long total = coop.agent.HostMemory.totalBytes();
        if (total == 0) {
            throw new IllegalArgumentException("--mem-per-gpu: cannot read this host's memory from /proc/meminfo; "
                    + "give it, e.g. --mem-per-gpu 64G");
        }
        return total;
    }

    /**
     * A unit that runs this same agent: the JVM and jar running now, absolute paths, hardened as
     * {@link SystemdUnit} says.
     */
    String systemdUnit(NodeIdentity id) {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        String jar;
        try {
            jar = Path.of(AgentCommand.class.getProtectionDomain().getCodeSource().getLocation().toURI()).toString();
        } catch (java.net.URISyntaxException | SecurityException e) {
            jar = "coop.jar";
        }
        StringBuilder exec = new StringBuilder(java + " -jar " + jar + " agent --identity "
                + identity.toAbsolutePath().normalize() + " --gpus " + gpus);
        if (scheduler != null) {
            exec.append(" --scheduler ").append(scheduler);
        }
        Path dir = workDir != null ? workDir.toAbsolutePath().normalize() : Path.of("/var/lib/coop-agent", id.node());
        exec.append(" --work-dir ").append(dir);
        if (advertiseAddress != null) {
            exec.append(" --advertise-address ").append(advertiseAddress);
        }
        String[][] hooks = {{"--health-check", healthCheck}, {"--health-every", healthEvery}, {"--prolog", prolog},
                {"--epilog", epilog}, {"--gpu-job-map", gpuJobMap == null ? null
                        : gpuJobMap.toAbsolutePath().normalize().toString()},
                {"--checkpoint-root", checkpointRoot == null ? null
                        : checkpointRoot.toAbsolutePath().normalize().toString()}};
        for (String[] flag : hooks) {
            if (flag[1] != null) {
                exec.append(' ').append(flag[0]).append(' ').append(unitWord(flag[1]));
            }
        }
        List<String[]> confinement = new java.util.ArrayList<>(List.of(new String[] {"--run-as", runAs},
                new String[] {"--isolation", isolation},
                new String[] {"--runtime", runtime == null ? null : runtime.toAbsolutePath().toString()},
                new String[] {"--mem-per-gpu", memPerGpu},
                new String[] {"--pids-limit", pidsLimit == Confinement.DEFAULT_PIDS_LIMIT ? null : Long.toString(pidsLimit)},
                new String[] {"--retain", retain.equals("7d") ? null : retain},
                new String[] {"--container-runtime", containerRuntime},
                new String[] {"--allow-mount", allowMounts.isEmpty() ? null : allowMounts.stream()
                        .map(p -> p.toAbsolutePath().normalize().toString()).collect(Collectors.joining(","))},
                new String[] {"--container-pull", containerPull.equals("missing") ? null : containerPull}));
        mounts.forEach(m -> confinement.add(new String[] {"--mount", m}));
        for (String[] flag : confinement) {
            if (flag[1] != null) {
                exec.append(' ').append(flag[0]).append(' ').append(unitWord(flag[1]));
            }
        }
        if (allowRootJobs) {
            exec.append(" --allow-root-jobs");
        }
        // Switching users and running runc need root; an agent that does neither runs as coop-agent.
        boolean needsRoot = runAs != null || allowRootJobs || "runc".equals(isolation) || containerRuntime != null;
        return SystemdUnit.forNode(id.node(), id.site(), exec.toString(), dir, needsRoot,
                checkpointRoot == null ? null : checkpointRoot.toAbsolutePath().normalize());
    }
}
