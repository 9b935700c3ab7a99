package coop.agent;

import java.io.BufferedReader;
import java.io.File;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStreamWriter;
import java.io.Writer;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;

/**
 * Starts ranks as operating-system processes and signals them. Each rank runs as
 * {@code setsid bash -c COMMAND} in {@code <workDir>/jobs/<job>.<attempt>.<rank>/} (a plain
 * command, such as {@code python train.py --lr 0.1}, as {@code setsid COMMAND}: bash would only
 * exec it, and each exec costs a process image and a dynamic link), with its
 * output in the files {@code stdout} and {@code stderr} there, so output survives the agent and
 * can be served later. Signals go to the whole process group, because a training script's
 * workers (data loaders, {@code torchrun} children) hold GPUs too. Signals go through one
 * long-lived helper shell that runs its builtin {@code kill} on request, so that stopping a rank
 * (and sweeping its group after every exit) costs a pipe round trip rather than a new process;
 * if the helper cannot be used, each signal runs {@code kill} as a process of its own.
 */
public final class ProcessLauncher implements AutoCloseable {

    /**
     * The signals the agent sends: a polite request to checkpoint and stop, then the hard stop, and
     * the ones a job may ask for ahead of its stop ({@code --signal}), by Linux's numbers.
     */
    public enum Signal {
        TERM(15),
        KILL(9),
        HUP(1),
        INT(2),
        QUIT(3),
        USR1(10),
        USR2(12),
        ALRM(14),
        CONT(18),
        URG(23),
        XCPU(24),
        WINCH(28);

        private final int number;

        Signal(int number) {
            this.number = number;
        }

        /** The signal number; a process killed by it exits with 128 plus this. */
        public int number() {
            return number;
        }
    }

    /**
     * A rank's working folder ({@code coop submit --chdir}) is not on this node, or not open to the
     * rank's user: the job's mistake, not the node's.
     */
    public static final class BadWorkingFolder extends JobMistake {
        BadWorkingFolder(String message) {
            super(message);
        }
    }

    /**
     * A rank cannot start for a reason of its job's own making, which its submitter reads in
     * {@code coop job}: not the node's fault, so the node is not suspected.
     */
    public static class JobMistake extends IOException {
        JobMistake(String message) {
            super(message);
        }
    }

    /**
     * The programs' search path every rank starts with, whatever the agent's own: the submitter's
     * environment may replace it, the agent's never reaches a rank.
     */
    public static final String BASE_PATH = "/usr/local/bin:/usr/bin:/bin";

    /** `kill` returns at once; a longer wait means something is badly wrong with the host. */
    private static final long KILL_COMMAND_TIMEOUT_SECONDS = 5;

    /**
     * Reads "SIGNAL PGID" lines and answers each with kill's status (0: delivered). It ends when its
     * input closes, so it does not outlive the JVM that started it.
     */
    private static final String SIGNALLER = "while read -r sig pgid; do kill -s \"$sig\" -- \"-$pgid\" 2>/dev/null; "
            + "echo $?; done";

    private final Path workDir;
    private final java.time.InstantSource clock;
    private final RankRecords records;
    private final Confinement confinement;
    /** The runtime's containers, under runc isolation; null otherwise. */
    private final Runc runc;
    /** The container runtime of container jobs ({@code --container-runtime}); null where the node runs none. */
    private final Podman podman;
    /** Ranks running in a container of {@link #podman}: signals to them go through the runtime. */
    private final java.util.Set<RankId> inContainers = java.util.concurrent.ConcurrentHashMap.newKeySet();
    /** The site's shared folder for checkpoints ({@code --checkpoint-root}); null to keep them under workDir. */
    private final Path checkpointRoot;
    /** Threads that wait for ranks' exits, one per running rank, reused. */
    private final java.util.concurrent.ExecutorService waiters = java.util.concurrent.Executors.newCachedThreadPool(
            task -> {
                Thread thread = new Thread(task, "coop-rank-exit");
                thread.setDaemon(true);
                return thread;
            });
    /** The helper shell and its pipes; guarded by {@code this}, started on the first signal. */
    private Process signaller;
    private Writer toSignaller;
    private BufferedReader fromSignaller;
    private boolean closed;

    /** @param workDir the agent's work directory; rank directories are created below it */
    public ProcessLauncher(Path workDir) {
        this(workDir, java.time.InstantSource.system());
    }

    /**
     * @param workDir the agent's work directory; rank directories and records are created below it
     * @param clock the time written in each rank's record
     */
    public ProcessLauncher(Path workDir, java.time.InstantSource clock) {
        this(workDir, clock, Confinement.none(), "node");
    }

    /**
     * @param workDir the agent's work directory; rank directories and records are created below it
     * @param clock the time written in each rank's record
     * @param confinement the users ranks run as and, under runc, their containers' limits
     * @param node the node's name, part of each container's id
     */
    public ProcessLauncher(Path workDir, java.time.InstantSource clock, Confinement confinement, String node) {
        this(workDir, clock, confinement, node, null);
    }

    /**
     * @param checkpointRoot the site's shared folder where each job keeps its checkpoints, the same
     *     on every node that has it; null to keep them under {@code workDir}
     */
    public ProcessLauncher(Path workDir, java.time.InstantSource clock, Confinement confinement, String node,
                           Path checkpointRoot) {
        this.checkpointRoot = checkpointRoot == null ? null : checkpointRoot.toAbsolutePath();
        this.workDir = Objects.requireNonNull(workDir, "workDir");
        this.clock = Objects.requireNonNull(clock, "clock");
        this.records = new RankRecords(workDir);
        this.confinement = Objects.requireNonNull(confinement, "confinement");
        this.runc = confinement.isolation() == Isolation.RUNC
                ? new Runc(confinement.runtime(), workDir.resolve("bundles"), node)
                : null;
        this.podman = confinement.containers() == null ? null
                : new Podman(confinement.containers(), workDir.resolve("containers"), node);
    }

    /** How ranks are confined on this node. */
    public Confinement confinement() {
        return confinement;
    }

    /** The node's records of the ranks it started. */
    public RankRecords records() {
        return records;
    }

    /**
     * Where a rank runs and keeps its output: {@code jobs/<job>.<attempt>.<rank>}, one folder
     * for each, side by side. One level rather than one per part: a short task of an array is a
     * job of its own, and every folder a start creates is an inode and a block to allocate (on
     * ext4 without a journal, after a scan past the inodes deleted in the last minutes), a good
     * part of what a short rank costs the node.
     */
    public Path rankDirectory(RankId rank) {
        return workDir.resolve("jobs").resolve(rank.jobId() + "." + rank.attempt() + "." + rank.rank());
    }

    /** Where agents before the one-level layout kept a rank: {@code jobs/<job>/<attempt>/rank-<rank>}. */
    private Path earlierRankDirectory(RankId rank) {
        return workDir.resolve("jobs").resolve(Long.toString(rank.jobId())).resolve(Integer.toString(rank.attempt()))
                .resolve("rank-" + rank.rank());
    }

    /**
     * The file the agent writes, before it signals a rank to stop, with one word saying why:
     * {@code walltime}, {@code preempted}, {@code cancelled}, {@code requeued} or {@code failed}. It
     * is in the rank's folder, and the rank finds it as {@code COOP_STOP_REASON_FILE}.
     */
    public Path stopReasonFile(RankId rank) {
        return rankDirectory(rank).resolve(STOP_REASON_FILE);
    }

    /** The name of {@link #stopReasonFile}. */
    public static final String STOP_REASON_FILE = "coop-stop-reason";

    /**
     * Where a job keeps its checkpoints: {@code <checkpoint root>/<job>} on a node with a shared
     * root, the same folder for every attempt on every node that has that root, so a job requeued
     * onto another node of the site resumes from what its last attempt saved; else
     * {@code <workDir>/checkpoints/<job>}, the same for every attempt on this node only.
     */
    public Path checkpointDirectory(long jobId) {
        Path root = checkpointRoot != null ? checkpointRoot : workDir.resolve("checkpoints");
        return root.resolve(Long.toString(jobId));
    }

    /**
     * Starts the rank as the user its account maps to, in the order's working folder or else its
     * own. The environment is built from nothing, never the agent's own: a clean base ({@code PATH}
     * {@value #BASE_PATH}, {@code HOME}, {@code USER} and {@code LOGNAME} of the rank's user, and
     * {@code LANG}), then the submitter's variables, then coop's, which win: {@code
     * CUDA_VISIBLE_DEVICES} (empty when no GPU is given, so a CPU-only rank cannot wander onto
     * someone else's GPU), {@code COOP_JOB_ID}, {@code COOP_ATTEMPT}, {@code COOP_RANK} and {@code
     * COOP_CHECKPOINT_DIR} (created, and kept across attempts), and the order's own (the gang's).
     * The submitter's variables reach the rank only, never what runs as root before it becomes its
     * user (setsid, setpriv, runc): under runc they are in the container's spec; under setpriv a
     * shell reads them from its input once it is the rank's user. The rank's folders belong to
     * its user and are closed to everyone else. Under runc the rank
     * runs in a container of its own ({@link Runc}), its working folder mounted read-write;
     * otherwise in a process group of its own, switched to its user by {@code setpriv} when that is
     * not the agent's.
     *
     * @throws BadWorkingFolder if the order's working folder is not a folder on this node that its
     *     user may enter
     * @throws IOException if the directory cannot be created or the process cannot be started
     * @throws IllegalArgumentException if the node's {@code --run-as} map has no user for the account
     */
    public RankProcess start(LaunchOrder order) throws IOException {
        if (order.inContainer()) {
            return startInContainer(order);
        }
        LocalUser user = confinement.runAs().userFor(order.env().get("COOP_ACCOUNT"));
        boolean otherUser = user.uid() != confinement.runAs().agent().uid();
        Path dir = rankDirectory(order.rank());
        Path checkpoints = checkpointDirectory(order.rank().jobId());
        Path workingFolder = order.chdir().isEmpty() ? dir.toAbsolutePath() : Path.of(order.chdir());
        if (!order.chdir().isEmpty() && !Files.isDirectory(workingFolder)) {
            throw new BadWorkingFolder("working folder " + order.chdir() + " does not exist");
        }
        if (!order.chdir().isEmpty() && otherUser && !openTo(user, workingFolder)) {
            // The agent enters it, or mounts it, as root: without this, a folder below another
            // user's closed home would be open to whoever named it.
            throw new BadWorkingFolder("working folder " + order.chdir() + " is not open to user " + user.name());
        }
        if (runc != null && !order.chdir().isEmpty() && hostWide(workingFolder)) {
            // Mounted read-write into the container, it would undo what the container hides.
            throw new IOException("working folder " + order.chdir() + " cannot be mounted into the rank's container");
        }
        makeFolders(dir, checkpoints, user, otherUser);
        // From a JVM child, setsid is not a group leader, so it execs its command directly instead of
        // forking: the pid we get back is the new session's and group's id.
        ProcessBuilder builder = new ProcessBuilder("true")
                .directory(workingFolder.toFile())
                .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")))
                .redirectOutput(dir.resolve("stdout").toFile())
                .redirectError(dir.resolve("stderr").toFile());
        // Built apart: the submitter's variables may not reach what runs as root before the switch to
        // the rank's user (setsid, setpriv, runc), where LD_PRELOAD or LD_LIBRARY_PATH would run
        // their code as root. Those get the base and coop's variables only.
        Map<String, String> trusted = new java.util.LinkedHashMap<>();
        trusted.put("PATH", BASE_PATH);
        trusted.put("USER", user.name());
        trusted.put("LOGNAME", user.name());
        // Inside a container only the rank's own folders exist; outside, the user's home is theirs.
        trusted.put("HOME", runc != null ? dir.toAbsolutePath().toString() : user.home());
        trusted.put("LANG", System.getenv().getOrDefault("LANG", "C.UTF-8"));
        Map<String, String> coop = coopVariables(order, dir, checkpoints);
        Map<String, String> env = new java.util.LinkedHashMap<>(trusted);
        env.putAll(order.userEnv());
        env.putAll(coop);
        trusted.putAll(coop);
        List<String> words = plainWords(order.command(), env);
        List<String> argv = new java.util.ArrayList<>();
        if (words != null) {
            // What bash -c would have done with a plain command: exec it in place, with PWD set.
            argv.addAll(words);
            env.put("PWD", workingFolder.toString());
        } else {
            argv.addAll(List.of("bash", "-c", order.command()));
        }
        List<String> command = new java.util.ArrayList<>();
        command.add("setsid");
        byte[] afterSwitch = null;
        // The rank's memory limit under runc: per GPU, and one GPU's worth for a rank without any.
        long memory = order.memoryLimit(confinement.memoryPerGpuBytes() * Math.max(1, order.gpuIndices().size()));
        if (runc != null) {
            List<Path> readWrite = new java.util.ArrayList<>(List.of(dir.toAbsolutePath(), checkpoints.toAbsolutePath()));
            if (!order.chdir().isEmpty()) {
                // The folder it asked to start in, at the same path, as on the host.
                readWrite.add(workingFolder);
            }
            command.addAll(runc.prepare(new Runc.Spec(order.rank(), user, argv, Map.copyOf(env),
                    workingFolder, readWrite,
                    order.gpuIndices(), memory, confinement.pidsLimit(), confinement.mounts(),
                    confinement.deviceDir())));
            builder.environment().clear();
            builder.environment().putAll(trusted);
        } else if (otherUser) {
            command.addAll(List.of("setpriv", "--reuid=" + user.uid(), "--regid=" + user.gid(), "--init-groups", "--"));
            afterSwitch = onlyIn(env, trusted);
            if (afterSwitch.length > 0) {
                // Once it is the rank's user, a shell reads the rest from its input and execs the rank.
                command.addAll(List.of("bash", "-c", EXPORT_THEN_EXEC, "coop-env"));
                builder.redirectInput(ProcessBuilder.Redirect.PIPE);
            }
            command.addAll(argv);
            builder.environment().clear();
            builder.environment().putAll(trusted);
        } else {
            // The agent's own user: nothing here runs with more rights than the rank itself.
            command.addAll(argv);
            builder.environment().clear();
            builder.environment().putAll(env);
        }
        builder.command(command);
        Process process = builder.start();
        if (afterSwitch != null && afterSwitch.length > 0) {
            try (java.io.OutputStream input = process.getOutputStream()) {
                input.write(afterSwitch);
            } catch (IOException e) {
                // The shell is gone before it read them: the rank's exit and stderr say why.
            }
        }
        record(order, process);
        RankProcess.AfterExit after = runc == null ? code -> java.util.Optional.empty()
                : code -> runc.finish(order.rank(), code, memory, confinement.pidsLimit());
        return new RankProcess(order.rank(), process, dir, waiters, after);
    }

    /**
     * Starts a container job's rank through the node's container runtime ({@link Podman}): in its
     * image, as the user its account maps to, in the order's working folder inside the container
     * (else its own folder, mounted at the same path as its checkpoint folder), with the job's
     * mounts if each lies under a folder the operator allows. The variables are as for a bare rank
     * but for {@code PATH}, which is the image's unless the submitter sent one.
     *
     * @throws JobMistake if the node runs no container runtime, a mount is not allowed here or its
     *     folder does not exist, or (where images are never pulled) the image is not on the node
     */
    private RankProcess startInContainer(LaunchOrder order) throws IOException {
        if (podman == null) {
            throw new JobMistake("container jobs cannot run: the node runs no container runtime");
        }
        LocalUser user = confinement.runAs().userFor(order.env().get("COOP_ACCOUNT"));
        List<Confinement.Mount> mounts = new java.util.ArrayList<>(confinement.mounts());
        for (Confinement.Mount m : order.container().mounts()) {
            try {
                if (!podman.allows(m.source())) {
                    throw new JobMistake("mount " + m.source() + " is not under a folder the node allows (--allow-mount "
                            + podman.settings().allowedMounts().stream().map(Path::toString)
                            .collect(Collectors.joining(",")) + ")");
                }
            } catch (JobMistake e) {
                throw e;
            } catch (IOException e) {
                throw new JobMistake(e.getMessage());
            }
            mounts.add(m);
        }
        String image = order.container().image();
        if (podman.settings().pull().equals("never") && !podman.hasImage(image)) {
            throw new JobMistake("image " + image + " is not on the node (it pulls none: --container-pull never)");
        }
        Path dir = rankDirectory(order.rank());
        Path checkpoints = checkpointDirectory(order.rank().jobId());
        makeFolders(dir, checkpoints, user, user.uid() != confinement.runAs().agent().uid());
        Map<String, String> env = new java.util.LinkedHashMap<>();
        env.put("USER", user.name());
        env.put("LOGNAME", user.name());
        env.put("HOME", dir.toAbsolutePath().toString());
        env.put("LANG", System.getenv().getOrDefault("LANG", "C.UTF-8"));
        env.putAll(order.userEnv());
        env.putAll(coopVariables(order, dir, checkpoints));
        long memory = order.memoryLimit(confinement.memoryPerGpuBytes() * Math.max(1, order.gpuIndices().size()));
        String cwd = order.chdir().isEmpty() ? dir.toAbsolutePath().toString() : order.chdir();
        List<String> command = new java.util.ArrayList<>(List.of("setsid"));
        command.addAll(podman.prepare(new Podman.Spec(order.rank(), user, image, order.command(), env, cwd,
                List.of(dir.toAbsolutePath(), checkpoints.toAbsolutePath()), mounts, order.gpuIndices(),
                confinement.deviceDir(), memory, confinement.pidsLimit())));
        ProcessBuilder builder = new ProcessBuilder(command)
                .directory(dir.toFile())
                .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")))
                .redirectOutput(dir.resolve("stdout").toFile())
                .redirectError(dir.resolve("stderr").toFile());
        // The runtime runs as the agent: none of the job's variables reach it but through its file.
        builder.environment().clear();
        builder.environment().put("PATH", BASE_PATH + ":/usr/sbin:/sbin");
        builder.environment().put("HOME", confinement.runAs().agent().home());
        builder.environment().put("LANG", env.get("LANG"));
        inContainers.add(order.rank());
        Process process;
        try {
            process = builder.start();
        } catch (IOException e) {
            inContainers.remove(order.rank());
            podman.delete(order.rank());
            throw e;
        }
        record(order, process);
        RankProcess.AfterExit after = code -> {
            java.util.Optional<String> why = podman.finish(order.rank(), memory);
            inContainers.remove(order.rank());
            return why;
        };
        return new RankProcess(order.rank(), process, dir, waiters, after);
    }

    /**
     * Creates the rank's folder and its job's checkpoint folder; for a user other than the agent's,
     * both and the output files become theirs, closed to everyone else, and the names of other
     * jobs' folders may be listed by nobody but the agent.
     */
    private static void makeFolders(Path dir, Path checkpoints, LocalUser user, boolean otherUser) throws IOException {
        Files.createDirectories(dir);
        Files.createDirectories(checkpoints);
        if (otherUser) {
            Folders.restrict(dir.getParent(), "rwx--x--x", -1, -1);
            Folders.restrict(dir, "rwx------", user.uid(), user.gid());
            Folders.restrict(checkpoints, "rwx------", user.uid(), user.gid());
            for (String output : List.of("stdout", "stderr")) {
                Folders.ownedFile(dir.resolve(output), user.uid(), user.gid());
            }
        }
    }

    /**
     * Records the started rank under the work directory. Unrecorded, the rank would be invisible
     * to the next agent if this one died: it is killed instead, and the start fails.
     */
    private void record(LaunchOrder order, Process process) throws IOException {
        long leaderStartMs = process.info().startInstant().map(java.time.Instant::toEpochMilli).orElse(0L);
        try {
            records.started(new RankRecords.Record(order.rank(), process.pid(), leaderStartMs, order.gpuIndices(),
                    clock.millis(), 0, ""));
        } catch (IOException e) {
            stop(order.rank(), process.pid(), Signal.KILL);
            throw new IOException("cannot record " + order.rank() + " under " + workDir.resolve("running") + ": " + e, e);
        }
    }

    /** What coop tells every rank, winning over the submitter's: its GPUs, job, attempt, rank and folders, and the gang's. */
    private static Map<String, String> coopVariables(LaunchOrder order, Path dir, Path checkpoints) {
        Map<String, String> coop = new java.util.LinkedHashMap<>();
        coop.put("CUDA_VISIBLE_DEVICES",
                order.gpuIndices().stream().map(String::valueOf).collect(Collectors.joining(",")));
        coop.put("COOP_JOB_ID", Long.toString(order.rank().jobId()));
        coop.put("COOP_ATTEMPT", Integer.toString(order.rank().attempt()));
        coop.put("COOP_RANK", Integer.toString(order.rank().rank()));
        coop.put("COOP_CHECKPOINT_DIR", checkpoints.toString());
        coop.put("COOP_STOP_REASON_FILE", dir.resolve(STOP_REASON_FILE).toAbsolutePath().toString());
        coop.putAll(order.env());
        return coop;
    }

    /**
     * Reads NUL-terminated NAME=VALUE entries from its input, exports each, and execs its arguments
     * with /dev/null as input, as every rank has.
     */
    private static final String EXPORT_THEN_EXEC = "while IFS= read -r -d '' kv; do export \"$kv\"; done; "
            + "exec \"$@\" </dev/null";

    /** The entries of {@code env} that {@code base} lacks or holds otherwise, NUL-terminated, in UTF-8. */
    private static byte[] onlyIn(Map<String, String> env, Map<String, String> base) {
        StringBuilder out = new StringBuilder();
        env.forEach((k, v) -> {
            if (!v.equals(base.get(k))) {
                out.append(k).append('=').append(v).append('\0');
            }
        });
        return out.toString().getBytes(StandardCharsets.UTF_8);
    }

    /** Whether {@code user} may enter the folder and list it, as the kernel decides (ACLs included). */
    private static boolean openTo(LocalUser user, Path folder) throws IOException {
        Process test = new ProcessBuilder("setpriv", "--reuid=" + user.uid(), "--regid=" + user.gid(), "--init-groups",
                "--", "test", "-x", folder.toString(), "-a", "-r", folder.toString())
                .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")))
                .redirectOutput(ProcessBuilder.Redirect.DISCARD).redirectError(ProcessBuilder.Redirect.DISCARD)
                .start();
        try {
            if (!test.waitFor(KILL_COMMAND_TIMEOUT_SECONDS, TimeUnit.SECONDS)) {
                test.destroyForcibly();
                throw new IOException("cannot tell whether " + folder + " is open to " + user.name()
                        + ": the check took over " + KILL_COMMAND_TIMEOUT_SECONDS + " s");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while checking " + folder, e);
        }
        return test.exitValue() == 0;
    }

    /** The root and the kernel's own folders: what no rank's container may have mounted read-write. */
    private static boolean hostWide(Path folder) {
        Path f = folder.normalize();
        return f.getNameCount() == 0 || List.of("proc", "sys", "dev").contains(f.getName(0).toString());
    }

    /**
     * The user the order's rank runs as, where that is not the agent's own (who then unpacks the
     * job's shipped folder for it); null where it is.
     *
     * @throws IllegalArgumentException if the node's {@code --run-as} map has no user for the account
     */
    public LocalUser otherUserOf(LaunchOrder order) {
        LocalUser user = confinement.runAs().userFor(order.env().get("COOP_ACCOUNT"));
        return user.uid() == confinement.runAs().agent().uid() ? null : user;
    }

    /**
     * The name of the user the order's rank runs as, for the operator's prolog and epilog
     * ({@code COOP_JOB_USER}); the agent's own where the map has none for its account.
     */
    public String userOf(LaunchOrder order) {
        try {
            return confinement.runAs().userFor(order.env().get("COOP_ACCOUNT")).name();
        } catch (IllegalArgumentException e) {
            return confinement.runAs().agent().name();
        }
    }

    /**
     * Sends a signal to everything the rank runs: its container's processes under runc, else its
     * process group.
     *
     * @return whether it was delivered; false when nothing of the rank is left
     */
    public boolean stop(RankId rank, long pgid, Signal signal) {
        if (inContainers.contains(rank)) {
            // The runtime's foreground process passes signals to the container's first process alone.
            return podman.signal(rank, signal) || signalGroup(pgid, signal);
        }
        if (runc != null && runc.signal(rank, signal)) {
            return true;
        }
        // Without a container, or before runc made it: the process group (runc itself, here).
        return signalGroup(pgid, signal);
    }

    /**
     * Adds a rank's end to its record ({@code how}: "exited 0", "killed 143", ...) and files the
     * record in the rank's folder.
     */
    public void recordEnd(RankId rank, long endedAtMs, String how) throws IOException {
        records.ended(rank, rankDirectory(rank), endedAtMs, how);
    }

    /**
     * Stops whatever an earlier agent on this work directory left running: for each rank whose
     * record says it never ended, SIGTERM to its process group, up to {@code grace} for the group
     * to empty, then SIGKILL; the record then says it was stopped. A group whose leader's pid now
     * belongs to a process that started at another time is not ours (Linux does not hand out a
     * pid that is still some group's id, so our group is gone) and is left alone.
     *
     * @return the records of the ranks that were found, with their ends
     */
    public List<RankRecords.Record> stopLeftovers(java.time.Duration grace) throws IOException {
        List<RankRecords.Record> found = records.unfinished();
        List<RankRecords.Record> ours = new java.util.ArrayList<>();
        for (RankRecords.Record r : found) {
            java.util.Optional<ProcessHandle> leader = ProcessHandle.of(r.pgid());
            long startMs = leader.flatMap(h -> h.info().startInstant()).map(java.time.Instant::toEpochMilli).orElse(0L);
            boolean reused = leader.isPresent() && (r.leaderStartMs() == 0 || startMs != r.leaderStartMs());
            if (!reused && r.pgid() > 1 && signalGroup(r.pgid(), Signal.TERM)) {
                ours.add(r);
            } else {
                recordEnd(r.rank(), clock.millis(), "gone before the agent restarted");
            }
        }
        long deadline = System.nanoTime() + grace.toNanos();
        for (RankRecords.Record r : ours) {
            awaitGone(r.pgid(), deadline);
        }
        List<RankRecords.Record> stopped = new java.util.ArrayList<>();
        for (RankRecords.Record r : ours) {
            String how = "stopped: agent restarted";
            if (groupExists(r.pgid())) {
                signalGroup(r.pgid(), Signal.KILL);
                awaitGone(r.pgid(), System.nanoTime() + java.time.Duration.ofSeconds(2).toNanos());
                how = "killed: agent restarted";
            }
            long at = clock.millis();
            recordEnd(r.rank(), at, how);
            stopped.add(r.endedAt(at, how));
        }
        if (runc != null) {
            // runc's own process got the signals; its container, if it outlived it, goes with its cgroup.
            found.forEach(r -> runc.delete(r.rank()));
        }
        if (podman != null) {
            // The runtime's foreground process got the signals, not always its container: that goes now.
            podman.deleteLeftovers();
        }
        return stopped;
    }

    /** Polls until the group is empty or {@code deadlineNanos} ({@link System#nanoTime()}) passes. */
    private void awaitGone(long pgid, long deadlineNanos) {
        while (groupExists(pgid) && System.nanoTime() < deadlineNanos) {
            try {
                Thread.sleep(20);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
    }

    /** Whether any process is left in the group ({@code kill -0}). */
    public boolean groupExists(long pgid) {
        if (pgid <= 1) {
            throw new IllegalArgumentException("refusing to probe process group " + pgid);
        }
        Boolean exists = signalThroughHelper(pgid, "0");
        return exists != null ? exists : signalWithProcess(pgid, "0");
    }

    /** Bash builtins and keywords: a command naming one must run in bash. */
    private static final java.util.Set<String> SHELL_WORDS = java.util.Set.of(
            ".", ":", "[", "alias", "bg", "bind", "break", "builtin", "caller", "cd", "command", "compgen",
            "complete", "compopt", "continue", "declare", "dirs", "disown", "echo", "enable", "eval", "exec",
            "exit", "export", "fc", "fg", "getopts", "hash", "help", "history", "jobs", "kill", "let",
            "local", "logout", "mapfile", "popd", "printf", "pushd", "pwd", "read", "readarray", "readonly",
            "return", "set", "shift", "shopt", "source", "suspend", "test", "times", "trap", "type",
            "typeset", "ulimit", "umask", "unalias", "unset", "wait",
            "if", "then", "else", "elif", "fi", "case", "esac", "for", "select", "while", "until", "do",
            "done", "in", "function", "time", "coproc");

    /**
     * The words of a command that bash would run by exec'ing it in place: words of letters,
     * digits and {@code _@%+=:,./-} separated by single spaces, so nothing in it is expanded,
     * quoted, redirected or chained, naming a program rather than a builtin, keyword or variable
     * assignment ({@code true} and {@code false}, builtins that behave exactly as the programs do,
     * count as programs). Null for anything else, and whenever the environment could change what
     * bash would do ({@code BASH_ENV}, exported functions); such commands run in bash.
     */
    static List<String> plainWords(String command, Map<String, String> env) {
        if (command.isEmpty() || command.length() > 4096) {
            return null;
        }
        for (int i = 0; i < command.length(); i++) {
            char c = command.charAt(i);
            boolean plain = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
                    || "_@%+=:,./-".indexOf(c) >= 0
                    || (c == ' ' && i > 0 && i < command.length() - 1 && command.charAt(i - 1) != ' ');
            if (!plain) {
                return null;
            }
        }
        List<String> words = List.of(command.split(" "));
        String program = words.get(0);
        if (program.indexOf('=') >= 0 || program.startsWith("-") || program.startsWith("%")
                || SHELL_WORDS.contains(program)) {
            return null;
        }
        for (String name : env.keySet()) {
            if (name.equals("BASH_ENV") || name.startsWith("BASH_FUNC_")) {
                return null;
            }
        }
        return words;
    }

    /**
     * Sends a signal to the rank's leading process alone (Slurm's {@code --signal B:}): its
     * container's first process under runc, else the shell or program the rank started as.
     *
     * @return whether it was delivered
     */
    public boolean signalShell(RankId rank, long pid, Signal signal) {
        if (inContainers.contains(rank) && podman.signalFirst(rank, signal)) {
            return true;
        }
        if (runc != null && runc.signalFirst(rank, signal)) {
            return true;
        }
        if (pid <= 1) {
            throw new IllegalArgumentException("refusing to signal process " + pid);
        }
        return signalWithProcess(List.of("kill", "-s", signal.name(), "--", Long.toString(pid)));
    }

    /**
     * Sends a signal to every process in the group, through {@code kill -SIG -- -PGID} since the
     * JDK can signal only single processes.
     *
     * @return whether the signal was delivered; false when no process is left in the group
     */
    public boolean signalGroup(long pgid, Signal signal) {
        if (pgid <= 1) {
            // kill -- -1 would signal every process we may signal; never let a bad pid get that far.
            throw new IllegalArgumentException("refusing to signal process group " + pgid);
        }
        Boolean delivered = signalThroughHelper(pgid, signal.name());
        return delivered != null ? delivered : signalWithProcess(pgid, signal.name());
    }

    /** Null when the helper is not usable (it could not start, or died); the caller then forks kill. */
    private synchronized Boolean signalThroughHelper(long pgid, String signal) {
        for (int tries = 0; tries < 2 && !closed; tries++) {
            try {
                if (signaller == null || !signaller.isAlive()) {
                    startSignaller();
                }
                toSignaller.write(signal + " " + pgid + "\n");
                toSignaller.flush();
                String status = fromSignaller.readLine();
                if (status != null) {
                    return "0".equals(status.strip());
                }
            } catch (IOException e) {
                // Broken pipe: start a new helper once, then fall back.
            }
            stopSignaller();
        }
        return null;
    }

    private void startSignaller() throws IOException {
        stopSignaller();
        signaller = new ProcessBuilder("bash", "-c", SIGNALLER)
                .redirectError(ProcessBuilder.Redirect.DISCARD)
                .start();
        toSignaller = new OutputStreamWriter(signaller.getOutputStream(), StandardCharsets.US_ASCII);
        fromSignaller = new BufferedReader(new InputStreamReader(signaller.getInputStream(), StandardCharsets.US_ASCII));
    }

    private void stopSignaller() {
        if (signaller != null) {
            try {
                signaller.getOutputStream().close();
            } catch (IOException ignored) {
                // It is being stopped anyway.
            }
            signaller.destroy();
            signaller = null;
        }
    }

    /** Stops the signalling helper; later signals fork kill. */
    @Override
    public synchronized void close() {
        closed = true;
        stopSignaller();
        // Waiters still waiting finish when their ranks end; no new ones are needed.
        waiters.shutdown();
    }

    private boolean signalWithProcess(long pgid, String signal) {
        return signalWithProcess(List.of("kill", "-s", signal, "--", "-" + pgid));
    }

    private boolean signalWithProcess(List<String> command) {
        try {
            Process kill = new ProcessBuilder(command)
                    .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")))
                    .redirectOutput(ProcessBuilder.Redirect.DISCARD)
                    .redirectError(ProcessBuilder.Redirect.DISCARD)
                    .start();
            if (!kill.waitFor(KILL_COMMAND_TIMEOUT_SECONDS, TimeUnit.SECONDS)) {
                kill.destroyForcibly();
                return false;
            }
            return kill.exitValue() == 0;
        } catch (IOException e) {
            return false;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    /**
     * The last {@code maxBytes} of the rank's {@code stdout} and {@code stderr}.
     *
     * @throws NoSuchFileException if the rank never ran here (its directory does not exist)
     * @throws IOException if a file exists but cannot be read
     */
    public RankOutput tail(RankId rank, int maxBytes) throws IOException {
        return read(rank, 0, 0, maxBytes);
    }

    /**
     * Reads each of the rank's files from an offset: a positive offset returns the bytes from
     * there on (at most {@code maxBytes}, so a follower catches up in steps), 0 the file's last
     * {@code maxBytes}. An offset at or past the end returns no bytes at that offset.
     *
     * @throws NoSuchFileException if the rank never ran here (its directory does not exist)
     * @throws IOException if a file exists but cannot be read
     */
    public RankOutput read(RankId rank, long stdoutOffset, long stderrOffset, int maxBytes) throws IOException {
        if (maxBytes < 0) {
            throw new IllegalArgumentException("maxBytes must be >= 0, got " + maxBytes);
        }
        if (stdoutOffset < 0 || stderrOffset < 0) {
            throw new IllegalArgumentException("offsets must be >= 0, got " + stdoutOffset + " and " + stderrOffset);
        }
        Path dir = rankDirectory(rank);
        if (!Files.isDirectory(dir)) {
            // Output of ranks that ran under an agent from before the layout changed stays readable.
            Path earlier = earlierRankDirectory(rank);
            if (!Files.isDirectory(earlier)) {
                throw new NoSuchFileException(dir.toString());
            }
            dir = earlier;
        }
        return new RankOutput(sliceOf(dir.resolve("stdout"), stdoutOffset, maxBytes),
                sliceOf(dir.resolve("stderr"), stderrOffset, maxBytes));
    }

    private static RankOutput.Slice sliceOf(Path file, long offset, int maxBytes) throws IOException {
        if (!Files.exists(file)) {
            return new RankOutput.Slice(offset, new byte[0]);
        }
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ)) {
            // The file may still grow while we read; the size taken here bounds what we return,
            // and the next read picks up from where this one ends.
            long size = channel.size();
            long position = offset > 0 ? Math.min(offset, size) : Math.max(0, size - maxBytes);
            int length = (int) Math.min(size - position, maxBytes);
            ByteBuffer buffer = ByteBuffer.allocate(length);
            while (buffer.hasRemaining()) {
                int read = channel.read(buffer, position + buffer.position());
                if (read < 0) {
                    break;
                }
            }
            byte[] bytes = new byte[buffer.position()];
            buffer.flip().get(bytes);
            return new RankOutput.Slice(offset > 0 ? offset : position, bytes);
        }
    }
}
