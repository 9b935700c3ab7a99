package coop.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import coop.cli.Client;
import coop.cli.Identity;
import coop.v1.GetJobRequest;
import coop.v1.Job;
import coop.v1.JobState;
import coop.v1.ListNodesRequest;
import coop.v1.SubmitRequest;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Reclaim by preemption, for real: lab-b borrows lab-a's half of a 2-GPU node; when lab-a
 * submits, lab-b's newest attempt gets SIGTERM (its process traps it and keeps going), is
 * killed after the grace period, and its job runs again as attempt 2.
 */
class PreemptionIT {
    @TempDir
    Path dir;

    @Test
    void aBorrowerIsSignalledKilledAfterTheGraceAndRunsAgainAsAttempt2() throws Exception {
        try (CoopProcesses coop = new CoopProcesses(dir)) {
            Path data = dir.resolve("data");
            assertThat(coop.run("init", "--data", data.toString(), "--param", "min_run_before_preempt_s=0",
                    "--founders", "alice:lab-a,bob:lab-b", "--accounts", "lab-a,lab-b").exitCode()).isZero();
            var scheduler = coop.scheduler(data, "--preemption-grace", "2s");
            Path work = dir.resolve("n1");
            coop.agent(scheduler.target(), data.resolve("identities/alice.json"), "lab-a", "n1", "north",
                    "sim:2xA100-80GB", work);
            Path release = dir.resolve("release");
            try (Client alice = new Client(scheduler.target(), Identity.read(data.resolve("identities/alice.json")));
                 Client bob = new Client(scheduler.target(), Identity.read(data.resolve("identities/bob.json")))) {
                await().atMost(Duration.ofSeconds(30)).until(() -> alice.nodes()
                        .listNodes(ListNodesRequest.getDefaultInstance()).getNodesCount() == 1);
                String wait = "while [ ! -f " + release + " ]; do sleep 0.05; done";
                long first = bob.jobs().submit(SubmitRequest.newBuilder().setAccount("lab-b").setGpusPerNode(1)
                        .setCommand(wait).build()).getJobId();
                await().atMost(Duration.ofSeconds(30)).until(() -> job(bob, first).getState() == JobState.RUNNING);
                // The borrower: traps the checkpoint signal and keeps running, so only SIGKILL ends it.
                long borrower = bob.jobs().submit(SubmitRequest.newBuilder().setAccount("lab-b").setGpusPerNode(1)
                        .setCommand("trap 'echo got SIGTERM attempt $COOP_ATTEMPT because $(cat \"$COOP_STOP_REASON_FILE\")' "
                                + "TERM; echo started attempt $COOP_ATTEMPT preemptible=$COOP_PREEMPTIBLE; "
                                + "while true; do sleep 0.05; done").build()).getJobId();
                await().atMost(Duration.ofSeconds(30)).until(() -> job(bob, borrower).getState() == JobState.RUNNING);
                assertThat(job(bob, borrower).getAttempts(0).getBorrowed()).isTrue();

                long due = alice.jobs().submit(SubmitRequest.newBuilder().setAccount("lab-a").setGpusPerNode(1)
                        .setCommand(wait).build()).getJobId();
                Path firstOut = work.resolve("jobs/" + borrower + ".1.0/stdout");
                await().atMost(Duration.ofSeconds(30)).until(() -> Files.exists(firstOut)
                        && Files.readString(firstOut).contains("got SIGTERM attempt 1 because preempted"));
                assertThat(Files.readString(firstOut)).contains("started attempt 1 preemptible=1");
                await().atMost(Duration.ofSeconds(30)).until(() -> job(alice, due).getState() == JobState.RUNNING);

                Job requeued = job(bob, borrower);
                assertThat(requeued.getState()).isEqualTo(JobState.PENDING);
                assertThat(requeued.getAttempts(0).getOutcome()).isEqualTo("preempted by lab-a reclaiming its share for job "
                        + due + " (lab-b had borrowed the GPUs)");
                assertThat(requeued.getAttempts(0).getExitCode()).isEqualTo(137);
                long stopped = requeued.getAttempts(0).getFinishedAtMs() - job(alice, due).getSubmittedAtMs();
                assertThat(stopped).as("SIGKILL only after the 2 s grace").isGreaterThanOrEqualTo(2000);

                Files.createFile(release);
                await().atMost(Duration.ofSeconds(30)).until(() -> job(bob, borrower).getAttemptsCount() == 2
                        && job(bob, borrower).getState() == JobState.RUNNING);
                Path secondOut = work.resolve("jobs/" + borrower + ".2.0/stdout");
                await().atMost(Duration.ofSeconds(10)).until(() -> Files.exists(secondOut)
                        && Files.readString(secondOut).contains("started attempt 2"));
            }
        }
    }

    private static Job job(Client c, long id) {
        return c.jobs().getJob(GetJobRequest.newBuilder().setJobId(id).build());
    }
}
