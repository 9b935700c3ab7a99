package coop.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import coop.agent.RankRecords;
import coop.cli.Client;
import coop.cli.Identity;
import coop.v1.GetJobRequest;
import coop.v1.Job;
import coop.v1.JobState;
import coop.v1.ListNodesRequest;
import coop.v1.SubmitRequest;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * An agent killed with kill -9 and started again within a second, before its node is declared
 * lost, on a node with one GPU: the rank the dead agent left running is stopped before the
 * scheduler places the job's next attempt, so the GPU never carries two attempts. Judged from the
 * agent's own records of what ran on each GPU and when.
 */
class AgentRestartIT {

    @TempDir
    Path dir;

    @Test
    void aRankLeftByAKilledAgentIsStoppedBeforeItsJobRunsAgainOnTheSameGpu() throws Exception {
        try (CoopProcesses coop = new CoopProcesses(dir)) {
            Path data = dir.resolve("data");
            var init = coop.run("init", "--data", data.toString(), "--founders", "alice", "--accounts", "lab-a");
            assertThat(init.exitCode()).as(init.stderr()).isZero();
            var scheduler = coop.scheduler(data);
            Path workDir = dir.resolve("n1");
            Process agent = coop.agent(scheduler.target(), data.resolve("identities/alice.json"), "lab-a", "n1",
                    "north", "sim:1xA100-80GB", workDir);
            try (Client client = new Client(scheduler.target(), Identity.read(data.resolve("identities/alice.json")))) {
                await().atMost(Duration.ofSeconds(30)).until(() -> client.nodes()
                        .listNodes(ListNodesRequest.getDefaultInstance()).getNodesList().stream()
                        .anyMatch(n -> n.getState().equals("online")));
                long id = client.jobs().submit(SubmitRequest.newBuilder().setAccount("lab-a").setGpusPerNode(1)
                        .setCommand("sleep 300").build()).getJobId();
                await().atMost(Duration.ofSeconds(30)).until(() -> job(client, id).getState() == JobState.RUNNING);
                RankRecords.Record first = await().atMost(Duration.ofSeconds(10))
                        .until(() -> running(workDir), l -> l.size() == 1).get(0);
                assertThat(ProcessHandle.of(first.pgid())).isPresent();

                agent.destroyForcibly().waitFor();
                // The dead agent's rank runs on: nothing else would ever stop it.
                assertThat(ProcessHandle.of(first.pgid()).map(ProcessHandle::isAlive)).contains(true);
                coop.restartAgent(scheduler.target(), "n1", "sim:1xA100-80GB", workDir);

                await().atMost(Duration.ofSeconds(30)).until(() -> job(client, id).getAttemptsCount() == 2
                        && job(client, id).getState() == JobState.RUNNING);
                Job job = job(client, id);
                assertThat(job.getAttempts(0).getOutcome()).startsWith("requeued");
                assertThat(ProcessHandle.of(first.pgid()).map(ProcessHandle::isAlive).orElse(false)).isFalse();

                List<RankRecords.Record> records = await().atMost(Duration.ofSeconds(10))
                        .until(() -> all(workDir), l -> l.size() == 2);
                RankRecords.Record old = records.stream().filter(r -> r.rank().attempt() == 1).findFirst().orElseThrow();
                RankRecords.Record next = records.stream().filter(r -> r.rank().attempt() == 2).findFirst().orElseThrow();
                assertThat(old.ended()).as("attempt 1 stopped").isTrue();
                assertThat(old.end()).contains("agent restarted");
                assertThat(old.gpus()).isEqualTo(next.gpus());
                // One GPU, never two attempts at once: the old one ended before the next began.
                assertThat(old.endedAtMs()).isLessThanOrEqualTo(next.startedAtMs());
                assertThat(old.endedAtMs()).isLessThanOrEqualTo(job.getAttempts(1).getStartedAtMs());
            }
        }
    }

    private static Job job(Client client, long id) {
        return client.jobs().getJob(GetJobRequest.newBuilder().setJobId(id).build());
    }

    private static List<RankRecords.Record> running(Path workDir) throws IOException {
        return new RankRecords(workDir).unfinished();
    }

    /** Every record the node keeps: the running ones and those filed in the ranks' folders. */
    static List<RankRecords.Record> all(Path workDir) throws IOException {
        List<RankRecords.Record> out = new ArrayList<>(running(workDir));
        Path jobs = workDir.resolve("jobs");
        try (Stream<Path> dirs = Files.list(jobs)) {
            for (Path d : dirs.toList()) {
                if (Files.exists(d.resolve(RankRecords.FILE))) {
                    out.add(RankRecords.read(d));
                }
            }
        }
        return out;
    }
}
