package coop.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import coop.cli.Client;
import coop.cli.Identity;
import coop.v1.GetJobRequest;
import coop.v1.Job;
import coop.v1.JobState;
import coop.v1.ListNodesRequest;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The stop contract through the real CLI and agent: a job submitted with {@code --signal USR1@5}
 * gets USR1 about five seconds before its walltime and finds {@code walltime} in its
 * coop-stop-reason file when it does; a job with {@code --requeue-on-timeout 1} that runs out of
 * time runs a second time, then fails, and {@code coop job} says so attempt by attempt.
 */
class StopSignalIT {
    @TempDir
    Path dir;

    @Test
    void theSignalComesBeforeTheWalltimeAndATimedOutJobRunsAgain() throws Exception {
        try (CoopProcesses coop = new CoopProcesses(dir)) {
            Path data = dir.resolve("data");
            assertThat(coop.run("init", "--data", data.toString(), "--founders", "alice:lab-a,bob:lab-b",
                    "--accounts", "lab-a,lab-b").exitCode()).isZero();
            var scheduler = coop.scheduler(data);
            Path work = dir.resolve("n1");
            Path alice = data.resolve("identities/alice.json");
            coop.agent(scheduler.target(), alice, "lab-a", "n1", "north", "sim:2xA100-80GB", work);
            try (Client client = new Client(scheduler.target(), Identity.read(alice))) {
                await().atMost(Duration.ofSeconds(30)).until(() -> client.nodes()
                        .listNodes(ListNodesRequest.getDefaultInstance()).getNodesCount() == 1);

                var signalled = coop.run("submit", "--scheduler", scheduler.target(), "--identity", alice.toString(),
                        "--account", "lab-a", "--gpus", "1", "--walltime", "8s", "--signal", "USR1@5", "--json", "--",
                        "trap 'echo \"USR1 at $(date +%s%3N) because $(cat \"$COOP_STOP_REASON_FILE\")\"' USR1; "
                                + "echo \"started at $(date +%s%3N)\"; while true; do sleep 0.1; done");
                assertThat(signalled.exitCode()).as(signalled.stderr()).isZero();
                long warned = Long.parseLong(signalled.stdout().replaceAll("[^0-9]", ""));

                var requeued = coop.run("submit", "--scheduler", scheduler.target(), "--identity", alice.toString(),
                        "--account", "lab-a", "--gpus", "1", "--walltime", "2s", "--requeue-on-timeout", "1", "--json",
                        "--", "echo run $COOP_ATTEMPT; sleep 30");
                assertThat(requeued.exitCode()).as(requeued.stderr()).isZero();
                long twice = Long.parseLong(requeued.stdout().replaceAll("[^0-9]", ""));

                var clean = coop.run("submit", "--scheduler", scheduler.target(), "--identity", alice.toString(),
                        "--account", "lab-a", "--gpus", "1", "--walltime", "2s", "--json", "--",
                        "trap 'exit 0' TERM; while true; do sleep 0.1; done");
                assertThat(clean.exitCode()).as(clean.stderr()).isZero();
                long exitsZero = Long.parseLong(clean.stdout().replaceAll("[^0-9]", ""));

                // Stopped at their walltimes, whatever their exit code: none of them finished.
                await().atMost(Duration.ofSeconds(40)).until(() -> job(client, warned).getState() == JobState.TIMEOUT
                        && job(client, twice).getState() == JobState.TIMEOUT
                        && job(client, exitsZero).getState() == JobState.TIMEOUT);
                assertThat(job(client, exitsZero).getAttempts(0).getExitCode()).isZero();
                var timedOut = coop.run("jobs", "--state", "timeout", "--scheduler", scheduler.target(),
                        "--identity", alice.toString());
                assertThat(timedOut.exitCode()).as(timedOut.stderr()).isZero();
                for (long id : new long[] {warned, twice, exitsZero}) {
                    assertThat(timedOut.stdout()).as("coop jobs --state timeout")
                            .containsPattern("(?m)^" + id + "\\s.*\\btimeout\\b");
                }

                String out = Files.readString(work.resolve("jobs/" + warned + ".1.0/stdout"));
                long started = number(out, "started at (\\d+)");
                long usr1 = number(out, "USR1 at (\\d+) because walltime");
                long ended = job(client, warned).getAttempts(0).getFinishedAtMs();
                assertThat(usr1 - started).as("USR1 three seconds into an 8 s walltime: " + out)
                        .isBetween(2_000L, 4_500L);
                assertThat(ended - usr1).as("the walltime's stop about 5 s after USR1").isBetween(4_000L, 6_500L);
                assertThat(job(client, warned).getAttempts(0).getOutcome()).isEqualTo("walltime of 8 s reached");

                Job ranTwice = job(client, twice);
                assertThat(ranTwice.getAttemptsCount()).isEqualTo(2);
                assertThat(Files.readString(work.resolve("jobs/" + twice + ".1.0/stdout"))).contains("run 1");
                assertThat(Files.readString(work.resolve("jobs/" + twice + ".2.0/stdout"))).contains("run 2");
                var shown = coop.run("job", String.valueOf(twice), "--scheduler", scheduler.target(), "--identity",
                        alice.toString());
                assertThat(shown.stdout()).contains("on timeout:   requeued, up to 1 time",
                        "walltime of 2 s reached, requeued (timeout 1 of the 1 --requeue-on-timeout allows)",
                        "walltime of 2 s reached, not requeued: --requeue-on-timeout 1 used up");

                var refused = coop.run("submit", "--scheduler", scheduler.target(), "--identity", alice.toString(),
                        "--account", "lab-a", "--gpus", "1", "--walltime", "10s", "--signal", "USR1@60", "--", "true");
                assertThat(refused.exitCode()).isNotZero();
                assertThat(refused.stderr()).contains("signal", "longer than the walltime");
            }
        }
    }

    private static long number(String text, String pattern) {
        Matcher m = Pattern.compile(pattern).matcher(text);
        assertThat(m.find()).as("'" + pattern + "' in: " + text).isTrue();
        return Long.parseLong(m.group(1));
    }

    private static Job job(Client c, long id) {
        return c.jobs().getJob(GetJobRequest.newBuilder().setJobId(id).build());
    }
}
