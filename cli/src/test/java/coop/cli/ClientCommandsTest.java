package coop.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import coop.v1.AccountShare;
import coop.v1.AccountUsage;
import coop.v1.Attempt;
import coop.v1.Choice;
import coop.v1.GetPolicyRequest;
import coop.v1.Gpu;
import coop.v1.GpuUsage;
import coop.v1.Job;
import coop.v1.JobState;
import coop.v1.ListJobsRequest;
import coop.v1.LogChunk;
import coop.v1.NodeInfo;
import coop.v1.Placement;
import coop.v1.Policy;
import coop.v1.Proposal;
import coop.v1.ProposalState;
import coop.v1.ProposeRequest;
import coop.v1.SharesChange;
import coop.v1.SubmitRequest;
import coop.v1.Tally;
import coop.v1.UsageResponse;
import coop.v1.VoteRequest;
import io.grpc.Status;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.IntStream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The client commands end to end against a real gRPC server on 127.0.0.1. */
class ClientCommandsTest {

    @TempDir
    Path dir;

    private FakeScheduler scheduler;
    private Identity aliceIdentity;
    private String address;
    private String identity;

    @BeforeEach
    void start() throws Exception {
        scheduler = new FakeScheduler();
        address = scheduler.address();
        Path file = dir.resolve("alice.json");
        aliceIdentity = Identity.generate("alice", "s3cret", scheduler.address());
        aliceIdentity.write(file);
        identity = file.toString();
    }

    @AfterEach
    void stop() throws Exception {
        scheduler.close();
    }

    /** Runs {@code coop COMMAND --scheduler ADDR --identity FILE ARGS...}. */
    private CliRun coop(String... commandAndArgs) {
        List<String> args = new ArrayList<>();
        int split = List.of("propose", "node").contains(commandAndArgs[0]) ? 2 : 1;
        args.addAll(List.of(commandAndArgs).subList(0, split));
        args.addAll(List.of("--scheduler", address, "--identity", identity));
        args.addAll(List.of(commandAndArgs).subList(split, commandAndArgs.length));
        return CliRun.of(args.toArray(String[]::new));
    }

    @Test
    void submitSendsTheRequestAndTheCallersHeaders() {
        CliRun run = coop("submit", "--account", "lab-a", "--gpus", "4", "--nodes", "2", "--gpu-model", "A100",
                "--walltime", "1h30m", "--priority", "3", "--name", "train", "--cross-site", "--no-preempt",
                "--purpose", "llm", "--array", "0-3", "--signal", "B:USR1@120", "--requeue-on-timeout", "2",
                "--chdir", "/shared/ada/project", "--export", "LR=3e-4,HF_HOME=/data",
                "--", "python", "train.py", "--lr", "3e-4");

        assertThat(run.err()).isEmpty();
        assertThat(run.exitCode()).isZero();
        assertThat(run.out()).isEqualTo("submitted job 42" + System.lineSeparator());
        assertThat(scheduler.last(SubmitRequest.class)).isEqualTo(SubmitRequest.newBuilder()
                .setAccount("lab-a").setGpusPerNode(4).setNodes(2).setGpuModel("A100")
                .setWalltimeSeconds(5400).setPriority(3).setName("train").setCrossSite(true).setNoPreempt(true)
                .setPurpose("llm").setArray("0-3").setSignal("B:USR1@120").setRequeueOnTimeout(2)
                .setCommand("python train.py --lr 3e-4")
                .setChdir("/shared/ada/project").putEnv("LR", "3e-4").putEnv("HF_HOME", "/data").build());
        assertThat(scheduler.lastHeaders().get(Client.MEMBER_HEADER)).isEqualTo("alice");
        assertThat(scheduler.lastHeaders().get(Client.TOKEN_HEADER)).isEqualTo("s3cret");
    }

    @Test
    void submitRefusesARelativeFolderAndABadExportBeforeCallingTheScheduler() {
        CliRun relative = coop("submit", "--account", "lab-a", "--gpus", "1", "--chdir", "project", "--", "true");
        assertThat(relative.exitCode()).isNotZero();
        assertThat(relative.err()).contains("--chdir: 'project' must be an absolute path");
        CliRun badName = coop("submit", "--account", "lab-a", "--gpus", "1", "--export", "A-B=1", "--", "true");
        assertThat(badName.exitCode()).isNotZero();
        assertThat(badName.err()).contains("--export: 'A-B' is not a variable name");
        assertThatThrownBy(() -> scheduler.last(SubmitRequest.class)).isInstanceOf(AssertionError.class);
    }

    @Test
    void submitTakesTheCommandWithoutDoubleDashAndPrintsJson() throws Exception {
        CliRun run = coop("submit", "--account", "lab-a", "--gpus", "1", "--json", "bash", "-c", "echo hi");

        assertThat(run.exitCode()).isZero();
        assertThat(new ObjectMapper().readTree(run.out()).get("job_id").asLong()).isEqualTo(42);
        SubmitRequest request = scheduler.last(SubmitRequest.class);
        assertThat(request.getCommand()).isEqualTo("bash -c echo hi");
        assertThat(request.getNodes()).isEqualTo(1);
        assertThat(request.getWalltimeSeconds()).isZero();
        assertThat(request.getCrossSite()).isFalse();
        assertThat(request.getNoPreempt()).isFalse();
        assertThat(request.getPriority()).isZero();
        assertThat(request.getGpuModel()).isEmpty();
        assertThat(request.getArray()).isEmpty();
    }

    @Test
    void submitRefusesZeroNodesOrGpusWithoutCallingTheScheduler() {
        for (String[] bad : List.of(new String[] {"--nodes", "0"}, new String[] {"--nodes", "-2"},
                new String[] {"--gpus", "0"})) {
            List<String> args = new ArrayList<>(List.of("submit", "--account", "lab-a"));
            args.addAll(List.of(bad));
            if (!bad[0].equals("--gpus")) {
                args.addAll(List.of("--gpus", "1"));
            }
            args.addAll(List.of("--", "true"));
            CliRun run = coop(args.toArray(String[]::new));

            assertThat(run.exitCode()).as(String.join(" ", bad)).isEqualTo(1);
            assertThat(run.out()).isEmpty();
            assertThat(run.err().lines()).containsExactly("error: " + bad[0] + ": must be at least 1, got " + bad[1]);
        }
        assertThat(scheduler.requests).noneMatch(r -> r instanceof SubmitRequest);
        // What the CLI sends, it sends explicitly, so a scheduler can tell it from a client that left nodes out.
        coop("submit", "--account", "lab-a", "--gpus", "1", "--", "true");
        assertThat(scheduler.last(SubmitRequest.class).hasNodes()).isTrue();
    }

    @Test
    void theSchedulerComesFromTheIdentityFileWhenNotGiven() {
        assumeTrue(System.getenv("COOP_SCHEDULER") == null, "COOP_SCHEDULER is set");
        CliRun run = CliRun.of("cancel", "--identity", identity, "5");

        assertThat(run.err()).isEmpty();
        assertThat(run.out()).isEqualTo("cancelled job 5" + System.lineSeparator());
    }

    @Test
    void proposeSharesSendsBasisPoints() {
        CliRun run = coop("propose", "shares", "lab-a=50", "lab-b=33.33", "uni-c=16.67", "--closes-in", "2m",
                "--title", "rebalance");

        assertThat(run.err()).isEmpty();
        assertThat(run.exitCode()).isZero();
        ProposeRequest request = scheduler.last(ProposeRequest.class);
        assertThat(request.getShares().getSharesList()).containsExactly(
                share("lab-a", 5000), share("lab-b", 3333), share("uni-c", 1667));
        assertThat(request.getClosesInSeconds()).isEqualTo(120);
        assertThat(request.getTitle()).isEqualTo("rebalance");
        assertThat(run.out().lines().findFirst().orElseThrow()).matches(
                "proposal 7 open until (\\d{4}-\\d\\d-\\d\\d )?\\d\\d:\\d\\d:\\d\\d UTC: rebalance");
        assertThat(coop.scheduler.ledger.Keys.verify(aliceIdentity.publicKey(), coop.scheduler.ledger.Canonical.encode(
                coop.scheduler.rpc.SignedStatements.propose("alice", request)), request.getSignature()))
                .as("signed with alice's key over the canonical statement").isTrue();
    }

    @Test
    void aBadShareAnywhereIsNamedWithItsRule() {
        // Each share line, wherever the bad one stands among them, and the one line its refusal must be.
        Map<List<String>, String> refusals = new java.util.LinkedHashMap<>();
        refusals.put(List.of("lab-a=50", "lab-b=-30", "uni-c=80"),
                "share for lab-b must be between 0 and 100, got -30");
        refusals.put(List.of("lab-b=-30", "lab-a=50"), "share for lab-b must be between 0 and 100, got -30");
        refusals.put(List.of("lab-a=50", "lab-b=-0.5"), "share for lab-b must be between 0 and 100, got -0.5");
        refusals.put(List.of("lab-a=50", "lab-b=130"), "share for lab-b must be between 0 and 100, got 130");
        refusals.put(List.of("lab-a=50", "lab-b=1e2"), "share for lab-b must be a percentage such as 30 or 33.33, "
                + "got '1e2'");
        refusals.put(List.of("lab-a=50", "lab-b=33.333"), "share for lab-b may have at most two decimals, got 33.333");
        refusals.put(List.of("lab-a=50", "lab-b"), "share 'lab-b' is not ACCOUNT=PERCENT (for example lab-a=50)");
        refusals.put(List.of("lab-a=50", "=30"), "share '=30' is not ACCOUNT=PERCENT (for example lab-a=50)");
        for (var refusal : refusals.entrySet()) {
            List<String> args = new ArrayList<>(List.of("propose", "shares"));
            args.addAll(refusal.getKey());
            CliRun run = coop(args.toArray(String[]::new));

            assertThat(run.exitCode()).as(refusal.getKey().toString()).isEqualTo(2);
            assertThat(run.out()).isEmpty();
            assertThat(run.err().lines().findFirst().orElse("")).as(refusal.getKey().toString())
                    .isEqualTo(refusal.getValue());
        }
        assertThat(scheduler.requests).noneMatch(r -> r instanceof ProposeRequest);
    }

    @Test
    void sharesThatDoNotSumTo100AreLeftToTheSchedulerToRefuse() {
        scheduler.failure = Status.INVALID_ARGUMENT.withDescription("shares: must sum to 100% (got 90%)");

        CliRun run = coop("propose", "shares", "lab-a=50", "lab-b=40");

        assertThat(scheduler.last(ProposeRequest.class).getShares().getSharesCount()).isEqualTo(2);
        assertThat(run.exitCode()).isEqualTo(1);
        assertThat(run.out()).isEmpty();
        assertThat(run.err().lines()).containsExactly("error: shares: must sum to 100% (got 90%)");
    }

    @Test
    void refusalsOfEveryKindAreOneLine() {
        scheduler.failure = Status.PERMISSION_DENIED.withDescription("alice is not a member of account\nlab-z");
        CliRun denied = coop("submit", "--account", "lab-z", "--gpus", "1", "--", "true");
        assertThat(denied.exitCode()).isEqualTo(1);
        assertThat(denied.err().lines()).containsExactly("error: alice is not a member of account lab-z");

        scheduler.failure = Status.INTERNAL.withDescription("boom");
        CliRun internal = coop("job", "3");
        assertThat(internal.exitCode()).isEqualTo(1);
        assertThat(internal.err().lines()).containsExactly("error: internal: boom");
    }

    @Test
    void anUnreachableSchedulerIsNamed() throws Exception {
        scheduler.close();

        CliRun run = coop("jobs");

        assertThat(run.exitCode()).isEqualTo(1);
        assertThat(run.err().lines())
                .containsExactly("error: cannot reach scheduler at " + address + " (is it running?)");
    }

    @Test
    void clientCommandsNeedAnIdentity() {
        assumeTrue(System.getenv("COOP_IDENTITY") == null, "COOP_IDENTITY is set");
        CliRun run = CliRun.of("jobs", "--scheduler", scheduler.address());

        assertThat(run.exitCode()).isEqualTo(1);
        assertThat(run.err().lines())
                .containsExactly("error: no identity: pass --identity FILE or set COOP_IDENTITY");
        assertThat(scheduler.requests).isEmpty();
    }

    @Test
    void nodeSetSendsOnlyTheTermsGivenAndPrintsWhenTheNodeOpens() {
        CliRun run = coop("node", "set", "gpu-07", "--reserve", "2", "--window", "Mon-Fri 20:00-08:00",
                "--window", "Sat,Sun", "--tz", "Europe/Berlin");

        assertThat(run.err()).isEmpty();
        assertThat(run.exitCode()).isZero();
        assertThat(scheduler.last(coop.v1.SetTermsRequest.class)).isEqualTo(coop.v1.SetTermsRequest.newBuilder()
                .setName("gpu-07").setReservedGpus(2).setSetWindows(true)
                .addWindows("Mon-Fri 20:00-08:00").addWindows("Sat,Sun").setTimeZone("Europe/Berlin").build());
        assertThat(run.out()).isEqualTo("node gpu-07: 2 GPU(s) reserved for lab-a; offered Mon-Fri 20:00-08:00; "
                + "Sat,Sun (Europe/Berlin), now closed, opens 2026-12-02T20:00:00Z (Wed 2026-12-02 21:00 "
                + "Europe/Berlin)" + System.lineSeparator());

        coop("node", "set", "gpu-07", "--reserve", "0");
        coop.v1.SetTermsRequest reserveOnly = scheduler.last(coop.v1.SetTermsRequest.class);
        assertThat(reserveOnly.hasReservedGpus()).isTrue();
        assertThat(reserveOnly.getSetWindows()).isFalse();
        assertThat(reserveOnly.getTimeZone()).isEmpty();

        coop("node", "set", "gpu-07", "--window", "daily 22:00-06:00");
        coop.v1.SetTermsRequest windowsOnly = scheduler.last(coop.v1.SetTermsRequest.class);
        assertThat(windowsOnly.hasReservedGpus()).isFalse();
        assertThat(windowsOnly.getTimeZone()).as("this machine's zone").isEqualTo(java.time.ZoneId.systemDefault().getId());

        coop("node", "set", "gpu-07", "--always");
        assertThat(scheduler.last(coop.v1.SetTermsRequest.class).getSetWindows()).isTrue();
        assertThat(scheduler.last(coop.v1.SetTermsRequest.class).getWindowsList()).isEmpty();
    }

    @Test
    void reportSendsTheMembersSignedConcern() {
        CliRun run = coop("report", "12", "--concern", "it mines coins");
        assertThat(run.exitCode()).as(run.err()).isZero();
        assertThat(run.out()).contains("reported job 12 (running)").contains("coop panel verify 12");
        coop.v1.ReportRequest sent = scheduler.last(coop.v1.ReportRequest.class);
        assertThat(sent.getJobId()).isEqualTo(12);
        assertThat(sent.getConcern()).isEqualTo("it mines coins");
        assertThat(coop.scheduler.ledger.Keys.verify(aliceIdentity.publicKey(), coop.scheduler.ledger.Canonical.encode(
                coop.scheduler.rpc.SignedStatements.report("alice", sent)), sent.getSignature())).isTrue();
        assertThat(coop("report", "12").exitCode()).as("--concern is required").isEqualTo(2);
    }

    @Test
    void nodeSetRefusesPurposesAndNodesShowsThem() {
        CliRun set = coop("node", "set", "gpu-07", "--refuse-purpose", "dual-use", "--refuse-purpose", "weapons");
        assertThat(set.exitCode()).as(set.err()).isZero();
        coop.v1.SetTermsRequest r = scheduler.last(coop.v1.SetTermsRequest.class);
        assertThat(r.getSetRefusedPurposes()).isTrue();
        assertThat(r.getRefusedPurposesList()).containsExactly("dual-use", "weapons");
        assertThat(r.getSetWindows()).isFalse();
        assertThat(set.out()).contains("refuses purposes dual-use, weapons");

        coop("node", "set", "gpu-07", "--refuse-no-purpose");
        assertThat(scheduler.last(coop.v1.SetTermsRequest.class).getSetRefusedPurposes()).isTrue();
        assertThat(scheduler.last(coop.v1.SetTermsRequest.class).getRefusedPurposesList()).isEmpty();
        assertThat(coop("node", "set", "gpu-07", "--refuse-no-purpose", "--refuse-purpose", "x").err())
                .contains("contradict");

        scheduler.nodes = List.of(NodeInfo.newBuilder().setName("node-a").setSite("site-1").setState("online")
                .addRefusedPurposes("dual-use").build(), NodeInfo.newBuilder().setName("node-b").setSite("site-1")
                .setState("online").build());
        CliRun nodes = coop("nodes");
        assertThat(nodes.out()).contains("REFUSES").containsPattern("node-a .*dual-use");
    }

    @Test
    void nodeSetRefusesContradictionsAndEmptyCallsWithoutCallingTheScheduler() {
        CliRun both = coop("node", "set", "gpu-07", "--always", "--window", "Sat");
        CliRun none = coop("node", "set", "gpu-07");

        assertThat(both.exitCode()).isNotZero();
        assertThat(both.err()).contains("--always and --window");
        assertThat(none.exitCode()).isNotZero();
        assertThat(none.err()).contains("nothing to set");
        assertThat(scheduler.requests).noneMatch(r -> r instanceof coop.v1.SetTermsRequest);
    }

    @Test
    void nodesWorksWithoutAnIdentity() {
        assumeTrue(System.getenv("COOP_IDENTITY") == null, "COOP_IDENTITY is set");
        scheduler.nodes = List.of(NodeInfo.newBuilder().setName("node-a").setSite("site-1").setState("online")
                .addAllGpus(IntStream.range(0, 8).mapToObj(i -> Gpu.newBuilder().setIndex(i).setModel("A100").build()).toList())
                .addAllBusyGpuIndices(List.of(0, 1, 2)).addRunningJobIds(12).addRunningJobIds(14).build());

        CliRun run = CliRun.of("nodes", "--scheduler", scheduler.address());

        assertThat(run.err()).isEmpty();
        assertThat(run.out().lines()).containsExactly(
                "NODE    SITE    STATE   GPUS    BUSY  JOBS",
                "node-a  site-1  online  8xA100  3/8   12,14");
        assertThat(scheduler.lastHeaders().get(Client.MEMBER_HEADER)).isNull();
    }

    /** A DGX with GPUs 0-3 in MIG mode (no utilization stated) next to a simulated node reporting none. */
    private void nodesWithUsage() {
        NodeInfo.Builder dgx = NodeInfo.newBuilder().setName("dgx-1").setSite("site-1").setState("online")
                .setLastHeartbeatMs(1_748_779_200_000L).setHeartbeatLagMs(35)
                .addAllGpus(IntStream.range(0, 8).mapToObj(i -> Gpu.newBuilder().setIndex(i).setModel("A100")
                        .setMemoryMib(81920).build()).toList());
        for (int i = 0; i < 8; i++) {
            GpuUsage.Builder u = GpuUsage.newBuilder().setIndex(i).setMemoryUsedMib(i < 4 ? 13 : 40960);
            if (i >= 4) {
                u.setUtilizationPct(i == 4 ? 100 : 50);
            }
            dgx.addGpuUsage(u);
        }
        NodeInfo sim = NodeInfo.newBuilder().setName("sim-1").setSite("site-1").setState("online")
                .addGpus(Gpu.newBuilder().setIndex(0).setModel("L4")).build();
        scheduler.nodes = List.of(dgx.build(), sim);
    }

    @Test
    void nodesShowsUtilizationAndMemoryWhenReported() throws Exception {
        assumeTrue(System.getenv("COOP_IDENTITY") == null, "COOP_IDENTITY is set");
        nodesWithUsage();

        CliRun run = CliRun.of("nodes", "--scheduler", scheduler.address());

        assertThat(run.err()).isEmpty();
        // Mean of the four GPUs that state utilization; memory over the GPUs that report it.
        assertThat(run.out().lines()).containsExactly(
                "NODE   SITE    STATE   GPUS    BUSY  UTIL  MEM       JOBS",
                "dgx-1  site-1  online  8xA100  0/8   63%   160/640G  -",
                "sim-1  site-1  online  1xL4    0/1   -     -         -");
        JsonNode json = new ObjectMapper().readTree(CliRun.of("nodes", "--json", "--scheduler", scheduler.address()).out());
        JsonNode usage = json.get(0).get("gpu_usage");
        assertThat(usage).hasSize(8);
        assertThat(usage.get(0).get("utilization_pct").isNull()).isTrue();
        assertThat(usage.get(0).get("memory_used_mib").asLong()).isEqualTo(13);
        assertThat(usage.get(4).get("utilization_pct").asInt()).isEqualTo(100);
        assertThat(json.get(0).get("heartbeat_lag_ms").asLong()).isEqualTo(35);
        assertThat(json.get(1).get("gpu_usage")).isEmpty();
    }

    @Test
    void nodeStatusShowsEachGpusUsage() {
        assumeTrue(System.getenv("COOP_IDENTITY") == null, "COOP_IDENTITY is set");
        nodesWithUsage();

        CliRun run = CliRun.of("node", "status", "dgx-1", "--scheduler", scheduler.address());

        assertThat(run.err()).isEmpty();
        assertThat(run.out()).contains(
                "  gpu 0: utilization not reported, 13 of 81920 MiB in use\n",
                "  gpu 4: 100% busy, 40960 of 81920 MiB in use\n",
                "(lag 35 ms)");
        assertThat(CliRun.of("node", "status", "sim-1", "--scheduler", scheduler.address()).out())
                .doesNotContain("gpu 0:");
    }

    @Test
    void jobsListsAsJsonAndAsATable() throws Exception {
        long now = System.currentTimeMillis();
        scheduler.jobs = List.of(
                Job.newBuilder().setId(3).setName("big").setAccount("lab-a").setMember("alice").setGpusPerNode(4)
                        .setNodes(2).setState(JobState.PENDING).setSubmittedAtMs(now - 60_000)
                        .setWhyPending("needs 2 nodes with 4 free A100 at one site").setGpuModel("A100").build(),
                Job.newBuilder().setId(2).setAccount("lab-b").setMember("bob").setGpusPerNode(1).setNodes(1)
                        .setState(JobState.RUNNING).setSubmittedAtMs(now - 120_000)
                        .addAttempts(Attempt.newBuilder().setNumber(1).setStartedAtMs(now - 90_000).setGpus(1)
                                .setBorrowed(true)
                                .addPlacements(Placement.newBuilder().setNode("node-b").setGpuModel("H100")))
                        .build(),
                Job.newBuilder().setId(1).setAccount("lab-a").setMember("alice").setGpusPerNode(1)
                        .setState(JobState.SUCCEEDED).build());

        CliRun json = coop("jobs", "--json", "--state", "pending,RUNNING", "--account", "lab-a", "--limit", "5");
        assertThat(json.exitCode()).isZero();
        JsonNode array = new ObjectMapper().readTree(json.out());
        assertThat(array.isArray()).isTrue();
        assertThat(List.of(array.get(0).get("id").asLong(), array.get(1).get("id").asLong(), array.get(2).get("id").asLong()))
                .containsExactly(3L, 2L, 1L);
        assertThat(array.get(0).get("state").asText()).isEqualTo("PENDING");
        assertThat(array.get(0).get("submitted_at_ms").asLong()).isEqualTo(now - 60_000);
        assertThat(array.get(1).get("attempts").get(0).get("placements").get(0).get("node").asText()).isEqualTo("node-b");
        assertThat(array.get(1).get("attempts").get(0).get("borrowed").asBoolean()).isTrue();
        assertThat(array.get(0).has("no_preempt")).isTrue();
        assertThat(scheduler.last(ListJobsRequest.class)).as("an account's jobs are any member's")
                .isEqualTo(ListJobsRequest.newBuilder().setAccount("lab-a")
                        .addStates(JobState.PENDING).addStates(JobState.RUNNING).setPageSize(5).build());

        CliRun table = coop("jobs", "--all");
        assertThat(scheduler.last(ListJobsRequest.class))
                .isEqualTo(ListJobsRequest.newBuilder().setGroupArrays(true).setPageSize(Client.MAX_PAGE).build());
        List<String> lines = table.out().lines().toList();
        assertThat(lines.get(0)).startsWith("ID").contains("NAME", "ACCOUNT", "MEMBER", "STATE", "GPUS", "MODEL",
                "AGE/ELAPSED", "NODES/WHY");
        assertThat(lines.get(1)).matches("3\\s+big\\s+lab-a\\s+alice\\s+pending\\s+2x4\\s+A100\\s+1m\\d*s?\\s+"
                + "needs 2 nodes with 4 free A100 at one site");
        assertThat(lines.get(2)).matches("2\\s+-\\s+lab-b\\s+bob\\s+running PREEMPTIBLE\\s+1\\s+H100\\s+1m\\d*s?\\s+node-b");
        assertThat(lines.get(3)).matches("1\\s+-\\s+lab-a\\s+alice\\s+succeeded\\s+1\\s+any\\s+-\\s+-");

        // Repeated --state options add up; --expand and --array ask for the tasks one by one.
        assertThat(coop("jobs", "--state", "review", "--state", "Failed,cancelled", "--expand").exitCode()).isZero();
        assertThat(scheduler.last(ListJobsRequest.class)).as("the caller's jobs in the states given")
                .isEqualTo(ListJobsRequest.newBuilder().setMember("alice").addStates(JobState.REVIEW)
                        .addStates(JobState.FAILED).addStates(JobState.CANCELLED).setPageSize(Client.MAX_PAGE).build());
        assertThat(coop("jobs", "--array", "7").exitCode()).isZero();
        assertThat(scheduler.last(ListJobsRequest.class)).as("every task of the array")
                .isEqualTo(ListJobsRequest.newBuilder().setArrayId(7).setPageSize(Client.MAX_PAGE).build());
        assertThat(coop("jobs", "--member", "bob", "--all").exitCode()).isZero();
        assertThat(scheduler.last(ListJobsRequest.class)).isEqualTo(ListJobsRequest.newBuilder().setMember("bob")
                .setGroupArrays(true).setPageSize(Client.MAX_PAGE).build());
    }

    @Test
    void jobsByDefaultAsksForTheCallersActiveJobsAndFollowsEveryPage() {
        List<Job> many = new ArrayList<>();
        for (int id = 12_000; id > 0; id--) {
            many.add(Job.newBuilder().setId(id).setAccount("lab-a").setMember("alice").setGpusPerNode(1)
                    .setState(JobState.PENDING).build());
        }
        scheduler.jobs = many;

        CliRun run = coop("jobs", "--json");
        assertThat(run.exitCode()).isZero();
        assertThat(scheduler.requests).filteredOn(r -> r instanceof ListJobsRequest).hasSize(3);
        assertThat(scheduler.last(ListJobsRequest.class)).isEqualTo(ListJobsRequest.newBuilder().setMember("alice")
                .addStates(JobState.PENDING).addStates(JobState.REVIEW).addStates(JobState.RUNNING)
                .setPageSize(Client.MAX_PAGE).setPageToken("10000").build());
        assertThat(run.out().lines().filter(l -> l.startsWith("  \"id\"")).count()).isEqualTo(12_000);

        scheduler.requests.clear();
        CliRun limited = coop("jobs", "--limit", "7001", "--json");
        assertThat(limited.exitCode()).isZero();
        assertThat(scheduler.requests).filteredOn(r -> r instanceof ListJobsRequest)
                .extracting(r -> ((ListJobsRequest) r).getPageSize()).containsExactly(5000, 2001);
        assertThat(limited.out().lines().filter(l -> l.startsWith("  \"id\"")).count()).isEqualTo(7001);

        CliRun help = coop("jobs", "--help");
        assertThat(help.out().replaceAll("\\s+", " ")).contains("By default only your own pending, in-review and "
                + "running jobs");
    }

    @Test
    void historyListsFinishedJobsWithTheColumnsAskedForAndTheirGpuHours() throws Exception {
        long end = System.currentTimeMillis() - 3_600_000;
        scheduler.jobs = List.of(
                Job.newBuilder().setId(8).setName("ft").setAccount("lab-a").setMember("alice").setGpusPerNode(4)
                        .setNodes(2).setState(JobState.SUCCEEDED).setSubmittedAtMs(end - 10_000_000)
                        .setFinishedAtMs(end)
                        // Preempted after half an hour on 8 GPUs, then an hour and a half on 8: 16 GPU-hours.
                        .addAttempts(Attempt.newBuilder().setNumber(1).setGpus(8).setStartedAtMs(end - 9_000_000)
                                .setFinishedAtMs(end - 7_200_000).setOutcome("preempted").setExitCode(143))
                        .addAttempts(Attempt.newBuilder().setNumber(2).setGpus(8).setStartedAtMs(end - 5_400_000)
                                .setFinishedAtMs(end).setOutcome("exited").setExitCode(0))
                        .build(),
                Job.newBuilder().setId(5).setAccount("lab-a").setMember("alice").setGpusPerNode(1).setNodes(1)
                        .setState(JobState.CANCELLED).setSubmittedAtMs(end - 60_000).setFinishedAtMs(end)
                        .setEndReason("cancelled: member alice was removed").build());

        long before = System.currentTimeMillis();
        CliRun run = coop("history", "--format", "id,name,state,gpus,nodes,gpu_hours,exit_code,reason");
        assertThat(run.err()).isEmpty();
        assertThat(run.exitCode()).isZero();
        ListJobsRequest asked = scheduler.last(ListJobsRequest.class);
        assertThat(asked.getMember()).isEqualTo("alice");
        assertThat(asked.getStatesList()).isEmpty();
        assertThat(asked.getFinishedSinceMs()).as("7 days back by default")
                .isBetween(before - 7 * 86_400_000L, System.currentTimeMillis() - 7 * 86_400_000L);
        List<String> lines = run.out().lines().toList();
        assertThat(lines.get(0)).matches("ID\\s+NAME\\s+STATE\\s+GPUS\\s+NODES\\s+GPU_HOURS\\s+EXIT_CODE\\s+REASON");
        assertThat(lines.get(1)).matches("8\\s+ft\\s+succeeded\\s+8\\s+2\\s+16.00\\s+0\\s+exited with code 0");
        assertThat(lines.get(2)).matches("5\\s+-\\s+cancelled\\s+1\\s+1\\s+0.00\\s+-\\s+"
                + "cancelled: member alice was removed");

        CliRun json = coop("history", "--all", "--since", "2d", "--state", "succeeded", "--json");
        assertThat(json.exitCode()).isZero();
        asked = scheduler.last(ListJobsRequest.class);
        assertThat(asked.getMember()).as("--all: every member's").isEmpty();
        assertThat(asked.getStatesList()).containsExactly(JobState.SUCCEEDED);
        assertThat(asked.getFinishedSinceMs()).isLessThanOrEqualTo(System.currentTimeMillis() - 2 * 86_400_000L);
        JsonNode parsed = new ObjectMapper().readTree(json.out());
        assertThat(parsed.get(0).get("gpu_hours").asDouble()).isEqualTo(16.0);
        assertThat(parsed.get(0).get("attempts")).hasSize(2);

        CliRun bad = coop("history", "--format", "id,gpu-hours");
        assertThat(bad.exitCode()).isEqualTo(1);
        assertThat(bad.err()).contains("--format: unknown column 'gpu-hours'; choose from id,name,account,member,"
                + "state,gpus,nodes,model,submitted,started,ended,elapsed,attempts,gpu_hours,exit_code,reason");
        CliRun help = coop("history", "--help");
        assertThat(help.out().replaceAll("\\s+", " ")).contains("gpu_hours", "exit_code", "reason", "default: 7d",
                "By default only your own that ended in the last 7 days");
    }

    @Test
    void jobShowsAttemptsAndWhyPending() {
        scheduler.jobs = List.of(Job.newBuilder().setId(9).setName("ft").setAccount("lab-a").setMember("alice")
                .setGpusPerNode(2).setNodes(2).setState(JobState.PENDING).setWhyPending("node-a: draining")
                .setExpectedStartMs(1_700_000_600_000L)
                .setSubmittedAtMs(1_700_000_000_000L).setCommand("python ft.py")
                .addAttempts(Attempt.newBuilder().setNumber(1).setStartedAtMs(1_700_000_060_000L)
                        .setFinishedAtMs(1_700_000_120_000L).setOutcome("requeued").setExitCode(143).setGpus(4)
                        .setBorrowed(true)
                        .addPlacements(Placement.newBuilder().setNode("node-a").setSite("s1").addGpuIndices(0).addGpuIndices(1).setGpuModel("A100"))
                        .addPlacements(Placement.newBuilder().setNode("node-b").setSite("s1").addGpuIndices(2).addGpuIndices(3).setGpuModel("A100")))
                .build());

        CliRun run = coop("job", "9");

        assertThat(run.exitCode()).isZero();
        assertThat(run.out()).contains("job 9 (ft)", "why pending:  node-a: draining", "python ft.py",
                "starts by:    2023-11-14T22:23:20Z (GPUs reserved for it",
                "#1  started 2023-11-14T22:14:20Z  finished 2023-11-14T22:15:20Z  4 GPUs borrowed (preemptible)  "
                        + "requeued, exit code 143",
                "rank 0 on node-a (site s1) GPUs 0,1 A100", "rank 1 on node-b (site s1) GPUs 2,3 A100");
    }

    @Test
    void jobShowsItsStopTermsAndEachAttemptsReasonInWords() {
        scheduler.jobs = List.of(Job.newBuilder().setId(10).setAccount("lab-a").setMember("alice").setGpusPerNode(1)
                .setNodes(1).setState(JobState.RUNNING).setSubmittedAtMs(1_700_000_000_000L).setCommand("python t.py")
                .setSignal("B:USR1@120").setRequeueOnTimeout(2)
                .addAttempts(Attempt.newBuilder().setNumber(1).setStartedAtMs(1_700_000_060_000L)
                        .setFinishedAtMs(1_700_000_120_000L).setExitCode(143).setGpus(1).setBorrowed(true)
                        .setOutcome("preempted by lab-b reclaiming its share for job 12 (lab-a had borrowed the GPUs)"))
                .addAttempts(Attempt.newBuilder().setNumber(2).setStartedAtMs(1_700_000_180_000L)
                        .setFinishedAtMs(1_700_000_240_000L).setExitCode(0).setGpus(1).setOutcome("exited"))
                .build());

        CliRun run = coop("job", "10");

        assertThat(run.exitCode()).isZero();
        assertThat(run.out()).contains(
                "stop signal:  SIGUSR1 120 s before the stop, to the rank's shell only (B:USR1@120)",
                "on timeout:   requeued, up to 2 times",
                "1 GPU borrowed (preemptible)  preempted by lab-b reclaiming its share for job 12 (lab-a had "
                        + "borrowed the GPUs), exit code 143",
                "1 GPU  exited with code 0");
    }

    @Test
    void jobShowsItsFolderVariablesAndWhereItsCheckpointsAre() throws Exception {
        scheduler.jobs = List.of(Job.newBuilder().setId(9).setAccount("lab-a").setMember("alice").setGpusPerNode(1)
                .setState(JobState.RUNNING).setSubmittedAtMs(1_700_000_000_000L).setCommand("python train.py")
                .setChdir("/shared/ada/project").addEnvNames("LR").addEnvNames("VIRTUAL_ENV")
                .addAttempts(Attempt.newBuilder().setNumber(1).setStartedAtMs(1_700_000_060_000L).setGpus(1)
                        .setCheckpointSite("s1").addPlacements(Placement.newBuilder().setNode("node-a").setSite("s1")
                                .addGpuIndices(0)))
                .build());

        CliRun run = coop("job", "9");
        assertThat(run.out()).contains("folder:       /shared/ada/project", "environment:  LR VIRTUAL_ENV",
                "running  checkpoints on site s1's shared root");
        var parsed = new ObjectMapper().readTree(coop("job", "9", "--json").out());
        assertThat(parsed.get("chdir").asText()).isEqualTo("/shared/ada/project");
        assertThat(parsed.get("env_names").toString()).isEqualTo("[\"LR\",\"VIRTUAL_ENV\"]");
        assertThat(parsed.get("attempts").get(0).get("checkpoint_site").asText()).isEqualTo("s1");
    }

    @Test
    void aWithheldCommandIsSaidToBeWithheldAndWhy() throws Exception {
        scheduler.jobs = List.of(Job.newBuilder().setId(9).setAccount("lab-a").setMember("alice").setGpusPerNode(1)
                .setState(JobState.RUNNING).setSubmittedAtMs(1_700_000_000_000L).setCommandWithheld(true).build());

        CliRun run = coop("job", "9");
        assertThat(run.exitCode()).isZero();
        assertThat(run.out()).contains("command:      (withheld: only members of lab-a, operators of the nodes that "
                + "ran it and its review panel may read it)");

        CliRun json = coop("job", "9", "--json");
        var parsed = new ObjectMapper().readTree(json.out());
        assertThat(parsed.get("command").asText()).isEmpty();
        assertThat(parsed.get("command_withheld").asBoolean()).isTrue();
    }

    @Test
    void jobSaysWhyTheSchedulerEndedIt() {
        scheduler.jobs = List.of(Job.newBuilder().setId(12).setAccount("lab-b").setMember("frank").setGpusPerNode(1)
                .setNodes(1).setState(JobState.CANCELLED).setEndReason("cancelled: member frank was removed")
                .setSubmittedAtMs(1_700_000_000_000L).setFinishedAtMs(1_700_000_060_000L).setCommand("sleep 300")
                .build());

        CliRun run = coop("job", "12");

        assertThat(run.exitCode()).isZero();
        assertThat(run.out()).contains("state:", "why ended:    cancelled: member frank was removed")
                .doesNotContain("why pending");
    }

    @Test
    void jobShowsItsDependencyAndWhatItWaitsFor() {
        scheduler.jobs = List.of(Job.newBuilder().setId(13).setAccount("lab-a").setMember("alice").setGpusPerNode(1)
                .setNodes(1).setState(JobState.PENDING).setDependency("afterok:11:12,singleton")
                .setWhyPending("DEPENDENCY: waits for job 11 to succeed").setSubmittedAtMs(1_700_000_000_000L)
                .setCommand("python eval.py").build());

        CliRun run = coop("job", "13");

        assertThat(run.exitCode()).isZero();
        assertThat(run.out()).contains("why pending:  DEPENDENCY: waits for job 11 to succeed",
                "dependency:   afterok:11:12,singleton");
    }

    @Test
    void logsSplitStreamsAndHeadEachRankOfAGang() {
        scheduler.logChunks = List.of(
                LogChunk.newBuilder().setRank(0).setNode("node-a").setAttempt(1)
                        .setStdout(FakeScheduler.utf8("loss 0.5\n")).setStderr(FakeScheduler.utf8("warn a\n")).build(),
                LogChunk.newBuilder().setRank(1).setNode("node-b").setAttempt(1)
                        .setStdout(FakeScheduler.utf8("loss 0.4")).build());

        CliRun all = coop("logs", "5");
        assertThat(all.exitCode()).isZero();
        assertThat(all.out().lines()).containsExactly(
                "==> rank 0 on node-a <==", "loss 0.5", "==> rank 1 on node-b <==", "loss 0.4");
        assertThat(all.err().lines()).containsExactly("==> rank 0 on node-a <==", "warn a");

        CliRun one = coop("logs", "5", "--rank", "0", "--stdout-only");
        assertThat(one.out()).isEqualTo("loss 0.5\n");
        assertThat(one.err()).isEmpty();
    }

    @Test
    void enrollWritesTheNodesSecretBesideTheOperatorsIdentityUnlessToldWhere() throws Exception {
        // Run from a checkout, the current folder is the repository: the secret must not land there.
        Path here = Path.of("gpu-07.node.json").toAbsolutePath();
        java.nio.file.Files.deleteIfExists(here);
        CliRun run = coop("node", "enroll", "--name", "gpu-07", "--site", "north", "--account", "lab-a");

        assertThat(run.exitCode()).as(run.err()).isZero();
        Path beside = dir.resolve("gpu-07.node.json");
        assertThat(here).doesNotExist();
        assertThat(NodeIdentity.read(beside).token()).isEqualTo("node-s3cret");
        assertThat(NodeIdentity.read(beside).scheduler()).isEqualTo(address);
        assertThat(run.out()).contains("identity written to " + beside + " (keep it secret)");

        Path chosen = dir.resolve("elsewhere").resolve("n.json");
        java.nio.file.Files.createDirectories(chosen.getParent());
        CliRun out = coop("node", "enroll", "--name", "gpu-08", "--site", "north", "--account", "lab-a", "--out",
                chosen.toString());
        assertThat(out.exitCode()).as(out.err()).isZero();
        assertThat(NodeIdentity.read(chosen).node()).isEqualTo("gpu-08");
        assertThat(dir.resolve("gpu-08.node.json")).doesNotExist();

        assertThat(CliRun.of("node", "enroll", "--help").out().replaceAll("\\s+", " "))
                .contains("beside your own identity file").contains("default: NAME.node.json beside your identity file");
    }

    @Test
    void logsOfAJobArraySayItIsOneAndSuggestATask() {
        scheduler.arrays = List.of(coop.v1.JobArray.newBuilder().setId(41).setTasks(10).setFirstIndex(0)
                .setLastIndex(9).build());

        for (String[] args : new String[][] {{"logs", "41"}, {"logs", "41", "-f"}}) {
            CliRun run = coop(args);
            assertThat(run.exitCode()).as(String.join(" ", args)).isEqualTo(1);
            assertThat(run.out()).isEmpty();
            assertThat(run.err()).isEqualTo("error: 41 is a job array, whose tasks each have their own output: give a "
                    + "task as ARRAY_INDEX, such as coop logs 41_0 (coop jobs --array 41 lists them)"
                    + System.lineSeparator());
        }

        // An id that is neither a job nor an array keeps the scheduler's answer.
        scheduler.failure = Status.NOT_FOUND.withDescription("no job 40");
        CliRun none = coop("logs", "40");
        assertThat(none.exitCode()).isEqualTo(1);
        assertThat(none.err()).contains("no job 40").doesNotContain("array");
    }

    @Test
    void followPrintsChunksAsTheyComeAndAnnouncesANewAttempt() {
        scheduler.logChunks = List.of(
                LogChunk.newBuilder().setRank(0).setNode("node-a").setAttempt(1).setStdout(FakeScheduler.utf8("step 1\nst")).build(),
                LogChunk.newBuilder().setRank(0).setNode("node-a").setAttempt(1).setStdout(FakeScheduler.utf8("ep 2\n"))
                        .setStderr(FakeScheduler.utf8("warn\n")).build(),
                LogChunk.newBuilder().setRank(0).setNode("node-b").setAttempt(2).setStdout(FakeScheduler.utf8("step 1\n")).build());

        CliRun run = coop("logs", "5", "-f");

        assertThat(run.exitCode()).isZero();
        // A line split across two reads is printed whole, as the job wrote it.
        assertThat(run.out()).isEqualTo("step 1\nstep 2\nstep 1\n");
        assertThat(run.err()).isEqualTo("warn\n==> attempt 2 <==\n");
        assertThat(scheduler.last(coop.v1.LogsRequest.class).getFollow()).isTrue();
    }

    @Test
    void followHeadsAGangsRanksWheneverTheOutputSwitchesRank() {
        scheduler.jobs = List.of(Job.newBuilder().setId(6).setNodes(2).build());
        scheduler.logChunks = List.of(
                LogChunk.newBuilder().setRank(0).setNode("node-a").setAttempt(1).setStdout(FakeScheduler.utf8("a1\n")).build(),
                LogChunk.newBuilder().setRank(1).setNode("node-b").setAttempt(1).setStdout(FakeScheduler.utf8("b1")).build(),
                LogChunk.newBuilder().setRank(0).setNode("node-a").setAttempt(1).setStdout(FakeScheduler.utf8("a2\n")).build(),
                LogChunk.newBuilder().setRank(0).setNode("node-a").setAttempt(1).setError("node node-a is offline").build());

        CliRun run = coop("logs", "6", "--follow", "--stdout-only");

        assertThat(run.exitCode()).as("a read error on the last read fails the command").isEqualTo(1);
        assertThat(run.out().lines()).containsExactly(
                "==> rank 0 on node-a <==", "a1", "==> rank 1 on node-b <==", "b1", "==> rank 0 on node-a <==", "a2");
        assertThat(run.err()).contains("error: rank 0 on node-a: node node-a is offline");
    }

    @Test
    void voteSendsTheChoiceAndPrintsTheTally() {
        CliRun run = coop("vote", "7", "yes");

        assertThat(run.exitCode()).isZero();
        assertThat(run.out().strip()).isEqualTo("voted yes on proposal 7 (yes 3, no 1, abstain 0 of 5 eligible; open)");
        VoteRequest sent = scheduler.last(VoteRequest.class);
        assertThat(sent.toBuilder().clearSignedAtMs().clearSignature().build())
                .isEqualTo(VoteRequest.newBuilder().setProposalId(7).setChoice(Choice.YES).build());
        assertThat(coop.scheduler.ledger.Keys.verify(aliceIdentity.publicKey(), coop.scheduler.ledger.Canonical.encode(
                coop.scheduler.rpc.SignedStatements.ballot("alice", sent)), sent.getSignature())).isTrue();
    }

    @Test
    void aBadChoiceIsAParameterErrorNamingIt() {
        CliRun run = coop("vote", "7", "maybe");

        assertThat(run.exitCode()).isEqualTo(2);
        assertThat(run.err()).contains("'maybe'");
        assertThat(scheduler.requests).isEmpty();
    }

    @Test
    void proposalsPolicyAndUsageRender() throws Exception {
        SharesChange shares = SharesChange.newBuilder().addShares(share("lab-a", 6000)).addShares(share("lab-b", 4000)).build();
        scheduler.proposals = List.of(Proposal.newBuilder().setId(4).setState(ProposalState.PASSED).setShares(shares)
                .setTally(Tally.newBuilder().setYes(4).setNo(1).setEligible(5)).setClosesAtMs(1_700_000_000_000L)
                .setClosedAtMs(1_700_000_000_000L).setEnactedPolicyVersion(2).build());
        scheduler.policy = Policy.newBuilder().setVersion(2).setProposalId(4).setEnactedAtMs(1_700_000_000_000L)
                .addAllShares(shares.getSharesList()).build();
        scheduler.usage = UsageResponse.newBuilder().setPolicyVersion(2).setWindowStartMs(1_700_000_000_000L)
                .setWindowEndMs(1_700_007_200_000L).setGpusOnline(16).setGpusBusy(12)
                .addAccounts(AccountUsage.newBuilder().setAccount("lab-a").setEntitledBasisPoints(6000)
                        .setAchievedPercent(55.25).setGpuSeconds(36_000).setRunningJobs(2).setRunningGpus(8).setPendingJobs(1)
                        .setPreemptions(3).setPreemptedGpuSeconds(5_400).setMaxJobPreemptions(2)
                        .addWindows(coop.v1.ShareWindow.newBuilder().setStretch("policy").setGapPp(-4.75)
                                .setVerdict("kept")))
                .addVerdicts(coop.v1.StretchVerdict.newBuilder().setStretch("policy").setFromMs(1_700_000_000_000L)
                        .setVerdict("kept").setWorstGapPp(4.75))
                .setVerdictRule(coop.scheduler.domain.ShareVerdict.RULE)
                .build();

        assertThat(coop("proposals").out().lines()).satisfiesExactly(
                header -> assertThat(header).startsWith("ID  STATE"),
                row -> assertThat(row).contains("4", "passed", "shares lab-a=60% lab-b=40%", "4/1/0 of 5",
                        "2023-11-14 22:13:20", "enacted as policy v2"));
        assertThat(coop("policy").out().lines()).containsExactly(
                "policy v2, enacted 2023-11-14T22:13:20Z, from proposal 4", "ACCOUNT  SHARE", "lab-a    60%", "lab-b    40%");
        assertThat(new ObjectMapper().readTree(coop("policy", "--history", "--json").out()).get(0).get("version").asLong())
                .isEqualTo(2);
        assertThat(coop("policy", "--history", "--version", "1").exitCode()).isEqualTo(2);
        assertThat(coop("policy", "--version", "1").exitCode()).isZero();
        assertThat(scheduler.last(GetPolicyRequest.class).getVersion()).isEqualTo(1);
        assertThat(coop("policy", "--help").out()).contains("--version=V", "--history");
        assertThat(coop("usage").out().lines()).containsExactly(
                "policy v2 since 2023-11-14T22:13:20Z (2h); GPUs busy 12/16 online",
                "ACCOUNT  ENTITLED  ACHIEVED  GPU-HOURS  RUNNING(JOBS/GPUS)  PENDING  PREEMPTED  LOST GPU-H  MAX/JOB",
                "lab-a    60%       55.3%     10.0       2/8                 1        3          1.5         2",
                "",
                "STRETCH  FROM                  VERDICT  WORST GAP  GAP PER ACCOUNT (ACHIEVED-VOTED)",
                "policy   2023-11-14T22:13:20Z  kept     4.8 pp     lab-a -4.8 pp (kept)",
                "Verdict: " + coop.scheduler.domain.ShareVerdict.RULE + ".");
        assertThat(coop("usage", "--help").out()).contains("--checkpoint none", "trailing hour and day");
        JsonNode usage = new ObjectMapper().readTree(coop("usage", "--json").out());
        assertThat(usage.get("verdicts").get(0).get("verdict").asText()).isEqualTo("kept");
        assertThat(usage.get("accounts").get(0).get("preempted_gpu_seconds").asDouble()).isEqualTo(5_400.0);
        assertThat(usage.get("accounts").get(0).get("entitled_basis_points").asInt()).isEqualTo(6000);
        assertThat(usage.get("window_start_ms").asLong()).isEqualTo(1_700_000_000_000L);
    }

    @Test
    void proposeWithoutAKindIsAUsageError() {
        CliRun run = CliRun.of("propose");
        assertThat(run.exitCode()).isEqualTo(2);
        assertThat(run.err()).contains("shares");
    }

    private static AccountShare share(String account, int basisPoints) {
        return AccountShare.newBuilder().setAccount(account).setBasisPoints(basisPoints).build();
    }
}
