package coop.bench;

import coop.cli.CliException;
import coop.cli.Client;
import coop.cli.Durations;
import coop.cli.Identity;
import coop.cli.InitCommand;
import coop.cli.Main;
import coop.cli.NodeIdentity;
import coop.scheduler.SchedulerServer;
import coop.v1.EnrollRequest;
import coop.v1.GetJobRequest;
import coop.v1.Job;
import coop.v1.JobState;
import coop.v1.ListNodesRequest;
import coop.v1.SubmitRequest;
import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Duration;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code coop bench failover}: node loss on a local throwaway cluster. A scheduler (in this
 * process) and agents (as processes) on 1-GPU simulated nodes; one job per node but one; the
 * agent running the first job is killed with kill -9. Reports the seconds from the kill to the
 * node declared lost (its attempt ended as lost) and to the job running elsewhere, and checks after every job has finished
 * that no acknowledged job was lost and none succeeded twice.
 */
@Command(name = "failover", mixinStandardHelpOptions = true,
        description = {"Kill -9 a node's agent in the middle of a job on a local throwaway cluster and measure "
                + "how fast the node is declared lost and the job runs elsewhere.",
                "Prints detect_s, requeue_s, heartbeat_s, jobs, lost_acked and double_runs."})
final class BenchFailoverCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Option(names = "--agents", defaultValue = "3", description = "Nodes, one agent process each (default: "
            + "${DEFAULT-VALUE}).")
    int agents;

    @Option(names = "--heartbeat", defaultValue = "1s", description = "Heartbeat interval; a node is lost after 3 "
            + "missed (default: ${DEFAULT-VALUE}). "
            + Durations.FORMS_HELP)
    String heartbeat;

    @Mixin
    BenchOptions options;

    @Override
    public Integer call() throws Exception {
        if (agents < 2) {
            throw new CliException("--agents: at least 2, so the job has somewhere to go");
        }
        Duration interval = Durations.option("--heartbeat", heartbeat);
        Path dir = Files.createTempDirectory("coop-bench-failover");
        List<Process> processes = new ArrayList<>();
        try {
            Path data = dir.resolve("data");
            Identity me = InitCommand.found(data, List.of("bench"), List.of("lab-a"), dir.resolve("identities"), null,
                    new SecureRandom()).get("bench");
            try (SchedulerServer server = SchedulerServer.start(
                    new SchedulerServer.Config(data, "127.0.0.1", 0, interval, Duration.ofSeconds(1)),
                    InstantSource.system());
                 Client client = new Client("127.0.0.1:" + server.port(), me)) {
                String target = "127.0.0.1:" + server.port();
                Map<String, Process> byNode = new TreeMap<>();
                for (int i = 1; i <= agents; i++) {
                    String node = "n" + i;
                    var enrolled = client.nodes().enroll(EnrollRequest.newBuilder().setName(node).setSite("bench")
                            .setAccount("lab-a").build());
                    Path id = dir.resolve(node + ".node.json");
                    NodeIdentity.enrolled(enrolled, target).write(id);
                    Process p = agent(id, dir.resolve(node), dir.resolve(node + ".log"));
                    processes.add(p);
                    byNode.put(node, p);
                }
                awaitOnline(client, agents, Duration.ofSeconds(60));
                long runFor = Math.max(4, 6 * interval.toSeconds());
                List<Long> ids = new ArrayList<>();
                for (int i = 0; i < agents - 1; i++) {
                    ids.add(client.jobs().submit(SubmitRequest.newBuilder().setAccount("lab-a").setGpusPerNode(1)
                            .setCommand("sleep " + runFor).build()).getJobId());
                }
                long victim = ids.get(0);
                Job first = await(client, victim, j -> j.getState() == JobState.RUNNING, Duration.ofSeconds(60));
                String node = first.getAttempts(0).getPlacements(0).getNode();
                System.err.printf("killing the agent of node %s (job %d) with kill -9%n", node, victim);
                long killedAt = System.currentTimeMillis();
                byNode.get(node).destroyForcibly().waitFor();
                Job moved = await(client, victim, j -> j.getAttemptsCount() >= 2 && j.getState() == JobState.RUNNING,
                        Duration.ofSeconds(60));
                // The scheduler ends the lost attempt in the turn it declares the node lost.
                long lostAt = moved.getAttempts(0).getFinishedAtMs();
                long requeuedAt = moved.getAttempts(1).getStartedAtMs();
                int lost = 0;
                int doubles = 0;
                for (long id : ids) {
                    Job done = await(client, id, j -> j.getState() != JobState.PENDING && j.getState() != JobState.RUNNING,
                            Duration.ofSeconds(runFor * 4 + 60));
                    if (done.getState() != JobState.SUCCEEDED) {
                        lost++;
                    }
                    long ok = done.getAttemptsList().stream()
                            .filter(a -> a.getExitCode() == 0 && a.getOutcome().equals("exited")).count();
                    if (ok > 1) {
                        doubles++;
                    }
                }
                double detectS = seconds(lostAt - killedAt);
                double requeueS = seconds(requeuedAt - killedAt);
                double heartbeatS = interval.toMillis() / 1000.0;
                new BenchReport()
                        .put("detect_s", detectS)
                        .put("requeue_s", requeueS)
                        .put("heartbeat_s", heartbeatS)
                        .put("jobs", ids.size())
                        .put("lost_acked", lost)
                        .put("double_runs", doubles)
                        .line("node %s lost %.2f s after kill -9 (heartbeat %.1f s, lost after 3 missed); job %d "
                                + "running elsewhere after %.2f s", node, detectS, heartbeatS, victim, requeueS)
                        .line("%d jobs: %d acknowledged and lost, %d succeeded twice", ids.size(), lost, doubles)
                        .print(spec.commandLine().getOut(), options.json);
                return lost == 0 && doubles == 0 ? 0 : 1;
            }
        } finally {
            for (Process p : processes) {
                p.destroy();
            }
            for (Process p : processes) {
                if (!p.waitFor(10, TimeUnit.SECONDS)) {
                    p.destroyForcibly();
                }
            }
            ThrowawayFolder.delete(dir);
        }
    }

    /** An agent process on the classpath this command runs from (the jar, or classes in a build). */
    private static Process agent(Path identity, Path workDir, Path log) throws java.io.IOException {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        List<String> cmd = List.of(java, "-Xmx128m", "-cp", System.getProperty("java.class.path"), Main.class.getName(),
                "agent", "--identity", identity.toString(), "--gpus", "sim:1xA100-80GB", "--work-dir",
                workDir.toString(), "--isolation", "none", "--allow-root-jobs");
        return new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile())
                .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null"))).start();
    }

    private static void awaitOnline(Client client, int count, Duration patience) throws InterruptedException {
        long deadline = System.nanoTime() + patience.toNanos();
        while (client.nodes().listNodes(ListNodesRequest.getDefaultInstance()).getNodesList().stream()
                .filter(n -> n.getState().equals("online")).count() < count) {
            if (System.nanoTime() > deadline) {
                throw new CliException("only some of the " + count + " agents came online in " + patience.toSeconds()
                        + " s");
            }
            Thread.sleep(50);
        }
    }

    private static Job await(Client client, long id, java.util.function.Predicate<Job> done, Duration patience)
            throws InterruptedException {
        long deadline = System.nanoTime() + patience.toNanos();
        while (true) {
            Job j = client.jobs().getJob(GetJobRequest.newBuilder().setJobId(id).build());
            if (done.test(j)) {
                return j;
            }
            if (System.nanoTime() > deadline) {
                throw new CliException("job " + id + " did not get there in " + patience.toSeconds() + " s (it is "
                        + j.getState() + ")");
            }
            Thread.sleep(20);
        }
    }

    private static double seconds(long ms) {
        return Math.round(ms / 10.0) / 100.0;
    }
}
