package coop.agent;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import coop.v1.AttemptExited;
import coop.v1.AttemptRef;
import coop.v1.ExitAck;
import coop.v1.Heartbeat;
import coop.v1.Hello;
import coop.v1.Kill;
import coop.v1.Launch;
import coop.v1.LogData;
import coop.v1.LogRequest;
import coop.v1.SchedulerMessage;
import coop.v1.StopSignal;
import io.grpc.Server;
import io.grpc.inprocess.InProcessChannelBuilder;
import io.grpc.inprocess.InProcessServerBuilder;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The agent against a fake scheduler on an in-process gRPC server, running real {@code bash}
 * processes in a temporary work directory.
 */
class AgentTest {

    private static final Instant NOW = Instant.parse("2025-06-01T12:00:00Z");
    private static final Duration PROMPTLY = Duration.ofSeconds(5);
    private static final int SIGTERM_EXIT = 128 + 15;
    private static final int SIGKILL_EXIT = 128 + 9;

    @TempDir
    Path workDir;

    private FakeScheduler scheduler;
    private Server server;
    private Agent agent;

    @AfterEach
    void tearDown() {
        if (agent != null) {
            agent.close();
        }
        if (server != null) {
            server.shutdownNow();
        }
    }

    @Test
    void helloCarriesTheNodeAndItsParsedGpus() throws IOException {
        connect(60_000);

        Hello hello = scheduler.latest().hello().orElseThrow();
        assertThat(hello.getNode()).isEqualTo("node-a");
        assertThat(hello.getSite()).isEqualTo("lab-1");
        assertThat(hello.getVersion()).isEqualTo("test-1");
        assertThat(hello.getRunningList()).isEmpty();
        assertThat(hello.getGpusList())
                .extracting(g -> g.getIndex(), g -> g.getModel(), g -> g.getMemoryMib())
                .containsExactly(
                        org.assertj.core.groups.Tuple.tuple(0, "A100", 81920L),
                        org.assertj.core.groups.Tuple.tuple(1, "A100", 81920L),
                        org.assertj.core.groups.Tuple.tuple(2, "L4", 24576L));
    }

    @Test
    void aLaunchsShippedFolderIsFetchedOnceAndUnpackedIntoTheRanksFolderAndOneNotSentEndsTheRankSayingSo()
            throws Exception {
        connect(60_000);
        java.io.ByteArrayOutputStream packed = new java.io.ByteArrayOutputStream();
        try (java.util.zip.GZIPOutputStream gz = new java.util.zip.GZIPOutputStream(packed);
             WorkdirArchive.Writer tar = new WorkdirArchive.Writer(gz)) {
            byte[] script = "echo shipped; pwd\n".getBytes(java.nio.charset.StandardCharsets.UTF_8);
            tar.file("run.sh", true, script.length, new java.io.ByteArrayInputStream(script));
        }
        String digest = java.util.HexFormat.of().formatHex(
                java.security.MessageDigest.getInstance("SHA-256").digest(packed.toByteArray()));
        scheduler.workdirs.put(digest, packed.toByteArray());
        for (int job : new int[] {21, 22}) {
            AttemptRef ref = ref(job, 1, 0);
            scheduler.latest().send(SchedulerMessage.newBuilder().setLaunch(Launch.newBuilder().setRef(ref)
                    .setCommand("./run.sh > out; echo $COOP_WORKDIR >> out").setWorkdir(digest)).build());
            assertThat(awaitExit(ref).getExitCode()).isZero();
            Path rank = workDir.resolve("jobs/" + job + ".1.0");
            assertThat(Files.readAllLines(rank.resolve("out"))).containsExactly("shipped", rank.toAbsolutePath()
                    .toString(), rank.toAbsolutePath().toString());
        }
        assertThat(scheduler.fetches).as("the second job's rank finds the folder on the node").hasValue(1);

        AttemptRef missing = ref(23, 1, 0);
        scheduler.latest().send(SchedulerMessage.newBuilder().setLaunch(Launch.newBuilder().setRef(missing)
                .setCommand("true").setWorkdir("c".repeat(64))).build());
        AttemptExited exit = awaitExit(missing);
        assertThat(exit.getExitCode()).isEqualTo(RankExit.LAUNCH_FAILED_CODE);
        assertThat(exit.getWhy()).startsWith("cannot fetch the job's workdir cccccccccccc: the scheduler did not "
                + "send it: NOT_FOUND").endsWith("on node node-a");
    }

    @Test
    void aLaunchCarriesTheSubmittersVariablesAndFolderAndAMissingFolderEndsTheRankSayingSo() throws IOException {
        connect(60_000);
        Path project = Files.createDirectories(workDir.resolve("project"));
        AttemptRef ok = ref(11, 1, 0);
        scheduler.latest().send(SchedulerMessage.newBuilder().setLaunch(Launch.newBuilder().setRef(ok)
                .setCommand("echo $LR $(pwd) > seen").putUserEnv("LR", "3e-4").setChdir(project.toString())).build());
        assertThat(awaitExit(ok).getExitCode()).isZero();
        assertThat(Files.readString(project.resolve("seen"))).isEqualTo("3e-4 " + project + "\n");

        AttemptRef missing = ref(12, 1, 0);
        scheduler.latest().send(SchedulerMessage.newBuilder().setLaunch(Launch.newBuilder().setRef(missing)
                .setCommand("true").setChdir("/no/such/folder")).build());
        AttemptExited exit = awaitExit(missing);
        assertThat(exit.getExitCode()).isEqualTo(RankExit.LAUNCH_FAILED_CODE);
        assertThat(exit.getWhy()).isEqualTo("working folder /no/such/folder does not exist on node node-a");
    }

    @Test
    void helloSaysWhereTheSharedCheckpointRootIs() throws IOException {
        Path root = Files.createDirectories(workDir.resolve("share"));
        scheduler = new FakeScheduler(60_000);
        String name = InProcessServerBuilder.generateName();
        server = InProcessServerBuilder.forName(name).addService(scheduler).build().start();
        AgentConfig config = new AgentConfig("in-process:" + name, "node-a", "lab-1",
                GpuSpec.parse("sim:1xA100-80GB").resolve(new NvidiaSmi("")), workDir, "test-1", null, null, null,
                Confinement.none(), Duration.ZERO, NodeHooks.NONE, root);
        agent = new Agent(config, InProcessChannelBuilder.forName(name).build(),
                new ProcessLauncher(workDir, InstantSource.system(), Confinement.none(), "node-a", root),
                InstantSource.fixed(NOW), new SplittableRandom(7), GpuTelemetry.NONE);
        agent.start();
        await().atMost(PROMPTLY).until(agent::isConnected);

        assertThat(scheduler.latest().hello().orElseThrow().getCheckpointRoot()).isEqualTo(root.toString());
        AttemptRef ref = ref(13, 1, 0);
        launch(ref, "echo $COOP_CHECKPOINT_DIR > " + workDir.resolve("dir"), List.of(0), 0);
        assertThat(awaitExit(ref).getExitCode()).isZero();
        assertThat(Files.readString(workDir.resolve("dir"))).isEqualTo(root.resolve("13") + "\n");
    }

    @Test
    void heartbeatsCarryTheClockAndTheRunningRanks() throws IOException {
        connect(50);
        AttemptRef ref = ref(7, 1, 0);
        launch(ref, "sleep 60", List.of(0), 0);

        await().atMost(PROMPTLY).untilAsserted(() -> assertThat(scheduler.latest().heartbeats())
                .anySatisfy(hb -> {
                    assertThat(hb.getSentAtMs()).isEqualTo(NOW.toEpochMilli());
                    assertThat(hb.getRunningList()).containsExactly(ref);
                }));
        // Simulated GPUs: no usage rather than invented numbers.
        assertThat(scheduler.latest().heartbeats()).allSatisfy(hb -> assertThat(hb.getGpusList()).isEmpty());
    }

    @Test
    void heartbeatsCarryTheUsageNvidiaSmiReportsForTheOfferedGpusOnly() throws IOException {
        // GPU 3 fell off the bus at discovery; a later usage line for it must not bring it back.
        NvidiaSmi smi = fakeNvidiaSmi("dgx-a100-8x80gb-gpu3-lost.csv", printUsage("dgx-a100-8x80gb-usage.csv"));
        List<GpuDevice> gpus = GpuSpec.parse("auto").resolve(smi);
        connect(50, gpus, new UsageSampler(smi, gpus, Duration.ofMillis(50), Duration.ofSeconds(5)));

        await().atMost(PROMPTLY).untilAsserted(() -> assertThat(scheduler.latest().heartbeats())
                .anySatisfy(hb -> {
                    assertThat(hb.getGpusList()).extracting(g -> g.getIndex())
                            .containsExactly(0, 1, 2, 4, 5, 6, 7);
                    assertThat(hb.getGpus(0).getUtilizationPct()).isEqualTo(100);
                    assertThat(hb.getGpus(0).getMemoryUsedMib()).isEqualTo(71233);
                    assertThat(hb.getGpus(5).getUtilizationPct()).isEqualTo(37);
                    assertThat(hb.getGpus(5).getMemoryUsedMib()).isEqualTo(20417);
                }));
    }

    @Test
    void utilizationTheDriverDoesNotStateIsLeftOutNotSentAsZero() throws IOException {
        NvidiaSmi smi = fakeNvidiaSmi("dgx-a100-8x80gb-mig-0to3.csv", printUsage("dgx-a100-8x80gb-mig-0to3-usage.csv"));
        List<GpuDevice> gpus = GpuSpec.parse("auto").resolve(smi);
        connect(50, gpus, new UsageSampler(smi, gpus, Duration.ofMillis(50), Duration.ofSeconds(5)));

        await().atMost(PROMPTLY).untilAsserted(() -> assertThat(scheduler.latest().heartbeats())
                .anySatisfy(hb -> {
                    assertThat(hb.getGpusList()).hasSize(8);
                    assertThat(hb.getGpus(0).hasUtilizationPct()).isFalse();
                    assertThat(hb.getGpus(0).getMemoryUsedMib()).isEqualTo(31011);
                    assertThat(hb.getGpus(4).hasUtilizationPct()).isTrue();
                    assertThat(hb.getGpus(4).getUtilizationPct()).isEqualTo(100);
                }));
    }

    @Test
    void whenSamplingStartsFailingHeartbeatsCarryNoUsage() throws IOException {
        Path usage = workDir.resolve("usage-now.csv");
        Files.writeString(usage, "0, 40, 1000\n1, 60, 2000\n2, 80, 3000\n3, 0, 7\n");
        NvidiaSmi smi = fakeNvidiaSmi("h100-4x80gb-hbm3.csv",
                "cat '" + usage + "' || { echo 'Unable to determine the device handle for GPU0: Unknown Error'; exit 15; }");
        List<GpuDevice> gpus = GpuSpec.parse("auto").resolve(smi);
        connect(50, gpus, new UsageSampler(smi, gpus, Duration.ofMillis(50), Duration.ofSeconds(5)));
        await().atMost(PROMPTLY).untilAsserted(() -> assertThat(scheduler.latest().heartbeats())
                .anySatisfy(hb -> assertThat(hb.getGpusList()).hasSize(4)));

        Files.delete(usage);

        FakeScheduler.Stream stream = scheduler.latest();
        int seen = stream.heartbeats().size();
        // One snapshot: another heartbeat may arrive between two reads of the list.
        await().atMost(PROMPTLY).untilAsserted(() -> {
            List<Heartbeat> all = stream.heartbeats();
            assertThat(all.subList(seen, all.size())).anySatisfy(hb -> assertThat(hb.getGpusList()).isEmpty());
        });
    }

    @Test
    void aHungNvidiaSmiDoesNotHoldUpHeartbeats() throws IOException {
        Path started = workDir.resolve("usage-query-started");
        // The usage query never answers; the sampler's timeout is longer than the whole test.
        NvidiaSmi smi = fakeNvidiaSmi("h100-4x80gb-hbm3.csv", "touch '" + started + "'; sleep 60");
        List<GpuDevice> gpus = GpuSpec.parse("auto").resolve(smi);
        connect(50, gpus, new UsageSampler(smi, gpus, Duration.ofMillis(50), Duration.ofMinutes(5)));
        await().atMost(PROMPTLY).until(() -> Files.exists(started));

        FakeScheduler.Stream stream = scheduler.latest();
        int before = stream.heartbeats().size();
        await().atMost(PROMPTLY).until(() -> stream.heartbeats().size() >= before + 5);
        assertThat(stream.heartbeats()).allSatisfy(hb -> assertThat(hb.getGpusList()).isEmpty());
        assertThat(agent.isConnected()).isTrue();
    }

    @Test
    void launchRunsBashWithTheRankEnvironmentAndReportsExitZero() throws IOException {
        connect(60_000);
        AttemptRef ref = ref(42, 1, 0);

        launch(ref, "echo $CUDA_VISIBLE_DEVICES $COOP_JOB_ID $COOP_ATTEMPT $COOP_RANK $EXTRA; pwd",
                List.of(2, 5), 0, Map.of("EXTRA", "hello"));

        AttemptExited exit = awaitExit(ref);
        assertThat(exit.getExitCode()).isZero();
        assertThat(exit.getReason()).isEqualTo("exited");
        assertThat(exit.getEndedAtMs()).isEqualTo(NOW.toEpochMilli());
        assertThat(scheduler.latest().started(ref)).singleElement()
                .satisfies(started -> assertThat(started.getPid()).isPositive());
        Path dir = workDir.resolve("jobs/42.1.0");
        assertThat(Files.readString(dir.resolve("stdout"), UTF_8))
                .isEqualTo("2,5 42 1 0 hello\n" + dir.toRealPath() + "\n");
    }

    @Test
    void nonZeroExitCodeIsReported() throws IOException {
        connect(60_000);
        AttemptRef ref = ref(43, 1, 0);

        launch(ref, "echo failing >&2; exit 3", List.of(), 0);

        AttemptExited exit = awaitExit(ref);
        assertThat(exit.getExitCode()).isEqualTo(3);
        assertThat(exit.getReason()).isEqualTo("exited");
    }

    @Test
    void killStopsTheWholeProcessGroup() throws IOException {
        connect(60_000);
        AttemptRef ref = ref(44, 1, 0);
        launch(ref, "sleep 60 & echo $! > child.pid; wait", List.of(0), 0);
        long child = awaitChildPid(ref);
        long leader = awaitStartedPid(ref);
        assertThat(processGroupOf(leader)).as("rank leads its own process group").isEqualTo(leader);
        assertThat(processGroupOf(child)).isEqualTo(leader);

        scheduler.latest().send(SchedulerMessage.newBuilder()
                .setKill(Kill.newBuilder().setRef(ref).setReason("cancelled").setGraceSeconds(30))
                .build());

        AttemptExited exit = awaitExit(ref);
        assertThat(exit.getReason()).isEqualTo("killed");
        assertThat(exit.getExitCode()).isEqualTo(SIGTERM_EXIT);
        await().atMost(PROMPTLY).until(() -> isGone(child) && isGone(leader));
    }

    @Test
    void killEscalatesToSigkillWhenTheGroupIgnoresSigterm() throws IOException {
        connect(60_000);
        AttemptRef ref = ref(45, 1, 0);
        launch(ref, "trap '' TERM; sleep 60 & echo $! > child.pid; wait", List.of(0), 0);
        long child = awaitChildPid(ref);

        scheduler.latest().send(SchedulerMessage.newBuilder()
                .setKill(Kill.newBuilder().setRef(ref).setGraceSeconds(1))
                .build());

        AttemptExited exit = awaitExit(ref);
        assertThat(exit.getReason()).isEqualTo("killed");
        assertThat(exit.getExitCode()).isEqualTo(SIGKILL_EXIT);
        await().atMost(PROMPTLY).until(() -> isGone(child));
    }

    @Test
    void walltimeIsEnforcedByTheAgent() throws IOException {
        connect(60_000);
        AttemptRef ref = ref(46, 1, 0);

        launch(ref, "sleep 60", List.of(0), 1);

        AttemptExited exit = awaitExit(ref);
        assertThat(exit.getReason()).isEqualTo("walltime");
        assertThat(exit.getExitCode()).isEqualTo(SIGTERM_EXIT);
    }

    /**
     * --signal USR1@2 with a walltime of 4 s: the rank's trap runs about 2 s before the walltime's
     * SIGTERM, and the coop-stop-reason file already says why.
     */
    @Test
    void theJobsSignalComesItsLeadBeforeTheWalltimeAfterTheReasonFile() throws IOException {
        connect(60_000);
        AttemptRef ref = ref(48, 1, 0);
        scheduler.latest().send(SchedulerMessage.newBuilder()
                .setLaunch(Launch.newBuilder().setRef(ref).addGpuIndices(0).setWalltimeSeconds(4)
                        .setCommand("trap 'cat \"$COOP_STOP_REASON_FILE\" > got-usr1' USR1; "
                                + "while true; do sleep 0.1; done")
                        .setSignal(StopSignal.newBuilder().setName("USR1").setLeadSeconds(2)))
                .build());
        Path got = rankDir(ref).resolve("got-usr1");
        await().atMost(PROMPTLY).until(() -> Files.exists(got) && !Files.readString(got).isEmpty());
        long warnedAt = System.currentTimeMillis();
        assertThat(Files.readString(got)).isEqualTo("walltime\n");
        assertThat(scheduler.latest().exits(ref)).as("still running when warned").isEmpty();

        AttemptExited exit = awaitExit(ref);
        long stoppedAt = System.currentTimeMillis();
        assertThat(exit.getReason()).isEqualTo("walltime");
        assertThat(exit.getExitCode()).isEqualTo(SIGTERM_EXIT);
        // The agent's clock here is a test's; the two moments are seen by polling, within 100 ms or so.
        assertThat(stoppedAt - warnedAt).as("ms from USR1 to the walltime's stop").isBetween(1_200L, 3_000L);
    }

    /** A scheduler's stop with the job's signal: the reason first, the signal at once, SIGTERM after the lead. */
    @Test
    void aKillWithTheJobsSignalWritesTheReasonSignalsThenTerminatesAfterTheLead() throws IOException {
        connect(60_000);
        AttemptRef ref = ref(49, 1, 0);
        launch(ref, "trap 'cat \"$COOP_STOP_REASON_FILE\" > got-usr2' USR2; while true; do sleep 0.1; done",
                List.of(0), 0);
        awaitStartedPid(ref);
        long sent = System.currentTimeMillis();
        scheduler.latest().send(SchedulerMessage.newBuilder()
                .setKill(Kill.newBuilder().setRef(ref).setReason("preempted for job 7").setGraceSeconds(30)
                        .setStopReason("preempted")
                        .setSignal(StopSignal.newBuilder().setName("USR2").setLeadSeconds(1)))
                .build());
        Path got = rankDir(ref).resolve("got-usr2");
        await().atMost(PROMPTLY).until(() -> Files.exists(got) && !Files.readString(got).isEmpty());
        assertThat(Files.readString(got)).isEqualTo("preempted\n");

        AttemptExited exit = awaitExit(ref);
        assertThat(exit.getReason()).isEqualTo("killed");
        assertThat(exit.getExitCode()).isEqualTo(SIGTERM_EXIT);
        assertThat(System.currentTimeMillis() - sent).as("SIGTERM after the 1 s lead, long before the 30 s grace")
                .isBetween(800L, 5_000L);
    }

    /** A job that puts a link where coop-stop-reason goes does not get the agent to write through it. */
    @Test
    void theReasonFileIsNeverWrittenThroughALinkTheJobMade() throws IOException {
        connect(60_000);
        AttemptRef ref = ref(50, 1, 0);
        Path target = workDir.resolve("outside-the-rank");
        launch(ref, "ln -s " + target + " coop-stop-reason; echo linked > linked; sleep 60", List.of(0), 0);
        Path linked = rankDir(ref).resolve("linked");
        await().atMost(PROMPTLY).until(() -> Files.exists(linked));
        scheduler.latest().send(SchedulerMessage.newBuilder()
                .setKill(Kill.newBuilder().setRef(ref).setGraceSeconds(5).setStopReason("cancelled")).build());

        assertThat(awaitExit(ref).getExitCode()).isEqualTo(SIGTERM_EXIT);
        assertThat(target).doesNotExist();
    }

    private Path rankDir(AttemptRef ref) {
        return workDir.resolve("jobs/" + ref.getJobId() + "." + ref.getAttempt() + "." + ref.getRank());
    }

    @Test
    void launchThatCannotStartReportsLaunchFailed() throws IOException {
        connect(60_000);
        // A file where the rank's directory tree has to go.
        Files.writeString(workDir.resolve("jobs"), "in the way");
        AttemptRef ref = ref(47, 1, 0);

        launch(ref, "true", List.of(0), 0);

        AttemptExited exit = awaitExit(ref);
        assertThat(exit.getReason()).isEqualTo("launch-failed");
        assertThat(exit.getExitCode()).isEqualTo(127);
        assertThat(scheduler.latest().started(ref)).isEmpty();
    }

    @Test
    void anAgentWhoseRunAsMapNamesAnAccountTheCooperativeLacksStops() throws Exception {
        LocalUser me = LocalUser.current();
        assumeTrue(me.isRoot(), "a --run-as map needs an agent running as root");
        scheduler = new FakeScheduler(60_000);
        String name = InProcessServerBuilder.generateName();
        server = InProcessServerBuilder.forName(name).addService(scheduler).build().start();
        RunAs runAs = RunAs.parse("lab-a=nobody,lab-z=nobody", false, me, LocalUser::lookup);
        AgentConfig config = new AgentConfig("in-process:" + name, "node-a", "lab-1",
                GpuSpec.parse("sim:1xA100-80GB").resolve(new NvidiaSmi("")), workDir, "test-1", null, null, null,
                new Confinement(Isolation.NONE, null, runAs, 0, 0, List.of(), Path.of("/dev")), Duration.ZERO,
                NodeHooks.NONE);
        agent = new Agent(config, InProcessChannelBuilder.forName(name).build(),
                new ProcessLauncher(workDir), InstantSource.fixed(NOW), new SplittableRandom(7), GpuTelemetry.NONE);
        agent.start();

        assertThat(agent.awaitClosed(Duration.ofSeconds(10))).isTrue();
        assertThat(agent.failure()).hasValue("--run-as names lab-z, which the cooperative has no account for "
                + "(its accounts: lab-a, lab-b)");
    }

    @Test
    void logRequestForOutputRemovedAfterTheRetentionSaysSo() throws IOException {
        scheduler = new FakeScheduler(60_000);
        String name = InProcessServerBuilder.generateName();
        server = InProcessServerBuilder.forName(name).addService(scheduler).build().start();
        Files.writeString(workDir.resolve("removed"), "7.1.0 " + NOW.toEpochMilli() + "\n");
        AgentConfig config = new AgentConfig("in-process:" + name, "node-a", "lab-1",
                GpuSpec.parse("sim:1xA100-80GB").resolve(new NvidiaSmi("")), workDir, "test-1", null, null, null,
                Confinement.none(), Duration.ofDays(7), NodeHooks.NONE);
        agent = new Agent(config, InProcessChannelBuilder.forName(name).build(),
                new ProcessLauncher(workDir), InstantSource.fixed(NOW), new SplittableRandom(7), GpuTelemetry.NONE);
        agent.start();
        await().atMost(PROMPTLY).until(agent::isConnected);

        assertThat(requestLogs(1, ref(7, 1, 0), 100).getError())
                .isEqualTo("the output of job 7 attempt 1 rank 0 was removed from node node-a at 2025-06-01T12:00:00Z: "
                        + "the node keeps output for 7d after a job ends (--retain)");
        assertThat(requestLogs(2, ref(8, 1, 0), 100).getError()).contains("it never ran here");
    }

    @Test
    void logRequestReturnsTheTailOfEachStream() throws IOException {
        connect(60_000);
        AttemptRef ref = ref(48, 2, 1);
        launch(ref, "for i in $(seq 1 500); do echo line-$i; done; echo oops >&2", List.of(0), 0);
        awaitExit(ref);

        LogData tail = requestLogs(1, ref, 20);
        assertThat(tail.getError()).isEmpty();
        String all = java.util.stream.IntStream.rangeClosed(1, 500)
                .mapToObj(i -> "line-" + i + "\n").collect(java.util.stream.Collectors.joining());
        assertThat(tail.getStdout().toString(UTF_8)).isEqualTo(all.substring(all.length() - 20));
        assertThat(tail.getStderr().toString(UTF_8)).isEqualTo("oops\n");

        LogData whole = requestLogs(2, ref, 0);
        assertThat(whole.getStdout().toString(UTF_8)).isEqualTo(all);

        // From an offset: exactly the bytes after it, and where they start.
        int from = all.length() - 15;
        LogData since = requestLogs(4, ref, 100, from, 3);
        assertThat(since.getStdout().toString(UTF_8)).isEqualTo(all.substring(from));
        assertThat(since.getStdoutOffset()).isEqualTo(from);
        assertThat(since.getStderr().toString(UTF_8)).isEqualTo("s\n");
        assertThat(since.getStderrOffset()).isEqualTo(3);
        assertThat(tail.getStdoutOffset()).isEqualTo(all.length() - 20);

        LogData unknown = requestLogs(3, ref(999, 1, 0), 100);
        assertThat(unknown.getError()).contains("job 999 attempt 1 rank 0");
        assertThat(unknown.getStdout().isEmpty()).isTrue();
    }

    @Test
    void launchIsIdempotent() throws IOException {
        connect(60_000);
        AttemptRef sleeper = ref(49, 1, 0);
        AttemptRef quick = ref(50, 1, 0);
        launch(sleeper, "sleep 60", List.of(0), 0);
        launch(quick, "echo run >> runs", List.of(1), 0);
        awaitExit(quick);
        await().atMost(PROMPTLY).until(() -> !scheduler.latest().started(sleeper).isEmpty());

        launch(sleeper, "sleep 60", List.of(0), 0);
        launch(quick, "echo run >> runs", List.of(1), 0);

        await().atMost(PROMPTLY).until(() -> scheduler.latest().exits(quick).size() == 2);
        assertThat(scheduler.latest().exits(quick)).allSatisfy(e -> assertThat(e.getExitCode()).isZero());
        assertThat(Files.readAllLines(workDir.resolve("jobs/50.1.0/runs"))).containsExactly("run");
        assertThat(scheduler.latest().started(sleeper)).hasSize(1);
    }

    @Test
    void reconnectListsRunningRanksAndResendsOnlyUnackedExits() throws IOException {
        connect(60_000);
        FakeScheduler.Stream first = scheduler.latest();
        AttemptRef unackedRef = ref(60, 1, 0);
        AttemptRef ackedRef = ref(61, 1, 0);
        AttemptRef runningRef = ref(62, 1, 0);
        launch(unackedRef, "exit 3", List.of(0), 0);
        launch(ackedRef, "true", List.of(1), 0);
        launch(runningRef, "sleep 60", List.of(2), 0);
        awaitExit(unackedRef);
        awaitExit(ackedRef);
        await().atMost(PROMPTLY).until(() -> !first.started(runningRef).isEmpty());
        first.send(SchedulerMessage.newBuilder().setExitAck(ExitAck.newBuilder().setRef(ackedRef)).build());

        first.end();

        await().atMost(PROMPTLY).until(() -> scheduler.streams.size() == 2 && agent.isConnected());
        FakeScheduler.Stream second = scheduler.latest();
        assertThat(second.hello().orElseThrow().getRunningList()).containsExactly(runningRef);
        await().atMost(PROMPTLY).until(() -> !second.exits(unackedRef).isEmpty());
        assertThat(second.exits(unackedRef)).singleElement()
                .satisfies(e -> assertThat(e.getExitCode()).isEqualTo(3));
        assertThat(second.exits(ackedRef)).isEmpty();
        assertThat(second.started(runningRef)).as("a rank keeps running across a reconnect").isEmpty();

        // Once acknowledged, an exit is not sent again on the next reconnect.
        second.send(SchedulerMessage.newBuilder().setExitAck(ExitAck.newBuilder().setRef(unackedRef)).build());
        second.send(SchedulerMessage.newBuilder()
                .setKill(Kill.newBuilder().setRef(runningRef).setGraceSeconds(5)).build());
        AttemptExited killed = await().atMost(PROMPTLY)
                .until(() -> second.exits(runningRef).stream().findFirst().orElse(null), e -> e != null);
        assertThat(killed.getReason()).isEqualTo("killed");
        second.end();

        await().atMost(PROMPTLY).until(() -> scheduler.streams.size() == 3 && agent.isConnected());
        FakeScheduler.Stream third = scheduler.latest();
        await().atMost(PROMPTLY).until(() -> !third.exits(runningRef).isEmpty());
        assertThat(third.hello().orElseThrow().getRunningList()).isEmpty();
        assertThat(third.exits(unackedRef)).isEmpty();
        assertThat(third.exits(ackedRef)).isEmpty();
    }

    @Test
    void closeStopsEveryRankAndReportsItBeforeEndingTheStream() throws IOException {
        connect(60_000);
        AttemptRef ref = ref(70, 1, 0);
        launch(ref, "sleep 60 & echo $! > child.pid; wait", List.of(0), 0);
        long child = awaitChildPid(ref);
        long leader = awaitStartedPid(ref);
        FakeScheduler.Stream stream = scheduler.latest();

        agent.close();

        assertThat(agent.isConnected()).isFalse();
        // Messages arrive in order, so once the agent's half-close is in, so is everything before it.
        await().atMost(PROMPTLY).until(() -> stream.completedByAgent);
        assertThat(stream.exits(ref)).singleElement()
                .satisfies(e -> assertThat(e.getReason()).isEqualTo("killed"));
        await().atMost(PROMPTLY).until(() -> isGone(leader) && isGone(child));
        assertThat(scheduler.streams).hasSize(1);
    }

    @Test
    void anAgentWhoseIdentityIsRefusedStopsWithTheSchedulersReason() throws Exception {
        startRefused(io.grpc.Status.UNAUTHENTICATED.withDescription(
                "node node-a is not enrolled or its token is wrong: check the node identity file"));

        assertThat(agent.awaitClosed(PROMPTLY)).as("agent stopped").isTrue();
        assertThat(agent.failure()).hasValueSatisfying(why -> assertThat(why)
                .contains("refused node node-a").contains("UNAUTHENTICATED").contains("token is wrong"));
        assertThat(scheduler.refused.get()).isEqualTo(1);
    }

    @Test
    void anAgentRefusedBecauseItsNodeIsConnectedElsewhereBacksOffAndKeepsTrying() throws Exception {
        startRefused(io.grpc.Status.ALREADY_EXISTS.withDescription(
                "node node-a is already connected from another agent"));

        await().atMost(PROMPTLY).until(() -> scheduler.refused.get() >= 3);
        assertThat(agent.failure()).isEmpty();
        scheduler.refuse = null;
        await().atMost(Duration.ofSeconds(10)).until(agent::isConnected);
    }

    private void startRefused(io.grpc.Status refusal) throws IOException {
        scheduler = new FakeScheduler(60_000);
        scheduler.refuse = refusal;
        String name = InProcessServerBuilder.generateName();
        server = InProcessServerBuilder.forName(name).addService(scheduler).build().start();
        AgentConfig config = new AgentConfig("in-process:" + name, "node-a", "lab-1",
                GpuSpec.parse("sim:1xA100-80GB").resolve(new NvidiaSmi("")), workDir, "test-1");
        agent = new Agent(config, InProcessChannelBuilder.forName(name).build(),
                new ProcessLauncher(workDir), InstantSource.fixed(NOW), new SplittableRandom(7), GpuTelemetry.NONE);
        agent.start();
    }

    // ------------------------------------------------------------------ helpers

    private void connect(long heartbeatMs) throws IOException {
        connect(heartbeatMs, GpuSpec.parse("sim:2xA100-80GB,1xL4-24GB").resolve(new NvidiaSmi("")),
                GpuTelemetry.NONE);
    }

    private void connect(long heartbeatMs, List<GpuDevice> gpus, GpuTelemetry telemetry) throws IOException {
        scheduler = new FakeScheduler(heartbeatMs);
        String name = InProcessServerBuilder.generateName();
        server = InProcessServerBuilder.forName(name).addService(scheduler).build().start();
        AgentConfig config = new AgentConfig("in-process:" + name, "node-a", "lab-1", gpus, workDir, "test-1");
        agent = new Agent(config, InProcessChannelBuilder.forName(name).build(),
                new ProcessLauncher(workDir), InstantSource.fixed(NOW), new SplittableRandom(7), telemetry);
        agent.start();
        await().atMost(PROMPTLY).until(agent::isConnected);
    }

    /**
     * A fake {@code nvidia-smi} in its own directory, answering the discovery query with the
     * {@code discovery} fixture and the usage query with {@code usageBody}, a shell snippet.
     */
    private NvidiaSmi fakeNvidiaSmi(String discovery, String usageBody) throws IOException {
        Path bin = Files.createDirectories(workDir.resolve("fake-bin"));
        Path fixture = bin.resolve(discovery);
        try (var in = getClass().getResourceAsStream("/nvidia-smi/" + discovery)) {
            Files.write(fixture, in.readAllBytes());
        }
        Path exe = bin.resolve("nvidia-smi");
        Files.writeString(exe, "#!/bin/sh\ncase \"$*\" in\n"
                + "'" + String.join(" ", NvidiaSmi.QUERY) + "') cat '" + fixture + "';;\n"
                + "'" + String.join(" ", NvidiaSmi.USAGE_QUERY) + "') " + usageBody + ";;\n"
                + "*) echo \"unexpected arguments: $*\" >&2; exit 2;;\nesac\n");
        Files.setPosixFilePermissions(exe, java.nio.file.attribute.PosixFilePermissions.fromString("rwxr-xr-x"));
        return new NvidiaSmi(bin.toString());
    }

    /** Copies a usage fixture next to the fake and returns the snippet that prints it. */
    private String printUsage(String fixture) throws IOException {
        Path copy = Files.createDirectories(workDir.resolve("fake-bin")).resolve(fixture);
        try (var in = getClass().getResourceAsStream("/nvidia-smi/" + fixture)) {
            Files.write(copy, in.readAllBytes());
        }
        return "cat '" + copy + "'";
    }

    private static AttemptRef ref(long job, int attempt, int rank) {
        return AttemptRef.newBuilder().setJobId(job).setAttempt(attempt).setRank(rank).build();
    }

    private void launch(AttemptRef ref, String command, List<Integer> gpus, long walltimeSeconds) {
        launch(ref, command, gpus, walltimeSeconds, Map.of());
    }

    private void launch(AttemptRef ref, String command, List<Integer> gpus, long walltimeSeconds,
            Map<String, String> env) {
        scheduler.latest().send(SchedulerMessage.newBuilder()
                .setLaunch(Launch.newBuilder()
                        .setRef(ref).setCommand(command).addAllGpuIndices(gpus).putAllEnv(env)
                        .setWalltimeSeconds(walltimeSeconds))
                .build());
    }

    private AttemptExited awaitExit(AttemptRef ref) {
        FakeScheduler.Stream stream = scheduler.latest();
        await().atMost(PROMPTLY).until(() -> !stream.exits(ref).isEmpty());
        return stream.exits(ref).get(0);
    }

    private LogData requestLogs(long requestId, AttemptRef ref, int maxBytes) {
        return requestLogs(requestId, ref, maxBytes, 0, 0);
    }

    private LogData requestLogs(long requestId, AttemptRef ref, int maxBytes, long stdoutOffset, long stderrOffset) {
        FakeScheduler.Stream stream = scheduler.latest();
        stream.send(SchedulerMessage.newBuilder()
                .setLogRequest(LogRequest.newBuilder().setRequestId(requestId).setRef(ref).setMaxBytes(maxBytes)
                        .setStdoutOffset(stdoutOffset).setStderrOffset(stderrOffset))
                .build());
        await().atMost(PROMPTLY).until(() -> stream.logData(requestId).isPresent());
        return stream.logData(requestId).orElseThrow();
    }

    private long awaitStartedPid(AttemptRef ref) {
        FakeScheduler.Stream stream = scheduler.latest();
        await().atMost(PROMPTLY).until(() -> !stream.started(ref).isEmpty());
        return stream.started(ref).get(0).getPid();
    }

    /** The pid of the background child the test command wrote to {@code child.pid}. */
    private long awaitChildPid(AttemptRef ref) {
        Path file = workDir.resolve("jobs/" + ref.getJobId() + "." + ref.getAttempt() + "."
                + ref.getRank() + "/child.pid");
        await().atMost(PROMPTLY).pollInterval(20, TimeUnit.MILLISECONDS)
                .until(() -> Files.exists(file) && Files.readString(file).endsWith("\n"));
        try {
            return Long.parseLong(Files.readString(file).strip());
        } catch (IOException e) {
            throw new AssertionError(e);
        }
    }

    /** Fields of /proc/PID/stat after the command name, which may itself contain spaces. */
    private static String[] statFields(long pid) throws IOException {
        String stat = Files.readString(Path.of("/proc", Long.toString(pid), "stat"));
        return stat.substring(stat.lastIndexOf(')') + 2).split(" ");
    }

    private static long processGroupOf(long pid) throws IOException {
        return Long.parseLong(statFields(pid)[2]);
    }

    /** Gone, or a zombie: dead, with only the reaping by its (re)parent left. */
    private static boolean isGone(long pid) {
        try {
            return statFields(pid)[0].equals("Z");
        } catch (IOException e) {
            return true;
        }
    }
}
