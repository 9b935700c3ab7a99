package coop.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import coop.cli.Client;
import coop.cli.Identity;
import coop.v1.GetJobRequest;
import coop.v1.Job;
import coop.v1.JobState;
import coop.v1.ListNodesRequest;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A batch script written as a Slurm user writes one, submitted through the real CLI to a real
 * scheduler and agents as processes on 127.0.0.1: the job is stored with the script's settings
 * (name, a day's walltime, 2 A100s per node, array tasks, output pattern, dependency), runs on
 * the node that has A100s, and the script runs there with its arguments and Slurm's variables, as
 * {@code coop logs} shows.
 */
class BatchScriptIT {
    private static final Duration SOON = Duration.ofSeconds(60);

    @TempDir
    Path dir;

    @Test
    void aSlurmScriptRunsWithItsSettingsArgumentsAndSlurmsVariables() throws Exception {
        try (CoopProcesses coop = new CoopProcesses(dir)) {
            Path data = dir.resolve("data");
            var init = coop.run("init", "--data", data.toString(), "--founders", "alice:lab-a", "--accounts", "lab-a");
            assertThat(init.exitCode()).as(init.stderr()).isZero();
            String target = coop.scheduler(data).target();
            Path alice = data.resolve("identities/alice.json");
            coop.agent(target, alice, "lab-a", "n1", "north", "sim:2xL4", dir.resolve("n1"));
            coop.agent(target, alice, "lab-a", "n2", "north", "sim:2xA100", dir.resolve("n2"));
            String[] as = {"--scheduler", target, "--identity", alice.toString()};
            try (Client client = new Client(target, Identity.read(alice))) {
                await().atMost(SOON).until(() -> client.nodes().listNodes(ListNodesRequest.getDefaultInstance())
                        .getNodesList().stream().filter(n -> n.getState().equals("online")).count() == 2);

                // The parent runs until the test lets it end, so the sweep is seen waiting for it.
                Path go = dir.resolve("go");
                var parentRun = coop.run(args(as, "submit", "-A", "lab-a", "--gpus", "1", "--parsable", "--",
                        "while [ ! -e " + go + " ]; do sleep 0.1; done"));
                assertThat(parentRun.exitCode()).as(parentRun.stderr()).isZero();
                long parent = Long.parseLong(parentRun.stdout().strip());
                await().atMost(SOON).until(() -> job(client, parent).getState() == JobState.RUNNING);
                Path out = Files.createDirectories(dir.resolve("out"));

                Path script = Files.writeString(dir.resolve("sweep.sh"), """
                        #!/bin/bash
                        #SBATCH --job-name=sweep
                        #SBATCH --account=lab-a
                        #SBATCH --partition=gpu
                        #SBATCH -t 1-00:00
                        #SBATCH --nodes=1
                        #SBATCH --gres=gpu:a100:2
                        #SBATCH --array=0-2%%2
                        #SBATCH -o %%x-%%A_%%a.out
                        #SBATCH --dependency=afterok:%d
                        #SBATCH -D %s

                        # What a ported script reads of Slurm's.
                        echo "args=$# [$1] [$2]"
                        echo "job=$SLURM_JOB_ID array=$SLURM_ARRAY_JOB_ID task=$SLURM_ARRAY_TASK_ID name=$SLURM_JOB_NAME"
                        echo "nodes=$SLURM_NNODES node=$SLURM_NODEID proc=$SLURM_PROCID gpus=$SLURM_GPUS_ON_NODE"
                        echo "tasks=$SLURM_ARRAY_TASK_COUNT visible=$CUDA_VISIBLE_DEVICES"
                        """.formatted(parent, out));

                var submit = coop.run(args(as, "submit", "--json", script.toString(), "hello world", "2"));
                assertThat(submit.exitCode()).as(submit.stderr()).isZero();
                assertThat(submit.stderr()).contains(script + ":4: #SBATCH --partition=gpu ignored: coop has no "
                        + "partitions");
                JsonNode ids = new ObjectMapper().readTree(submit.stdout());
                long array = ids.get("array_id").asLong();
                long first = ids.get("job_id").asLong();
                assertThat(ids.get("array_tasks").asInt()).isEqualTo(3);

                List<Long> tasks = List.of(first, first + 1, first + 2);
                for (long id : tasks) {
                    assertThat(job(client, id).getState()).isEqualTo(JobState.PENDING);
                    assertThat(job(client, id).getWhyPending()).startsWith("DEPENDENCY: ").contains("job " + parent);
                }
                Files.createFile(go);
                await().atMost(SOON).until(() -> job(client, parent).getState() == JobState.SUCCEEDED);
                for (long id : tasks) {
                    await().atMost(SOON).until(() -> job(client, id).getState() == JobState.SUCCEEDED);
                }
                for (int index = 0; index < tasks.size(); index++) {
                    long id = tasks.get(index);
                    Job job = job(client, id);
                    assertThat(job.getName()).isEqualTo("sweep");
                    assertThat(job.getAccount()).isEqualTo("lab-a");
                    assertThat(job.getWalltimeSeconds()).isEqualTo(86_400);
                    assertThat(job.getGpusPerNode()).isEqualTo(2);
                    assertThat(job.getGpuModel()).isEqualTo("a100");
                    assertThat(job.getArrayId()).isEqualTo(array);
                    assertThat(job.getArrayIndex()).isEqualTo(index);
                    assertThat(job.getOutput()).isEqualTo("%x-%A_%a.out");
                    assertThat(job.getDependency()).isEqualTo("afterok:" + parent);
                    assertThat(job.getAttempts(0).getPlacements(0).getNode()).isEqualTo("n2");

                    var logs = coop.run(args(as, "logs", Long.toString(id)));
                    assertThat(logs.exitCode()).as(logs.stderr()).isZero();
                    assertThat(logs.stdout()).contains("args=2 [hello world] [2]")
                            .contains("job=" + id + " array=" + array + " task=" + index + " name=sweep")
                            .contains("nodes=1 node=0 proc=0 gpus=2")
                            .contains("tasks=3 visible=0,1");
                    // -o's file, written on the node in the folder -D names, holds the same output.
                    assertThat(Files.readString(out.resolve("sweep-" + array + "_" + index + ".out")))
                            .contains("args=2 [hello world] [2]", "job=" + id + " array=" + array);
                    assertThat(job(client, id).getAttempts(0).getStartedAtMs())
                            .isGreaterThanOrEqualTo(job(client, parent).getFinishedAtMs());
                }
            }
        }
    }

    private static Job job(Client client, long id) {
        return client.jobs().getJob(GetJobRequest.newBuilder().setJobId(id).build());
    }

    private static String[] args(String[] as, String... rest) {
        List<String> all = new ArrayList<>(List.of(rest).subList(0, 1));
        all.addAll(List.of(as));
        all.addAll(List.of(rest).subList(1, rest.length));
        return all.toArray(String[]::new);
    }
}
