package coop.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import coop.cli.Client;
import coop.cli.Identity;
import coop.v1.GetProposalRequest;
import coop.v1.ProposalState;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A newcomer admitted as the README says ({@code coop member keygen --name NAME}, with no
 * scheduler given) ends up with an identity that calls the scheduler that admitted it: {@code coop
 * member certify} records the address it called and {@code install-certificate} fills it in, so
 * the newcomer's next command needs no {@code --scheduler}, though the scheduler listens on a
 * free port rather than the default 7070.
 */
class NewcomerIT {
    @TempDir
    Path dir;

    @Test
    void anAdmittedNewcomersIdentityCallsTheSchedulerThatCertifiedIt() throws Exception {
        try (CoopProcesses coop = new CoopProcesses(dir)) {
            Path data = dir.resolve("data");
            var init = coop.run("init", "--data", data.toString(), "--founders", "alice:lab-a", "--accounts", "lab-a");
            assertThat(init.exitCode()).as(init.stderr()).isZero();
            String target = coop.scheduler(data).target();
            assertThat(target).doesNotEndWith(":7070");
            String alice = data.resolve("identities/alice.json").toString();

            var keygen = coop.run("member", "keygen", "--name", "dave", "--dir", dir.toString());
            assertThat(keygen.exitCode()).as(keygen.stderr()).isZero();
            Path dave = dir.resolve("dave.json");
            assertThat(Identity.read(dave).scheduler()).isNull();
            var admit = coop.run("propose", "admit", "--scheduler", target, "--identity", alice, "--from",
                    dir.resolve("dave.pub.json").toString(), "--accounts", "lab-a");
            assertThat(admit.exitCode()).as(admit.stderr()).isZero();
            var vote = coop.run("vote", "--scheduler", target, "--identity", alice, "1", "yes");
            assertThat(vote.exitCode()).as(vote.stderr()).isZero();
            try (Client client = new Client(target, Identity.read(Path.of(alice)))) {
                await().atMost(Duration.ofSeconds(30)).until(() -> client.governance().getProposal(
                        GetProposalRequest.newBuilder().setProposalId(1).build()).getState() == ProposalState.PASSED);
            }

            coop.certify(target, Path.of(alice), dir.resolve("dave.pub.json"), dave);

            assertThat(Identity.read(dave).scheduler()).isEqualTo(target);
            var jobs = coop.run("jobs", "--identity", dave.toString());
            assertThat(jobs.exitCode()).as(jobs.stderr()).isZero();
            var usage = coop.run("usage", "--identity", dave.toString(), "--json");
            assertThat(usage.exitCode()).as(usage.stderr()).isZero();
            assertThat(usage.stdout()).contains("lab-a");
        }
    }
}
