package coop.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import coop.cli.Client;
import coop.cli.Identity;
import coop.v1.Attempt;
import coop.v1.GetJobRequest;
import coop.v1.Job;
import coop.v1.JobState;
import coop.v1.ListNodesRequest;
import coop.v1.SubmitRequest;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The small cooperative where preemption used to churn, run for real with the policy's bounds
 * scaled down (minimum run 20 s, reserve wait 15 s, grace 2 s): n1 has 4 A100s, 2 of them
 * lab-a's reserve; n2 has 2 A100s and 2 L4s. uni-c fills both nodes with 2-GPU jobs, lab-b
 * submits a 4-GPU job that only n1 can hold, and lab-a and uni-c stream 1-GPU jobs of 1 s to
 * 40 s. Every attempt preempted had run the minimum; every job something was preempted for
 * started while the GPUs were held for it; the 4-GPU job was never stopped for a job shorter
 * than the minimum run.
 */
class PreemptionCostIT {
    private static final long MIN_RUN_MS = 20_000;
    /** The hold lasts the 2-s grace and a minute after the decision, which comes before the victim ends. */
    private static final long HOLD_AFTER_VICTIM_END_MS = 2_000 + 60_000;
    private static final Pattern FOR_JOB = Pattern.compile("for job (\\d+)");

    @TempDir
    Path dir;

    @Test
    void preemptionsWaitTheMinimumRunKeepTheirGpusForTheirJobAndSpareTheGangFromShortJobs() throws Exception {
        try (CoopProcesses coop = new CoopProcesses(dir)) {
            Path data = dir.resolve("data");
            var init = coop.run("init", "--data", data.toString(), "--founders", "alice:lab-a,bob:lab-b,carol:uni-c",
                    "--accounts", "lab-a,lab-b,uni-c", "--param", "min_run_before_preempt_s=20s",
                    "--param", "reserve_wait_s=15s");
            assertThat(init.exitCode()).as(init.stderr()).isZero();
            var scheduler = coop.scheduler(data, "--preemption-grace", "2s");
            Path aliceId = data.resolve("identities/alice.json");
            coop.agent(scheduler.target(), aliceId, "lab-a", "n1", "north", "sim:4xA100-80GB", dir.resolve("n1"));
            coop.agent(scheduler.target(), data.resolve("identities/bob.json"), "lab-b", "n2", "north",
                    "sim:2xA100-80GB,2xL4-24GB", dir.resolve("n2"));
            try (Client alice = new Client(scheduler.target(), Identity.read(aliceId));
                 Client bob = new Client(scheduler.target(), Identity.read(data.resolve("identities/bob.json")));
                 Client carol = new Client(scheduler.target(), Identity.read(data.resolve("identities/carol.json")))) {
                await().atMost(Duration.ofSeconds(30)).until(() -> alice.nodes()
                        .listNodes(ListNodesRequest.getDefaultInstance()).getNodesCount() == 2);
                var reserve = coop.run("node", "set", "n1", "--reserve", "2", "--scheduler", scheduler.target(),
                        "--identity", aliceId.toString());
                assertThat(reserve.exitCode()).as(reserve.stderr()).isZero();

                List<Long> jobs = new ArrayList<>();
                for (int seconds : new int[] {45, 40, 35, 50}) {
                    jobs.add(submit(carol, "uni-c", 2, seconds));
                }
                await().atMost(Duration.ofSeconds(30)).until(() -> jobs.stream()
                        .allMatch(id -> job(carol, id).getState() == JobState.RUNNING));
                long gang = submit(bob, "lab-b", 4, 40);
                jobs.add(gang);
                Random random = new Random(27);
                long until = System.currentTimeMillis() + 50_000;
                boolean longOperatorJob = false;
                List<String> gangWaits = new ArrayList<>();
                while (System.currentTimeMillis() < until) {
                    gangWaits.add(job(bob, gang).getWhyPending());
                    jobs.add(submit(alice, "lab-a", 1, 1 + random.nextInt(8)));
                    jobs.add(submit(carol, "uni-c", 1, 1 + random.nextInt(30)));
                    if (!longOperatorJob && System.currentTimeMillis() > until - 30_000) {
                        // Long enough to take lab-a's reserve back once its borrower has run the minimum.
                        jobs.add(submit(alice, "lab-a", 1, 30));
                        longOperatorJob = true;
                    }
                    Thread.sleep(4_000);
                }
                await().atMost(Duration.ofMinutes(4)).pollInterval(Duration.ofSeconds(1)).until(() -> jobs.stream()
                        .allMatch(id -> job(carol, id).getState() == JobState.SUCCEEDED));

                int preemptions = 0;
                int forTheGang = 0;
                for (long id : jobs) {
                    for (Attempt a : job(carol, id).getAttemptsList()) {
                        if (!a.getOutcome().startsWith("preempted")) {
                            continue;
                        }
                        preemptions++;
                        String what = "job " + id + " attempt " + a.getNumber() + " (" + a.getOutcome() + ")";
                        assertThat(a.getFinishedAtMs() - a.getStartedAtMs()).as(what + " ran the minimum run")
                                .isGreaterThanOrEqualTo(MIN_RUN_MS);
                        Matcher m = FOR_JOB.matcher(a.getOutcome());
                        assertThat(m.find()).as(what + " names its beneficiary").isTrue();
                        Job beneficiary = job(carol, Long.parseLong(m.group(1)));
                        forTheGang += beneficiary.getId() == gang ? 1 : 0;
                        assertThat(beneficiary.getAttemptsList()).as(what + ": its beneficiary started within the hold")
                                .anyMatch(b -> b.getStartedAtMs() >= a.getStartedAtMs()
                                        && b.getStartedAtMs() <= a.getFinishedAtMs() + HOLD_AFTER_VICTIM_END_MS);
                        if (id == gang) {
                            assertThat(beneficiary.getWalltimeSeconds() * 1000).as(what + ": the gang stopped for a "
                                    + "job shorter than the minimum run").isGreaterThanOrEqualTo(MIN_RUN_MS);
                        }
                    }
                }
                // The gang could only start by taking n1 back from uni-c, after uni-c's minimum run.
                StringBuilder story = new StringBuilder();
                long t0 = job(carol, jobs.get(0)).getSubmittedAtMs();
                for (long id : jobs) {
                    Job j = job(carol, id);
                    story.append("\n").append(id).append(' ').append(j.getAccount()).append(' ')
                            .append(j.getGpusPerNode()).append(" GPUs, submitted ").append(j.getSubmittedAtMs() - t0);
                    for (Attempt a : j.getAttemptsList()) {
                        story.append(" | #").append(a.getNumber()).append(' ').append(a.getStartedAtMs() - t0)
                                .append("..").append(a.getFinishedAtMs() - t0).append(' ')
                                .append(a.getPlacements(0).getNode()).append(' ').append(a.getOutcome());
                    }
                }
                assertThat(forTheGang).as("attempts preempted for the 4-GPU job " + gang + story + "\n"
                        + String.join("\n", gangWaits)).isPositive();
                assertThat(preemptions).isGreaterThanOrEqualTo(forTheGang);
                Attempt gangFirst = job(bob, gang).getAttempts(0);
                assertThat(gangFirst.getStartedAtMs() - job(bob, gang).getSubmittedAtMs())
                        .as("the gang waited for uni-c's attempts to run the minimum").isGreaterThan(10_000);
            }
        }
    }

    /** A job of {@code seconds} of work that declares 10 s more as its walltime. */
    private static long submit(Client who, String account, int gpus, int seconds) {
        return who.jobs().submit(SubmitRequest.newBuilder().setAccount(account).setGpusPerNode(gpus)
                .setWalltimeSeconds(seconds + 10).setCommand("sleep " + seconds).build()).getJobId();
    }

    private static Job job(Client c, long id) {
        return c.jobs().getJob(GetJobRequest.newBuilder().setJobId(id).build());
    }
}
