package coop.agent;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ProcessLauncherTest {

    @TempDir
    Path workDir;

    private final List<ProcessLauncher> launchers = new ArrayList<>();

    ProcessLauncher launcher() {
        ProcessLauncher launcher = new ProcessLauncher(workDir);
        launchers.add(launcher);
        return launcher;
    }

    @AfterEach
    void closeLaunchers() {
        launchers.forEach(ProcessLauncher::close);
    }

    @Test
    void rankWithoutGpusSeesNoneRatherThanAll() throws Exception {
        ProcessLauncher launcher = launcher();
        RankId rank = new RankId(1, 1, 0);

        RankProcess process = launcher.start(new LaunchOrder(rank,
                "echo \"[${CUDA_VISIBLE_DEVICES-unset}]\"", List.of(), Map.of(), Duration.ZERO));

        assertThat(process.onExit().get(5, TimeUnit.SECONDS)).isZero();
        assertThat(Files.readString(process.directory().resolve("stdout"), UTF_8)).isEqualTo("[]\n");
        assertThat(process.directory()).isEqualTo(workDir.resolve("jobs/1.1.0"));
    }

    @Test
    void orderEnvironmentIsAddedToTheCleanBase() throws Exception {
        ProcessLauncher launcher = launcher();
        RankId rank = new RankId(2, 3, 1);

        RankProcess process = launcher.start(new LaunchOrder(rank,
                "echo $COOP_JOB_ID/$COOP_ATTEMPT/$COOP_RANK $MASTER_ADDR ${PATH:+has-path}",
                List.of(0, 1), Map.of("MASTER_ADDR", "node-a"), Duration.ZERO));

        assertThat(process.onExit().get(5, TimeUnit.SECONDS)).isZero();
        assertThat(Files.readString(process.directory().resolve("stdout"), UTF_8))
                .isEqualTo("2/3/1 node-a has-path\n");
    }

    @Test
    void aRankStartsFromACleanBaseNotTheAgentsEnvironment() throws Exception {
        // Surefire's JVM has variables of its own (JAVA_HOME, MAVEN_*, its PATH): none may reach the rank.
        assertThat(System.getenv()).isNotEmpty();
        RankProcess process = launcher().start(new LaunchOrder(new RankId(3, 1, 0), "env", List.of(0), Map.of(),
                Duration.ZERO));

        assertThat(process.onExit().get(5, TimeUnit.SECONDS)).isZero();
        Map<String, String> env = envOf(process);
        LocalUser me = LocalUser.current();
        assertThat(env).containsEntry("PATH", ProcessLauncher.BASE_PATH).containsEntry("USER", me.name())
                .containsEntry("LOGNAME", me.name()).containsEntry("HOME", me.home()).containsKey("LANG");
        for (String name : System.getenv().keySet()) {
            if (!List.of("PATH", "USER", "LOGNAME", "HOME", "LANG", "PWD").contains(name)) {
                assertThat(env).as("the agent's " + name).doesNotContainKey(name);
            }
        }
        assertThat(env.keySet()).allMatch(n -> List.of("PATH", "USER", "LOGNAME", "HOME", "LANG", "PWD",
                "CUDA_VISIBLE_DEVICES").contains(n) || n.startsWith("COOP_") || n.equals("SHLVL") || n.equals("_"));
    }

    @Test
    void theSubmittersVariablesAreAppliedAndCoopsOwnWin() throws Exception {
        RankProcess process = launcher().start(new LaunchOrder(new RankId(4, 1, 0), "env", List.of(1),
                Map.of("MASTER_ADDR", "node-a"), Duration.ZERO,
                Map.of("PATH", "/opt/venv/bin:/usr/bin:/bin", "LR", "3e-4", "CUDA_VISIBLE_DEVICES", "0,1,2,3",
                        "MASTER_ADDR", "elsewhere", "HOME", "/home/ada"), ""));

        assertThat(process.onExit().get(5, TimeUnit.SECONDS)).isZero();
        assertThat(envOf(process)).containsEntry("PATH", "/opt/venv/bin:/usr/bin:/bin").containsEntry("LR", "3e-4")
                .containsEntry("HOME", "/home/ada").containsEntry("CUDA_VISIBLE_DEVICES", "1")
                .containsEntry("MASTER_ADDR", "node-a").containsEntry("COOP_JOB_ID", "4");
    }

    @Test
    void aRankStartsInItsWorkingFolderWithItsOutputStillInItsOwn() throws Exception {
        Path project = Files.createDirectories(workDir.resolve("shared/project"));
        Files.writeString(project.resolve("train.py"), "print('hi')\n");
        RankProcess plain = launcher().start(new LaunchOrder(new RankId(5, 1, 0), "ls", List.of(), Map.of(),
                Duration.ZERO, Map.of(), project.toString()));
        RankProcess shell = launcher().start(new LaunchOrder(new RankId(5, 1, 1), "pwd; echo $PWD", List.of(),
                Map.of(), Duration.ZERO, Map.of(), project.toString()));

        assertThat(plain.onExit().get(5, TimeUnit.SECONDS)).isZero();
        assertThat(shell.onExit().get(5, TimeUnit.SECONDS)).isZero();
        assertThat(Files.readString(plain.directory().resolve("stdout"), UTF_8)).isEqualTo("train.py\n");
        assertThat(Files.readString(shell.directory().resolve("stdout"), UTF_8))
                .isEqualTo(project + "\n" + project + "\n");
        assertThat(plain.directory()).isEqualTo(workDir.resolve("jobs/5.1.0"));
    }

    @Test
    void aWorkingFolderMissingOnTheNodeFailsTheStartSayingSo() {
        Path missing = workDir.resolve("not-here");
        assertThatThrownBy(() -> launcher().start(new LaunchOrder(new RankId(6, 1, 0), "true", List.of(), Map.of(),
                Duration.ZERO, Map.of(), missing.toString())))
                .isInstanceOf(ProcessLauncher.BadWorkingFolder.class)
                .hasMessage("working folder " + missing + " does not exist");
        assertThat(workDir.resolve("running")).satisfiesAnyOf(p -> assertThat(p).doesNotExist(),
                p -> assertThat(p).isEmptyDirectory());
    }

    @Test
    void withASharedRootEveryNodesRanksShareTheJobsCheckpointFolder() throws Exception {
        Path root = Files.createDirectories(workDir.resolve("site-share"));
        ProcessLauncher nodeA = new ProcessLauncher(workDir.resolve("a"), java.time.InstantSource.system(),
                Confinement.none(), "a", root);
        ProcessLauncher nodeB = new ProcessLauncher(workDir.resolve("b"), java.time.InstantSource.system(),
                Confinement.none(), "b", root);
        launchers.add(nodeA);
        launchers.add(nodeB);
        RankProcess first = nodeA.start(new LaunchOrder(new RankId(9, 1, 0),
                "echo step-200 > $COOP_CHECKPOINT_DIR/latest", List.of(0), Map.of(), Duration.ZERO));
        assertThat(first.onExit().get(5, TimeUnit.SECONDS)).isZero();
        RankProcess second = nodeB.start(new LaunchOrder(new RankId(9, 2, 0),
                "echo $COOP_CHECKPOINT_DIR; cat $COOP_CHECKPOINT_DIR/latest", List.of(0), Map.of(), Duration.ZERO));
        assertThat(second.onExit().get(5, TimeUnit.SECONDS)).isZero();
        assertThat(Files.readString(second.directory().resolve("stdout"), UTF_8))
                .isEqualTo(root.resolve("9") + "\nstep-200\n");
        assertThat(workDir.resolve("a/checkpoints/9")).doesNotExist();
    }

    private static Map<String, String> envOf(RankProcess process) throws IOException {
        Map<String, String> env = new java.util.HashMap<>();
        for (String line : Files.readAllLines(process.directory().resolve("stdout"), UTF_8)) {
            int eq = line.indexOf('=');
            if (eq > 0) {
                env.put(line.substring(0, eq), line.substring(eq + 1));
            }
        }
        return env;
    }

    @Test
    void ranksLeftRunningByAKilledAgentAreStoppedByTheNextOneWithTheirGroups() throws Exception {
        // The first launcher stands for an agent that was killed with kill -9: it never sees its ranks end.
        ProcessLauncher crashed = launcher();
        RankId rank = new RankId(5, 1, 0);
        RankProcess process = crashed.start(new LaunchOrder(rank, "sleep 300 & sleep 300; wait", List.of(2, 3),
                Map.of(), Duration.ZERO));
        assertThat(crashed.records().unfinished()).singleElement().satisfies(r -> {
            assertThat(r.rank()).isEqualTo(rank);
            assertThat(r.pgid()).isEqualTo(process.pid());
            assertThat(r.gpus()).containsExactly(2, 3);
            assertThat(r.ended()).isFalse();
        });

        List<RankRecords.Record> stopped = launcher().stopLeftovers(Duration.ofSeconds(5));

        assertThat(stopped).singleElement().satisfies(r -> assertThat(r.end()).isEqualTo("stopped: agent restarted"));
        assertThat(process.onExit().get(5, TimeUnit.SECONDS)).isEqualTo(128 + 15);
        // The background sleep of the same group is gone too, not only the leader.
        assertThat(crashed.groupExists(process.pid())).isFalse();
        assertThat(crashed.records().unfinished()).isEmpty();
        RankRecords.Record record = RankRecords.read(process.directory());
        assertThat(record.ended()).isTrue();
        assertThat(record.endedAtMs()).isGreaterThanOrEqualTo(record.startedAtMs());
    }

    @Test
    void aRankThatIgnoresSigtermIsKilledAfterTheGrace() throws Exception {
        RankProcess process = launcher().start(new LaunchOrder(new RankId(6, 1, 0),
                "trap '' TERM; sleep 300 & wait; wait", List.of(0), Map.of(), Duration.ZERO));
        await().atMost(Duration.ofSeconds(5)).until(() -> ProcessHandle.of(process.pid())
                .map(h -> h.children().findAny().isPresent()).orElse(false));

        List<RankRecords.Record> stopped = launcher().stopLeftovers(Duration.ofMillis(300));

        assertThat(stopped).singleElement().satisfies(r -> assertThat(r.end()).isEqualTo("killed: agent restarted"));
        assertThat(process.onExit().get(5, TimeUnit.SECONDS)).isEqualTo(128 + 9);
    }

    @Test
    void aRecordWhosePidNowBelongsToAnotherProcessIsLeftAlone() throws Exception {
        // Another process (started later than the record says) now holds the recorded pid: not ours.
        Process other = new ProcessBuilder("setsid", "sleep", "300").start();
        try {
            RankRecords records = new RankRecords(workDir);
            records.started(new RankRecords.Record(new RankId(7, 1, 0), other.pid(), 1_000, List.of(0), 1_000, 0, ""));

            List<RankRecords.Record> stopped = launcher().stopLeftovers(Duration.ofSeconds(1));

            assertThat(stopped).isEmpty();
            assertThat(other.isAlive()).isTrue();
            assertThat(records.unfinished()).isEmpty();
            assertThat(RankRecords.read(workDir.resolve("jobs/7.1.0")).end()).isEqualTo("gone before the agent restarted");
        } finally {
            other.destroyForcibly().waitFor();
        }
    }

    @Test
    void aRankThatEndsHasItsRecordFiledInItsFolder() throws Exception {
        ProcessLauncher launcher = launcher();
        RankId rank = new RankId(8, 2, 1);
        RankProcess process = launcher.start(new LaunchOrder(rank, "true", List.of(1), Map.of(), Duration.ZERO));
        process.onExit().get(5, TimeUnit.SECONDS);

        launcher.recordEnd(rank, 42_000, "exited 0");

        assertThat(launcher.records().unfinished()).isEmpty();
        RankRecords.Record record = RankRecords.read(process.directory());
        assertThat(record.rank()).isEqualTo(rank);
        assertThat(record.gpus()).containsExactly(1);
        assertThat(record.endedAtMs()).isEqualTo(42_000);
        assertThat(record.end()).isEqualTo("exited 0");
    }

    @Test
    void signallingAnEmptyGroupReportsNothingDelivered() throws Exception {
        ProcessLauncher launcher = launcher();
        RankProcess process = launcher.start(new LaunchOrder(new RankId(3, 1, 0), "true", List.of(),
                Map.of(), Duration.ZERO));
        process.onExit().get(5, TimeUnit.SECONDS);

        assertThat(launcher.signalGroup(process.pid(), ProcessLauncher.Signal.TERM)).isFalse();
        assertThatThrownBy(() -> launcher.signalGroup(1, ProcessLauncher.Signal.KILL))
                .isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void tailOfARankThatNeverRanIsAnError() {
        ProcessLauncher launcher = launcher();

        assertThatThrownBy(() -> launcher.tail(new RankId(9, 9, 9), 100))
                .isInstanceOf(NoSuchFileException.class);
    }

    @Test
    void outputKeptInTheEarlierLayoutIsStillRead() throws Exception {
        Path earlier = Files.createDirectories(workDir.resolve("jobs/6/2/rank-1"));
        Files.writeString(earlier.resolve("stdout"), "from before");

        RankOutput output = launcher().tail(new RankId(6, 2, 1), 100);

        assertThat(new String(output.stdout().bytes(), UTF_8)).isEqualTo("from before");
        assertThat(output.stderr().bytes()).isEmpty();
    }

    @Test
    void tailIsTheLastBytesOfEachFile() throws Exception {
        ProcessLauncher launcher = launcher();
        RankProcess process = launcher.start(new LaunchOrder(new RankId(4, 1, 0),
                "printf 0123456789; printf abc >&2", List.of(), Map.of(), Duration.ZERO));
        process.onExit().get(5, TimeUnit.SECONDS);

        RankOutput tail = launcher.tail(new RankId(4, 1, 0), 4);

        assertThat(new String(tail.stdout().bytes(), UTF_8)).isEqualTo("6789");
        assertThat(tail.stdout().offset()).isEqualTo(6);
        assertThat(new String(tail.stderr().bytes(), UTF_8)).isEqualTo("abc");
        assertThat(tail.stderr().offset()).isZero();
        assertThat(launcher.tail(new RankId(4, 1, 0), 0).stdout().bytes()).isEmpty();
    }

    @Test
    void readingFromAnOffsetReturnsExactlyTheBytesWrittenSince() throws Exception {
        ProcessLauncher launcher = launcher();
        RankId rank = new RankId(5, 1, 0);
        // The rank writes one line, waits to be released, then writes two more and an error line.
        RankProcess process = launcher.start(new LaunchOrder(rank,
                "echo line-1; while [ ! -f release ]; do sleep 0.02; done; echo line-2; echo line-3; echo bad >&2",
                List.of(), Map.of(), Duration.ZERO));
        await().atMost(Duration.ofSeconds(5)).until(() -> launcher.tail(rank, 100).stdout().bytes().length > 0);

        RankOutput first = launcher.tail(rank, 100);
        assertThat(new String(first.stdout().bytes(), UTF_8)).isEqualTo("line-1\n");
        assertThat(first.stdout().offset()).isZero();
        RankOutput nothingYet = launcher.read(rank, first.stdout().end(), first.stderr().end(), 100);
        assertThat(nothingYet.stdout().bytes()).isEmpty();
        assertThat(nothingYet.stdout().offset()).isEqualTo(7);

        Files.createFile(process.directory().resolve("release"));
        assertThat(process.onExit().get(5, TimeUnit.SECONDS)).isZero();

        RankOutput since = launcher.read(rank, first.stdout().end(), first.stderr().end(), 100);
        assertThat(new String(since.stdout().bytes(), UTF_8)).isEqualTo("line-2\nline-3\n");
        assertThat(since.stdout().offset()).isEqualTo(7);
        assertThat(new String(since.stderr().bytes(), UTF_8)).isEqualTo("bad\n");
        // A step smaller than what is new returns its start, not its end: nothing is skipped.
        RankOutput step = launcher.read(rank, 7, 0, 4);
        assertThat(new String(step.stdout().bytes(), UTF_8)).isEqualTo("line");
        assertThat(new String(launcher.read(rank, step.stdout().end(), 0, 100).stdout().bytes(), UTF_8))
                .isEqualTo("-2\nline-3\n");
        RankOutput past = launcher.read(rank, 1000, 0, 100);
        assertThat(past.stdout().bytes()).isEmpty();
        assertThat(past.stdout().offset()).isEqualTo(1000);
    }

    @Test
    void aJobsAttemptsShareOneCheckpointDirectory() throws Exception {
        ProcessLauncher launcher = launcher();
        RankProcess first = launcher.start(new LaunchOrder(new RankId(7, 1, 0),
                "echo step-100 > $COOP_CHECKPOINT_DIR/latest", List.of(0), Map.of(), Duration.ZERO));
        assertThat(first.onExit().get(5, TimeUnit.SECONDS)).isZero();
        RankProcess second = launcher.start(new LaunchOrder(new RankId(7, 2, 0),
                "echo $COOP_CHECKPOINT_DIR; cat $COOP_CHECKPOINT_DIR/latest", List.of(0), Map.of(), Duration.ZERO));
        assertThat(second.onExit().get(5, TimeUnit.SECONDS)).isZero();
        assertThat(Files.readString(second.directory().resolve("stdout"), UTF_8))
                .isEqualTo(workDir.resolve("checkpoints/7") + "\nstep-100\n");
        assertThat(second.directory()).isNotEqualTo(first.directory());
    }

    @Test
    void aPlainCommandRunsWithoutBashAndTheShellRestInIt() {
        assertThat(ProcessLauncher.plainWords("python3 train.py --lr 0.1 --out=/data/run-1,a:b@c%d+e",
                Map.of())).containsExactly("python3", "train.py", "--lr", "0.1", "--out=/data/run-1,a:b@c%d+e");
        assertThat(ProcessLauncher.plainWords("true", Map.of())).containsExactly("true");
        for (String shell : List.of("echo hi", "cd /tmp", "exit 3", "time sleep 1", "X=1 env", "a && b", "a; b",
                "a | b", "a > f", "echo $HOME", "ls *.py", "ls ~", "sleep  1", " sleep 1", "sleep 1 ", "-x",
                "%1", "printf 'a b'", "a\\ b", "cmd\tx", "")) {
            assertThat(ProcessLauncher.plainWords(shell, Map.of())).as(shell).isNull();
        }
        assertThat(ProcessLauncher.plainWords("train", Map.of("BASH_ENV", "/etc/profile"))).isNull();
        assertThat(ProcessLauncher.plainWords("train", Map.of("BASH_FUNC_train%%", "() { :; }"))).isNull();
    }

    @Test
    void aPlainCommandLeadsItsGroupInItsDirectoryWithTheRanksEnvironment() throws Exception {
        ProcessLauncher launcher = launcher();
        RankProcess process = launcher.start(new LaunchOrder(new RankId(8, 1, 0), "env", List.of(3),
                Map.of("MASTER_ADDR", "node-b"), Duration.ZERO));

        assertThat(process.onExit().get(5, TimeUnit.SECONDS)).isZero();
        List<String> env = Files.readAllLines(process.directory().resolve("stdout"), UTF_8);
        assertThat(env).contains("PWD=" + process.directory().toAbsolutePath(), "CUDA_VISIBLE_DEVICES=3",
                "COOP_JOB_ID=8", "MASTER_ADDR=node-b");
        // setsid made it a session and group leader, so signals to the group reach what it forks.
        RankProcess sleeper = launcher.start(new LaunchOrder(new RankId(8, 2, 0), "sleep 30", List.of(),
                Map.of(), Duration.ZERO));
        await().atMost(Duration.ofSeconds(5)).until(() -> ProcessHandle.of(sleeper.pid())
                .flatMap(h -> h.info().command()).map(c -> c.endsWith("sleep")).orElse(false));
        assertThat(launcher.signalGroup(sleeper.pid(), ProcessLauncher.Signal.TERM)).isTrue();
        assertThat(sleeper.onExit().get(5, TimeUnit.SECONDS)).isEqualTo(128 + 15);
    }

    @Test
    void aProgramThatCannotRunEndsTheRankWith127AndSaysWhyInItsStderr() throws Exception {
        ProcessLauncher launcher = launcher();
        RankProcess plain = launcher.start(new LaunchOrder(new RankId(9, 1, 0), "no-such-program-here --x",
                List.of(), Map.of(), Duration.ZERO));
        assertThat(plain.onExit().get(5, TimeUnit.SECONDS)).isEqualTo(127);
        assertThat(Files.readString(plain.directory().resolve("stderr"), UTF_8)).contains("no-such-program-here");
        RankProcess shell = launcher.start(new LaunchOrder(new RankId(9, 2, 0), "no-such-program-here; exit 4",
                List.of(), Map.of(), Duration.ZERO));
        assertThat(shell.onExit().get(5, TimeUnit.SECONDS)).isEqualTo(4);
        assertThat(Files.readString(shell.directory().resolve("stderr"), UTF_8)).contains("no-such-program-here");
    }

    @Test
    void aRankWhoseFolderCannotBeMadeIsAnError() throws Exception {
        Files.writeString(workDir.resolve("jobs"), "in the way");
        assertThatThrownBy(() -> launcher().start(new LaunchOrder(new RankId(10, 1, 0), "true", List.of(), Map.of(),
                Duration.ZERO))).isInstanceOf(IOException.class);
    }

    @Test
    void manyRanksStartedAtOnceEachReportTheirOwnExit() throws Exception {
        ProcessLauncher launcher = launcher();
        ExecutorService spawners = Executors.newFixedThreadPool(4);
        try {
            List<Future<RankProcess>> starts = new ArrayList<>();
            for (int i = 0; i < 60; i++) {
                String command = i % 3 == 0 ? "true" : i % 3 == 1 ? "false" : "exit " + i % 7;
                RankId rank = new RankId(300 + i, 1, 0);
                starts.add(spawners.submit(() -> launcher.start(new LaunchOrder(rank, command, List.of(), Map.of(),
                        Duration.ZERO))));
            }
            for (int i = 0; i < starts.size(); i++) {
                RankProcess p = starts.get(i).get(10, TimeUnit.SECONDS);
                assertThat(p.rank().jobId()).isEqualTo(300 + i);
                int expected = i % 3 == 0 ? 0 : i % 3 == 1 ? 1 : i % 7;
                assertThat(p.onExit().get(10, TimeUnit.SECONDS)).as("rank %d", i).isEqualTo(expected);
            }
        } finally {
            spawners.shutdownNow();
        }
    }
}
