package coop.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import coop.cli.Client;
import coop.cli.Identity;
import coop.v1.GetJobRequest;
import coop.v1.Job;
import coop.v1.JobState;
import coop.v1.ListJobsRequest;
import coop.v1.ListNodesRequest;
import coop.v1.SubmitRequest;
import io.grpc.StatusRuntimeException;
import java.time.Duration;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Every acknowledged submit survives a kill -9 of the scheduler: four concurrent clients submit
 * until at least 200 jobs are acknowledged, the scheduler's process is killed hard while they
 * are still submitting, and a new scheduler on the same data directory has every acknowledged
 * job, unchanged.
 */
class RestartIT {
    @TempDir
    Path dir;

    @Test
    void everyAcknowledgedJobSurvivesAKill9() throws Exception {
        try (CoopProcesses coop = new CoopProcesses(dir)) {
            Path data = dir.resolve("data");
            assertThat(coop.run("init", "--data", data.toString(), "--founders", "alice", "--accounts", "lab-a")
                    .exitCode()).isZero();
            Identity alice = Identity.read(data.resolve("identities/alice.json"));
            var first = coop.scheduler(data);
            Map<Long, String> acknowledged = new ConcurrentHashMap<>();
            ExecutorService pool = Executors.newFixedThreadPool(4);
            try (Client client = new Client(first.target(), alice)) {
                List<Future<?>> submitters = new ArrayList<>();
                for (int t = 0; t < 4; t++) {
                    int thread = t;
                    submitters.add(pool.submit(() -> {
                        // Submit until the scheduler dies under us; only acknowledged ids count.
                        for (int i = 0; ; i++) {
                            String command = "echo " + thread + "-" + i;
                            try {
                                long id = client.jobs().submit(SubmitRequest.newBuilder().setAccount("lab-a")
                                        .setGpusPerNode(1).setCommand(command).build()).getJobId();
                                acknowledged.put(id, command);
                            } catch (StatusRuntimeException e) {
                                return null;
                            }
                        }
                    }));
                }
                await().atMost(Duration.ofSeconds(60)).until(() -> acknowledged.size() >= 200);
                first.process().destroyForcibly();
                first.process().waitFor();
                for (Future<?> f : submitters) {
                    f.get();
                }
            } finally {
                pool.shutdownNow();
            }
            assertThat(acknowledged).hasSizeGreaterThanOrEqualTo(200);

            var second = coop.scheduler(data);
            try (Client client = new Client(second.target(), alice)) {
                Map<Long, String> recovered = new TreeMap<>();
                for (Job j : client.allJobs(ListJobsRequest.getDefaultInstance())) {
                    assertThat(j.getState()).isEqualTo(JobState.PENDING);
                    recovered.put(j.getId(), j.getCommand());
                }
                assertThat(recovered).containsAllEntriesOf(acknowledged);
                long next = client.jobs().submit(SubmitRequest.newBuilder().setAccount("lab-a").setGpusPerNode(1)
                        .setCommand("true").build()).getJobId();
                assertThat(acknowledged).doesNotContainKey(next);
            }
        }
    }
    @Test
    void aRunningJobKeepsRunningThroughAKill9AndFinishesAsItsFirstAttempt() throws Exception {
        try (CoopProcesses coop = new CoopProcesses(dir)) {
            Path data = dir.resolve("data");
            assertThat(coop.run("init", "--data", data.toString(), "--founders", "alice", "--accounts", "lab-a")
                    .exitCode()).isZero();
            Identity alice = Identity.read(data.resolve("identities/alice.json"));
            var first = coop.scheduler(data);
            String target = first.target();
            coop.agent(target, data.resolve("identities/alice.json"), "lab-a", "n1", "north", "sim:1xA100",
                    dir.resolve("n1"));
            Path release = dir.resolve("release");
            final long id;
            try (Client client = new Client(target, alice)) {
                long submitted = client.jobs().submit(SubmitRequest.newBuilder().setAccount("lab-a").setGpusPerNode(1)
                        .setCommand("while [ ! -f " + release + " ]; do sleep 0.05; done").build()).getJobId();
                await().atMost(Duration.ofSeconds(30)).until(() -> client.jobs().getJob(
                        GetJobRequest.newBuilder().setJobId(submitted).build()).getState() == JobState.RUNNING);
                id = submitted;
            }
            first.process().destroyForcibly();
            first.process().waitFor();
            // Same address, so the agent finds the new scheduler; the job never stopped.
            coop.start("scheduler", "--data", data.toString(), "--listen", target, "--heartbeat", "1s");
            try (Client client = new Client(target, alice)) {
                await().atMost(Duration.ofSeconds(30)).ignoreExceptions().until(() -> client.nodes()
                        .listNodes(ListNodesRequest.getDefaultInstance()).getNodes(0).getState()
                        .equals("online"));
                java.nio.file.Files.createFile(release);
                await().atMost(Duration.ofSeconds(30)).until(() -> client.jobs().getJob(
                        GetJobRequest.newBuilder().setJobId(id).build()).getState() == JobState.SUCCEEDED);
                Job done = client.jobs().getJob(GetJobRequest.newBuilder().setJobId(id).build());
                assertThat(done.getAttemptsCount()).as("the job ran once, not requeued").isEqualTo(1);
            }
        }
    }
}
