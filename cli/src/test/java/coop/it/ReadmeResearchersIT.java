package coop.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;
import static org.awaitility.Awaitility.await;

import coop.cli.Client;
import coop.cli.Identity;
import coop.v1.GetArrayRequest;
import coop.v1.GetJobRequest;
import coop.v1.Job;
import coop.v1.JobArray;
import coop.v1.JobState;
import coop.v1.ListJobsRequest;
import coop.v1.ListNodesRequest;
import coop.v1.LogsRequest;
import coop.v1.StateCount;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.EnumSet;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The README's "For researchers" section runs as written, so that an edit which breaks one of its
 * examples breaks the build. Every command line of that section's code blocks, read from
 * {@code README.md} itself (lines added later are run too), is run in order with {@code bash} in a
 * folder that plays the README's current directory: there the cooperative was founded with the
 * founding section's own {@code ./coop init} line, {@code ./coop} is a script that runs the jar
 * this build made through the checkout's launcher, and {@code train.py} and {@code sweep.py} are
 * small Python scripts that print their arguments and coop's variables. The commands see what a
 * researcher's machine has: {@code python} (and a stand-in {@code torchrun}, see
 * {@link #TORCHRUN}) on {@code PATH}, and {@code COOP_SCHEDULER} naming the local scheduler, which
 * listens on a free port rather than the README's 7070. A line runs as {@code eval} of its text in
 * {@code bash -c}, and what it exports is handed to the lines after it, as one terminal session
 * would ({@code export COOP_IDENTITY=...}).
 *
 * <p>One substitution is made in a line's text: the README's example job ids, 42 for a job and 41
 * for a job array (and 41_7 for a task of it), become the ids the earlier submits really returned,
 * 42 the first single job's and 41 the first array's. Before a line that names one, the test waits
 * until the job has ended, or the array has a task that succeeded, so that {@code coop logs 42}
 * has the script's whole output. A trial of {@code sweep.py} takes a second, so that the 100 of
 * them outlast the lines before {@code coop cancel 41}, which then has tasks to cancel (on a slow
 * machine it may find them all finished). {@code coop cancel} of a job that has ended exits 1 saying
 * "already ended"; for a cancel line that is the one exit other than 0 that passes, and only when
 * the job or array had indeed ended.
 *
 * <p>The cluster: two agents at one site, each with 4 simulated A100s (the examples ask for
 * {@code --gpu-model A100} and a gang of {@code --gpus 4 --nodes 2}), running ranks as in
 * development ({@link CoopProcesses#DEVELOPMENT}). The {@code --chdir /shared/ada/project} example
 * needs that folder on the node: the test creates it (CI runs as root) with {@code train.py} in it
 * and removes what it created; where it cannot, that one line is skipped with a message, or fails
 * the test under {@code COOP_REQUIRE_PREREQS=1}.
 */
class ReadmeResearchersIT {
    private static final Duration SOON = Duration.ofSeconds(30);
    private static final Duration LINE_PATIENCE = Duration.ofSeconds(60);
    private static final String SECTION = "For researchers";
    private static final Path SHARED_PROJECT = Path.of("/shared/ada/project");

    /**
     * Lines of the section that cannot run on a local cluster, by how their command starts, with
     * why. A line listed here is reported and not run; an entry that matches no line fails the
     * test, so that the list follows the README.
     */
    private static final Map<String, String> NOT_RUNNABLE_HERE = Map.of();

    /** README example ids: each names the job that the first submit of its kind returned. */
    private static final String EXAMPLE_JOB = "42";
    private static final String EXAMPLE_ARRAY = "41";
    private static final Pattern EXAMPLE_ID =
            Pattern.compile("(?<=\\s)(" + EXAMPLE_ARRAY + "|" + EXAMPLE_JOB + ")(_\\d+)?(?=\\s|$)");
    private static final Pattern SUBMITTED_JOB = Pattern.compile("^submitted job (\\d+)$", Pattern.MULTILINE);
    private static final Pattern SUBMITTED_ARRAY =
            Pattern.compile("^submitted job array (\\d+) \\((\\d+) tasks, jobs (\\d+)-(\\d+)\\)$", Pattern.MULTILINE);

    private static final String TRAIN_PY = """
            # A researcher's training script, as far as a test needs one: says what it was given and ends.
            import os
            import sys

            print("train.py args: " + " ".join(sys.argv[1:]))
            print("train.py cwd: " + os.getcwd())
            for name in sorted(os.environ):
                if name.startswith("COOP_") or name in ("CUDA_VISIBLE_DEVICES", "NODE_RANK", "NNODES", "WORLD_SIZE"):
                    print(name + "=" + os.environ[name])
            """;

    private static final String SWEEP_PY = """
            # One trial of a sweep: says which, and takes a moment, as a trial does.
            import os
            import sys
            import time

            print("sweep.py args: " + " ".join(sys.argv[1:]))
            print("COOP_ARRAY_JOB_ID=" + os.environ.get("COOP_ARRAY_JOB_ID", ""))
            print("COOP_ARRAY_INDEX=" + os.environ.get("COOP_ARRAY_INDEX", ""), flush=True)
            time.sleep(1)
            """;

    /**
     * A stand-in for PyTorch's {@code torchrun}, which these machines do not have: it reads
     * torchrun's options, refuses a node rank that is not a number or a node count other than the
     * gang's (so the README's {@code \$NODE_RANK} must reach the node unexpanded), and runs the
     * script with {@code python}, as torchrun's one worker per node would.
     */
    private static final String TORCHRUN = """
            #!/usr/bin/env bash
            # Stand-in for torchrun (no PyTorch here): checks the options coop's gang variables feed, runs the script.
            nnodes=1 node_rank=0
            while [ $# -gt 0 ]; do
              case "$1" in
                --nnodes) nnodes=$2; shift 2 ;;
                --nnodes=*) nnodes=${1#*=}; shift ;;
                --node-rank|--node_rank) node_rank=$2; shift 2 ;;
                --node-rank=*|--node_rank=*) node_rank=${1#*=}; shift ;;
                --nproc-per-node|--nproc_per_node|--master-addr|--master_addr|--master-port|--master_port) shift 2 ;;
                --rdzv-endpoint|--rdzv_endpoint|--rdzv-backend|--rdzv_backend|--rdzv-id|--rdzv_id) shift 2 ;;
                --standalone|--*=*) shift ;;
                --) shift; break ;;
                -*) echo "torchrun stand-in: option $1 not understood" >&2; exit 2 ;;
                *) break ;;
              esac
            done
            case "$node_rank" in
              ''|*[!0-9]*) echo "torchrun stand-in: node rank '$node_rank' is not a number" >&2; exit 2 ;;
            esac
            if [ "$nnodes" != "${NNODES:-}" ]; then
              echo "torchrun stand-in: --nnodes $nnodes but NNODES=${NNODES:-}" >&2; exit 2
            fi
            echo "torchrun stand-in: nnodes=$nnodes node_rank=$node_rank"
            exec python "$@"
            """;

    @TempDir
    Path dir;

    /** One command line of a code block: where it starts in README.md, its text, and its command without comment. */
    record Example(int line, String text, String command) {
        String where() {
            return "README.md line " + line + " `" + command + "`";
        }
    }

    private record Ran(int exitCode, String stdout, String stderr) {
    }

    /** The job, job array or array task a line names by id: {@code 5}, or {@code 5_7} for index 7 of array 5. */
    private record Named(long id, int index) {
        /** The first id among a command's words after its subcommand, or null. */
        static Named in(String[] words) {
            for (int i = 2; i < words.length; i++) {
                if (words[i].matches("\\d+(_\\d+)?")) {
                    String[] parts = words[i].split("_");
                    return new Named(Long.parseLong(parts[0]), parts.length > 1 ? Integer.parseInt(parts[1]) : -1);
                }
            }
            return null;
        }
    }

    @Test
    void everyExampleOfTheResearchersSectionRunsAsWritten() throws Exception {
        List<String> readme = Files.readAllLines(readmePath());
        List<Example> examples = examples(readme, SECTION);
        assertThat(examples).as("command lines of the README's '%s' section", SECTION).isNotEmpty();
        for (String start : NOT_RUNNABLE_HERE.keySet()) {
            assertThat(examples).as("NOT_RUNNABLE_HERE entry '%s' names a README line", start)
                    .anyMatch(e -> e.command().startsWith(start));
        }
        String containers = containersUnavailable();
        Example init = examples(readme, "Founding a cooperative and running the scheduler").stream()
                .filter(e -> e.command().startsWith("./coop init")).findFirst().orElseThrow();

        try (FileChannel lockFile = FileChannel.open(Path.of(System.getProperty("java.io.tmpdir"),
                "coop-readme-researchers.lock"), StandardOpenOption.CREATE, StandardOpenOption.WRITE);
             FileLock ignored = lockFile.lock(); // one run at a time uses /shared/ada/project
             SharedProject shared = SharedProject.create();
             CoopProcesses coop = new CoopProcesses(dir)) {
            Path home = Files.createDirectories(dir.resolve("researcher"));
            Map<String, String> env = researcherEnvironment(home);
            Files.writeString(home.resolve("train.py"), TRAIN_PY);
            Files.writeString(home.resolve("sweep.py"), SWEEP_PY);
            // The project folder the README's --workdir example ships (the current folder also holds coop-data).
            Files.writeString(Files.createDirectories(home.resolve("project")).resolve("train.py"), TRAIN_PY);
            executable(home.resolve("coop"), "#!/bin/sh\nCOOP_JAR='" + CoopProcesses.jar() + "' exec '"
                    + repository().resolve("coop") + "' \"$@\"\n");

            Ran founded = run(home, env, init.text(), init);
            assertThat(founded.exitCode()).as("%s: %s", init.where(), founded.stderr()).isZero();
            Path data = home.resolve("coop-data");
            Path alice = data.resolve("identities/alice.json");
            assertThat(alice).as("the identity the section's first line names").exists();
            String target = coop.scheduler(data).target();
            env.put("COOP_SCHEDULER", target);
            List<String> agentFlags = new ArrayList<>(CoopProcesses.DEVELOPMENT);
            if (containers == null) {
                agentFlags.addAll(List.of("--container-runtime", "podman", "--allow-mount", "/shared",
                        "--container-pull", "never"));
            }
            for (String node : List.of("n1", "n2")) {
                coop.agent(target, alice, "lab-a", node, "north", "sim:4xA100-80GB", dir.resolve("agent-" + node),
                        agentFlags);
            }
            try (Client client = new Client(target, Identity.read(alice))) {
                await().atMost(SOON).until(() -> client.nodes().listNodes(ListNodesRequest.getDefaultInstance())
                        .getNodesList().stream().filter(n -> n.getState().equals("online")).count() == 2);
                new Session(client, home, env, shared, containers).runAll(examples);
            }
        }
    }

    /** The lines run so far and what they submitted, and the checks each kind of line gets. */
    private final class Session {
        private final Client client;
        private final Path home;
        private final Map<String, String> env;
        private final SharedProject shared;
        /** Why container examples cannot run here (no podman or no test image); null when they can. */
        private final String containers;
        private final Map<Long, Example> singleJobs = new LinkedHashMap<>();
        private final Map<Long, Example> arrays = new LinkedHashMap<>();
        private final Map<Long, Integer> arrayTasks = new HashMap<>();
        /** What a line cancelled (exit 0): jobs and tasks by job id, arrays by id. */
        private final Set<Long> cancelledJobs = new HashSet<>();
        private final Set<Long> cancelledArrays = new HashSet<>();
        private final List<String> notRun = new ArrayList<>();

        Session(Client client, Path home, Map<String, String> env, SharedProject shared, String containers) {
            this.client = client;
            this.home = home;
            this.env = env;
            this.shared = shared;
            this.containers = containers;
        }

        void runAll(List<Example> examples) throws Exception {
            for (Example e : examples) {
                String reason = NOT_RUNNABLE_HERE.entrySet().stream().filter(n -> e.command().startsWith(n.getKey()))
                        .map(Map.Entry::getValue).findFirst().orElse(null);
                if (reason == null && e.command().contains(SHARED_PROJECT.toString()) && shared.unavailable() != null) {
                    if ("1".equals(System.getenv("COOP_REQUIRE_PREREQS"))) {
                        fail(e.where() + " needs " + SHARED_PROJECT + ": " + shared.unavailable());
                    }
                    reason = shared.unavailable() + " (run as root to include it)";
                }
                if (reason == null && e.command().contains("--container ") && containers != null) {
                    if ("1".equals(System.getenv("COOP_REQUIRE_PREREQS"))) {
                        fail(e.where() + " needs " + containers);
                    }
                    reason = "needs " + containers;
                }
                if (reason != null) {
                    notRun.add(e.where() + ": " + reason);
                    System.out.println("ReadmeResearchersIT: not run here: " + e.where() + ": " + reason);
                    continue;
                }
                runOne(e);
            }
            assertThat(singleJobs).as("the section's submits of a single job").isNotEmpty();
            for (long id : singleJobs.keySet()) {
                await().atMost(SOON).until(() -> ended(job(id).getState()));
                Job job = job(id);
                String where = singleJobs.get(id).where();
                assertThat(job.getState()).as("%s: job %d (%s)\nits output:\n%s", where, id, job, logsOf(id))
                        .isIn(cancelledJobs.contains(id) ? Set.of(JobState.SUCCEEDED, JobState.CANCELLED)
                                : Set.of(JobState.SUCCEEDED));
                assertThat(job.getAttemptsList()).as("%s: job %d ran", where, id).isNotEmpty();
                if (job.getState() == JobState.SUCCEEDED) {
                    assertThat(job.getAttempts(job.getAttemptsCount() - 1).getPlacementsCount())
                            .as("%s: job %d's placements", where, id).isEqualTo(job.getNodes());
                }
            }
            for (long array : arrays.keySet()) {
                await().atMost(Duration.ofSeconds(60)).until(() -> array(array).getFinishedAtMs() != 0);
                JobArray a = array(array);
                long cancelledTasks = cancelledArrays.contains(array) ? arrayTasks.get(array)
                        : client.jobs().listJobs(ListJobsRequest.newBuilder().setArrayId(array).build()).getJobsList()
                                .stream().filter(t -> cancelledJobs.contains(t.getId())).count();
                assertThat((long) count(a, JobState.CANCELLED)).as("%s: array %d's cancelled tasks (%s)",
                        arrays.get(array).where(), array, a).isLessThanOrEqualTo(cancelledTasks);
                assertThat(count(a, JobState.SUCCEEDED) + count(a, JobState.CANCELLED))
                        .as("%s: array %d's tasks (%s)", arrays.get(array).where(), array, a)
                        .isEqualTo(arrayTasks.get(array));
                assertThat(count(a, JobState.SUCCEEDED)).as("%s: array %d's tasks that ran", arrays.get(array).where(),
                        array).isPositive();
            }
            ranWhatItWasGiven();
            if (!notRun.isEmpty()) {
                System.out.println("ReadmeResearchersIT: lines not run: " + notRun);
            }
        }

        private void runOne(Example e) throws Exception {
            String text = withIds(e);
            String command = withIds(new Example(e.line(), e.command(), e.command())).trim();
            String[] words = command.split("\\s+");
            String sub = words[0].equals("./coop") && words.length > 1 ? words[1] : "";
            Named named = Set.of("job", "logs", "cancel").contains(sub) ? Named.in(words) : null;
            waitFor(e, named);
            Ran ran = run(home, env, text, e);
            System.out.println("ReadmeResearchersIT: " + e.where() + ": exit " + ran.exitCode() + "\n" + ran.stdout()
                    + ran.stderr());
            String shown = e.where() + (text.equals(e.text()) ? "" : " (run as `" + command + "`)")
                    + "\nexit " + ran.exitCode() + "\nstdout:\n" + ran.stdout() + "\nstderr:\n" + ran.stderr();
            if (sub.equals("cancel") && named != null && ran.exitCode() != 0) {
                // The documented exception: the job (or every task of the array) had already ended.
                assertThat(ran.stderr()).as(shown).contains("already ended");
                assertThat(hasEnded(named)).as(shown).isTrue();
                return;
            }
            assertThat(ran.exitCode()).as(shown).isZero();
            switch (sub) {
                case "submit" -> submitted(e, ran, shown);
                case "jobs" -> listed(command, ran, shown);
                case "history" -> {
                    // As sacct: the caller's jobs that ended, each with its GPU-hours.
                    assertThat(ran.stdout().lines().findFirst().orElse("")).as(shown).contains("GPU_HOURS");
                    assertThat(ran.stdout().lines().skip(1).toList()).as(shown).allSatisfy(r -> {
                        String[] cells = r.split("\\s{2,}");
                        assertThat(cells[3]).as(r).isEqualTo("alice");
                        assertThat(cells[4]).as(r).matches("succeeded|failed|cancelled|timeout");
                    });
                }
                case "job" -> shownJob(named, ran, shown);
                case "logs" -> logged(named, ran, shown);
                case "cancel" -> {
                    assertThat(ran.stdout()).as(shown).startsWith("cancelled job");
                    if (isArray(named)) {
                        cancelledArrays.add(named.id());
                    } else {
                        cancelledJobs.add(jobId(named));
                    }
                }
                default -> {
                }
            }
        }

        private void submitted(Example e, Ran ran, String shown) {
            Matcher array = SUBMITTED_ARRAY.matcher(ran.stdout());
            Matcher single = SUBMITTED_JOB.matcher(ran.stdout());
            if (array.find()) {
                long id = Long.parseLong(array.group(1));
                arrays.put(id, e);
                arrayTasks.put(id, Integer.parseInt(array.group(2)));
            } else if (single.find()) {
                long id = Long.parseLong(single.group(1));
                singleJobs.put(id, e);
                // Each job really starts: it gets an attempt on nodes (the short ones end, checked at the end).
                await(shown).atMost(SOON).until(() -> job(id).getAttemptsCount() > 0);
            } else {
                fail(shown + "\nprints no job id");
            }
        }

        private void listed(String command, Ran ran, String shown) {
            List<String> rows = ran.stdout().lines().skip(1).toList();
            Matcher only = Pattern.compile("--array\\s+(\\d+)").matcher(command);
            if (only.find()) {
                long array = Long.parseLong(only.group(1));
                assertThat(arrays).as(shown + "\nnames no array an earlier line submitted").containsKey(array);
                assertThat(rows).as(shown).hasSize(arrayTasks.get(array))
                        .allMatch(r -> r.startsWith(array + "_"));
                return;
            }
            if (!command.contains("--all")) {
                // As squeue --me: only the caller's jobs still to finish, each one the section submitted.
                assertThat(rows).as(shown).allSatisfy(r -> {
                    String[] cells = r.split("\\s{2,}");
                    assertThat(cells[3]).as(r).isEqualTo("alice");
                    assertThat(cells[4]).as(r).matches("pending|review|running( PREEMPTIBLE)?");
                    String id = cells[0].replaceAll("_.*", "");
                    assertThat(singleJobs.containsKey(Long.parseLong(id)) || arrays.containsKey(Long.parseLong(id)))
                            .as(r + ": a job the section submitted").isTrue();
                });
                return;
            }
            boolean expand = command.contains("--expand");
            for (long id : singleJobs.keySet()) {
                assertThat(rows).as(shown).anyMatch(r -> r.startsWith(id + " "));
            }
            for (long array : arrays.keySet()) {
                if (expand) {
                    assertThat(rows.stream().filter(r -> r.startsWith(array + "_")).count()).as(shown)
                            .isEqualTo((long) arrayTasks.get(array));
                    assertThat(rows).as(shown).anyMatch(r -> r.startsWith(array + "_7 "));
                } else {
                    assertThat(rows).as(shown).anyMatch(r -> r.startsWith(array + "_[0-" + (arrayTasks.get(array) - 1)
                            + "] "));
                }
            }
        }

        private void shownJob(Named named, Ran ran, String shown) {
            if (isArray(named)) {
                assertThat(ran.stdout()).as(shown).contains("job array " + named.id())
                        .containsPattern("tasks:\\s+" + arrayTasks.get(named.id()) + "\\b");
                return;
            }
            long id = jobId(named);
            Job job = job(id);
            assertThat(ran.stdout()).as(shown).contains("job " + id).contains("attempt")
                    .contains(job.getAttempts(0).getPlacements(0).getNode());
        }

        private void logged(Named named, Ran ran, String shown) {
            long id = jobId(named);
            assertThat(ran.stdout()).as(shown).isNotBlank();
            String submitted = singleJobs.containsKey(id) ? singleJobs.get(id).command() : "";
            if (submitted.contains("train.py")) {
                assertThat(ran.stdout()).as(shown)
                        .contains("train.py args: " + submitted.replaceFirst(".*train\\.py\\s*", ""))
                        .contains("COOP_JOB_ID=" + id).contains("CUDA_VISIBLE_DEVICES=");
            }
        }

        /**
         * The scripts got what the lines gave them on the node: the arguments (the README's
         * {@code \$NODE_RANK} and {@code '$COOP_ARRAY_INDEX'} are expanded there, not by the
         * submitter's shell), the folder {@code --chdir} named, and every rank of a gang.
         */
        private void ranWhatItWasGiven() {
            for (Map.Entry<Long, Example> j : singleJobs.entrySet()) {
                String command = j.getValue().command();
                Job job = job(j.getKey());
                if (!command.contains("train.py") || job.getState() != JobState.SUCCEEDED) {
                    continue;
                }
                String logs = logsOf(j.getKey());
                assertThat(logs).as(j.getValue().where())
                        .contains("train.py args: " + command.replaceFirst(".*train\\.py\\s*", ""));
                Matcher chdir = Pattern.compile("--chdir\\s+(\\S+)").matcher(command);
                if (chdir.find()) {
                    String folder = chdir.group(1).replace("\"", "").replace("$PWD", home.toString());
                    assertThat(logs).as(j.getValue().where()).contains("train.py cwd: " + folder);
                }
                for (int rank = 0; rank < job.getNodes(); rank++) {
                    assertThat(logs).as(j.getValue().where()).contains("NODE_RANK=" + rank);
                    if (command.contains("torchrun")) {
                        assertThat(logs).as(j.getValue().where())
                                .contains("torchrun stand-in: nnodes=" + job.getNodes() + " node_rank=" + rank);
                    }
                }
            }
            for (Map.Entry<Long, Example> a : arrays.entrySet()) {
                Job task = client.jobs().listJobs(ListJobsRequest.newBuilder().setArrayId(a.getKey()).build())
                        .getJobsList().stream().filter(t -> t.getState() == JobState.SUCCEEDED)
                        .max(Comparator.comparingInt(Job::getArrayIndex)).orElseThrow();
                String logs = logsOf(task.getId());
                assertThat(logs).as(a.getValue().where()).contains("COOP_ARRAY_JOB_ID=" + a.getKey())
                        .contains("COOP_ARRAY_INDEX=" + task.getArrayIndex());
                if (a.getValue().command().contains("--trial '$COOP_ARRAY_INDEX'")) {
                    assertThat(logs).as(a.getValue().where())
                            .contains("sweep.py args: --trial " + task.getArrayIndex());
                }
            }
        }

        /** Every rank's output of job {@code id}, from the scheduler (a check of the test's, not a README line). */
        private String logsOf(long id) {
            StringBuilder out = new StringBuilder();
            client.jobs().logs(LogsRequest.newBuilder().setJobId(id).setRank(-1).build()).forEachRemaining(chunk ->
                    out.append(chunk.getStdout().toStringUtf8()).append(chunk.getStderr().toStringUtf8()));
            return out.toString();
        }

        /** Waits until what a line names can show what the line is for (see the class's Javadoc). */
        private void waitFor(Example e, Named named) {
            if (named == null) {
                return;
            }
            boolean known = named.index() >= 0 ? arrays.containsKey(named.id())
                    : singleJobs.containsKey(named.id()) || arrays.containsKey(named.id());
            if (!known) {
                fail(e.where() + " names job " + named.id() + ", which no earlier line submitted");
            }
            if (isArray(named)) {
                await(e.where()).atMost(SOON).until(() -> count(array(named.id()), JobState.SUCCEEDED) > 0);
            } else {
                await(e.where()).atMost(SOON).until(() -> hasEnded(named));
            }
        }

        private boolean isArray(Named named) {
            return named.index() < 0 && arrays.containsKey(named.id());
        }

        /** The job a line names: the job itself, or an array's task looked up by its index. */
        private long jobId(Named named) {
            if (named.index() < 0) {
                return named.id();
            }
            return client.jobs().listJobs(ListJobsRequest.newBuilder().setArrayId(named.id()).build()).getJobsList()
                    .stream().filter(t -> t.getArrayIndex() == named.index()).findFirst().orElseThrow().getId();
        }

        private boolean hasEnded(Named named) {
            return isArray(named) ? array(named.id()).getFinishedAtMs() != 0 : ended(job(jobId(named)).getState());
        }

        /** The line's text with the README's example ids replaced by the ids the earlier submits returned. */
        private String withIds(Example e) {
            Matcher m = EXAMPLE_ID.matcher(e.text());
            StringBuilder out = new StringBuilder();
            while (m.find()) {
                boolean isArray = m.group(1).equals(EXAMPLE_ARRAY);
                Long real = (isArray ? arrays : singleJobs).keySet().stream().findFirst().orElse(null);
                if (real == null) {
                    fail(e.where() + " names example id " + m.group() + " before any line submitted "
                            + (isArray ? "a job array" : "a job"));
                }
                m.appendReplacement(out, real + (m.group(2) == null ? "" : m.group(2)));
            }
            m.appendTail(out);
            return out.toString();
        }

        private Job job(long id) {
            return client.jobs().getJob(GetJobRequest.newBuilder().setJobId(id).build());
        }

        private JobArray array(long id) {
            return client.jobs().getArray(GetArrayRequest.newBuilder().setArrayId(id).build());
        }
    }

    private static boolean ended(JobState state) {
        return EnumSet.of(JobState.SUCCEEDED, JobState.FAILED, JobState.CANCELLED).contains(state);
    }

    private static int count(JobArray a, JobState state) {
        return a.getCountsList().stream().filter(c -> c.getState() == state).mapToInt(StateCount::getCount).sum();
    }

    /**
     * Runs one README line in {@code folder} as a terminal session would: bash evaluates the text,
     * and the variables it leaves exported go into {@code env} for the lines after it.
     */
    private Ran run(Path folder, Map<String, String> env, String text, Example e) throws Exception {
        Path out = Files.createTempFile(dir, "line-" + e.line() + "-", ".out");
        Path err = Files.createTempFile(dir, "line-" + e.line() + "-", ".err");
        Path exported = Files.createTempFile(dir, "line-" + e.line() + "-", ".env");
        ProcessBuilder builder = new ProcessBuilder("bash", "-c",
                "eval \"$1\"; status=$?; env -0 > \"$2\"; exit $status", "readme", text, exported.toString())
                .directory(folder.toFile()).redirectOutput(out.toFile()).redirectError(err.toFile());
        builder.environment().clear();
        builder.environment().putAll(env);
        Process p = builder.start();
        if (!p.waitFor(LINE_PATIENCE.toMillis(), TimeUnit.MILLISECONDS)) {
            p.descendants().forEach(ProcessHandle::destroyForcibly);
            p.destroyForcibly();
            fail(e.where() + " did not finish in " + LINE_PATIENCE.toSeconds() + " s; output:\n" + Files.readString(out)
                    + Files.readString(err));
        }
        Map<String, String> after = new HashMap<>();
        for (String entry : Files.readString(exported).split("\0")) {
            int eq = entry.indexOf('=');
            if (eq > 0) {
                after.put(entry.substring(0, eq), entry.substring(eq + 1));
            }
        }
        after.keySet().removeAll(Set.of("_", "SHLVL", "PWD", "OLDPWD"));
        if (!after.isEmpty()) {
            env.clear();
            env.putAll(after);
        }
        return new Ran(p.exitValue(), Files.readString(out), Files.readString(err));
    }

    /**
     * What a researcher's shell has, and no more (not this build's environment, which
     * {@code --export ALL} would send along): a {@code PATH} with {@code python}, {@code torchrun}
     * and {@code java}, a home, a language, and where the scheduler is.
     */
    private Map<String, String> researcherEnvironment(Path home) throws Exception {
        Path bin = Files.createDirectories(dir.resolve("bin"));
        Files.createSymbolicLink(bin.resolve("python"), Path.of(python3()));
        executable(bin.resolve("torchrun"), TORCHRUN);
        Map<String, String> env = new HashMap<>();
        env.put("PATH", bin + ":" + Path.of(System.getProperty("java.home"), "bin") + ":/usr/local/bin:/usr/bin:/bin");
        env.put("HOME", System.getProperty("user.home"));
        env.put("LANG", "C.UTF-8");
        return env;
    }

    /** The interpreter {@code python3} on this machine's PATH runs (through pyenv's shims, say). */
    private static String python3() throws Exception {
        Process p = new ProcessBuilder("python3", "-c", "import sys; print(sys.executable)").redirectErrorStream(true)
                .start();
        String printed = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
        if (!p.waitFor(30, TimeUnit.SECONDS) || p.exitValue() != 0 || printed.isEmpty()) {
            fail("python3 is needed to run the README's examples (python train.py): " + printed);
        }
        return printed;
    }

    private static void executable(Path file, String text) throws IOException {
        Files.writeString(file, text);
        Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rwxr-xr-x"));
    }

    /** The checkout's root: the cli module's base directory's parent. */
    private static Path repository() {
        return Path.of(System.getProperty("basedir", ".")).toAbsolutePath().normalize().getParent();
    }

    private static Path readmePath() {
        return repository().resolve("README.md");
    }

    /**
     * The command lines of the code blocks of the README section headed {@code ## heading}, up to
     * the next {@code ## } heading: a line ending in {@code \} continues on the next one, and a
     * line that is only a comment is none.
     */
    static List<Example> examples(List<String> readme, String heading) {
        int start = readme.indexOf("## " + heading);
        assertThat(start).as("README.md has a section '## %s'", heading).isNotNegative();
        List<Example> out = new ArrayList<>();
        boolean inBlock = false;
        for (int i = start + 1; i < readme.size(); i++) {
            String line = readme.get(i);
            if (!inBlock && line.startsWith("## ")) {
                break;
            }
            if (line.startsWith("```")) {
                inBlock = !inBlock;
                continue;
            }
            if (!inBlock || line.isBlank()) {
                continue;
            }
            int first = i;
            StringBuilder text = new StringBuilder(line);
            while (text.toString().endsWith("\\") && i + 1 < readme.size()) {
                text.append('\n').append(readme.get(++i));
            }
            String command = withoutComment(text.toString().replace("\\\n", " ")).strip().replaceAll("\\s+", " ");
            if (!command.isEmpty()) {
                out.add(new Example(first + 1, text.toString(), command));
            }
        }
        return out;
    }

    /** The line up to a {@code #} that starts a word outside quotes, as bash reads a comment. */
    static String withoutComment(String line) {
        boolean single = false;
        boolean dbl = false;
        for (int i = 0; i < line.length(); i++) {
            char c = line.charAt(i);
            if (c == '\\' && !single) {
                i++;
            } else if (c == '\'' && !dbl) {
                single = !single;
            } else if (c == '"' && !single) {
                dbl = !dbl;
            } else if (c == '#' && !single && !dbl && (i == 0 || Character.isWhitespace(line.charAt(i - 1)))) {
                return line.substring(0, i);
            }
        }
        return line;
    }

    /**
     * Why the README's container examples cannot run here, or null when they can: they need root,
     * podman and the local image {@code contrib/podman/test-image.sh} builds, as CI has.
     */
    private static String containersUnavailable() throws Exception {
        if (!"root".equals(System.getProperty("user.name"))) {
            return "root (podman runs the containers as root)";
        }
        if (!Files.isExecutable(Path.of("/usr/bin/podman"))) {
            return "podman (apt install podman)";
        }
        if (new ProcessBuilder("/usr/bin/podman", "image", "exists", "localhost/coop-bb:1").start().waitFor() != 0) {
            return "the image localhost/coop-bb:1 (contrib/podman/test-image.sh)";
        }
        return null;
    }

    /**
     * The README's {@code --chdir /shared/ada/project}, made real for the test: created with
     * {@code train.py} in it where it is missing, and what was created removed at the end.
     */
    private static final class SharedProject implements AutoCloseable {
        private final Path created;
        private final Path wroteTrain;
        private final String unavailable;

        private SharedProject(Path created, Path wroteTrain, String unavailable) {
            this.created = created;
            this.wroteTrain = wroteTrain;
            this.unavailable = unavailable;
        }

        static SharedProject create() {
            Path top = null;
            for (Path p = SHARED_PROJECT; p != null && !Files.exists(p); p = p.getParent()) {
                top = p;
            }
            try {
                Files.createDirectories(SHARED_PROJECT);
                Path train = SHARED_PROJECT.resolve("train.py");
                if (Files.exists(train)) {
                    if (!Files.readString(train).equals(TRAIN_PY)) {
                        return new SharedProject(top, null,
                                SHARED_PROJECT + " holds a train.py the test did not write");
                    }
                    return new SharedProject(top, null, null);
                }
                Files.writeString(train, TRAIN_PY);
                return new SharedProject(top, train, null);
            } catch (IOException | SecurityException e) {
                return new SharedProject(top != null && Files.exists(top) ? top : null, null,
                        "cannot create " + SHARED_PROJECT + ": " + e);
            }
        }

        String unavailable() {
            return unavailable;
        }

        @Override
        public void close() throws IOException {
            if (created != null) {
                try (var walk = Files.walk(created)) {
                    for (Path p : walk.sorted(Comparator.reverseOrder()).toList()) {
                        Files.deleteIfExists(p);
                    }
                }
            } else if (wroteTrain != null) {
                Files.deleteIfExists(wroteTrain);
            }
        }
    }
}
