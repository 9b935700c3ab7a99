package coop.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import coop.cli.Client;
import coop.cli.Identity;
import coop.v1.GetJobRequest;
import coop.v1.JobState;
import coop.v1.ListNodesRequest;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Mutual TLS between the real CLI, agents and scheduler processes: only certificates of the
 * cooperative's own CA get in, a certificate speaks only for its holder, and a removed node's
 * identity is refused at once.
 */
class TlsIT {
    @TempDir
    Path dir;

    @Test
    void onlyTheCooperativesCertificatesGetInAndEachSpeaksOnlyForItsHolder() throws Exception {
        try (CoopProcesses coop = new CoopProcesses(dir)) {
            Path data = dir.resolve("data");
            // No notice periods: the removal below is a hearing that runs to its deadline, here seconds.
            var init = coop.run("init", "--data", data.toString(), "--notice", "all=0",
                    "--founders", "alice:lab-a,bob:lab-b,carol",
                    "--accounts", "lab-a,lab-b");
            assertThat(init.exitCode()).as(init.stderr()).isZero();
            var other = coop.run("init", "--data", dir.resolve("other").toString(), "--founders", "mallory",
                    "--accounts", "lab-m");
            assertThat(other.exitCode()).as(other.stderr()).isZero();
            var scheduler = coop.scheduler(data);
            String target = scheduler.target();
            Path alice = data.resolve("identities/alice.json");

            // With the build's TLS library (OpenSSL), as ./coop runs a short call, and with the JDK's.
            Path mallory = dir.resolve("other/identities/mallory.json");
            Identity m = Identity.read(mallory);
            Identity ours = Identity.read(alice);
            Path foreignCertificate = dir.resolve("foreign-certificate.json");
            m.withTls(ours.caCertificate(), m.certificate(), m.tlsKey(), ours.schedulerCertificate())
                    .write(foreignCertificate);
            for (boolean jdk : new boolean[] {false, true}) {
                String[] jobs = {"jobs", "--scheduler", target, "--identity", alice.toString()};
                var ok = jdk ? coop.runWithJdkTls(jobs) : coop.run(jobs);
                assertThat(ok.exitCode()).as(ok.stderr()).isZero();

                // Another cooperative's member: its CA does not vouch for this scheduler, nor ours for it.
                String[] foreign = {"jobs", "--scheduler", target, "--identity", mallory.toString()};
                var stranger = jdk ? coop.runWithJdkTls(foreign) : coop.run(foreign);
                assertThat(stranger.exitCode()).isEqualTo(1);
                assertThat(stranger.stderr()).contains("cannot talk TLS with scheduler at " + target);

                // One that trusts this scheduler but shows another CA's certificate: the scheduler
                // answers with the alert that names the fault, not internal_error.
                String[] unknown = {"jobs", "--scheduler", target, "--identity", foreignCertificate.toString()};
                var refused = jdk ? coop.runWithJdkTls(unknown) : coop.run(unknown);
                assertThat(refused.exitCode()).isEqualTo(1);
                assertThat(refused.stderr()).as(jdk ? "JDK TLS" : "OpenSSL").contains("cannot talk TLS with scheduler at "
                        + target).containsIgnoringCase("unknown_ca").doesNotContainIgnoringCase("internal_error");
            }

            // No certificate at all: plaintext is not served.
            Identity a = Identity.read(alice);
            Path bare = dir.resolve("bare.json");
            new Identity(a.member(), a.token(), target, a.publicKey(), a.privateKey()).write(bare);
            var plain = coop.run("jobs", "--scheduler", target, "--identity", bare.toString());
            assertThat(plain.exitCode()).isEqualTo(1);
            assertThat(plain.stderr()).contains("cannot reach scheduler at " + target);

            // An identity that does not name the scheduler's certificate (as made before coop recorded
            // it) trusts the CA's word alone, and gets in as well.
            Path unpinned = dir.resolve("unpinned.json");
            assertThat(a.schedulerCertificate()).isNotNull();
            a.withTls(a.caCertificate(), a.certificate(), a.tlsKey(), null).write(unpinned);
            for (boolean jdk : new boolean[] {false, true}) {
                String[] jobs = {"jobs", "--scheduler", target, "--identity", unpinned.toString()};
                var ok = jdk ? coop.runWithJdkTls(jobs) : coop.run(jobs);
                assertThat(ok.exitCode()).as(ok.stderr()).isZero();
            }

            // bob's certificate carrying alice's name and token is refused.
            Identity b = Identity.read(data.resolve("identities/bob.json"));
            Path forged = dir.resolve("forged.json");
            a.withTls(b.caCertificate(), b.certificate(), b.tlsKey(), b.schedulerCertificate()).write(forged);
            var spoof = coop.run("submit", "--scheduler", target, "--identity", forged.toString(), "--account",
                    "lab-a", "--gpus", "1", "--", "true");
            assertThat(spoof.exitCode()).isEqualTo(1);
            assertThat(spoof.stderr()).contains("speaks for member alice but its certificate is that of member bob");

            // bob is removed by vote: from the enactment on, its certificate is refused.
            var remove = coop.run("member", "remove", "bob", "--scheduler", target, "--identity", alice.toString(),
                    "--closes-in", "10s");
            assertThat(remove.exitCode()).as(remove.stderr()).isZero();
            for (String[] v : new String[][] {{"alice", "yes"}, {"carol", "yes"}, {"bob", "no"}}) {
                var vote = coop.run("vote", "--scheduler", target, "--identity",
                        data.resolve("identities/" + v[0] + ".json").toString(), "1", v[1]);
                assertThat(vote.exitCode()).as(vote.stderr()).isZero();
            }
            String[] asBob = {"jobs", "--scheduler", target, "--identity", data.resolve("identities/bob.json").toString()};
            var removed = await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofSeconds(2))
                    .until(() -> coop.run(asBob), r -> r.exitCode() != 0);
            assertThat(removed.exitCode()).isEqualTo(1);
            assertThat(removed.stderr()).contains("the certificate of member bob is revoked: no longer a member");
        }
    }

    @Test
    void aRemovedNodeIsRefusedAtOnceAndItsJobRunsElsewhere() throws Exception {
        try (CoopProcesses coop = new CoopProcesses(dir)) {
            Path data = dir.resolve("data");
            var init = coop.run("init", "--data", data.toString(), "--founders", "alice", "--accounts", "lab-a");
            assertThat(init.exitCode()).as(init.stderr()).isZero();
            var scheduler = coop.scheduler(data);
            String target = scheduler.target();
            Path alice = data.resolve("identities/alice.json");
            coop.agent(target, alice, "lab-a", "n1", "north", "sim:1xA100-80GB", dir.resolve("n1"));
            try (Client client = new Client(target, Identity.read(alice))) {
                await().atMost(Duration.ofSeconds(30)).until(() -> online(client, "n1"));
                var submit = coop.run("submit", "--scheduler", target, "--identity", alice.toString(), "--account",
                        "lab-a", "--gpus", "1", "--", "sleep 600");
                long id = ClusterIT.jobId(submit.stdout());
                await().atMost(Duration.ofSeconds(30)).until(() -> client.jobs()
                        .getJob(GetJobRequest.newBuilder().setJobId(id).build()).getState() == JobState.RUNNING);
                coop.agent(target, alice, "lab-a", "n2", "north", "sim:1xA100-80GB", dir.resolve("n2"));
                await().atMost(Duration.ofSeconds(30)).until(() -> online(client, "n2"));

                var remove = coop.run("node", "remove", "n1", "--scheduler", target, "--identity", alice.toString());
                assertThat(remove.exitCode()).as(remove.stderr()).isZero();
                assertThat(remove.stdout()).contains("removed node n1").contains("job(s) [" + id + "] requeued");
                await().atMost(Duration.ofSeconds(30)).until(() -> {
                    var job = client.jobs().getJob(GetJobRequest.newBuilder().setJobId(id).build());
                    return job.getState() == JobState.RUNNING && job.getAttemptsCount() == 2
                            && job.getAttempts(1).getPlacements(0).getNode().equals("n2");
                });
                // The agent of n1 keeps dialing, and its certificate and token are refused each time.
                await().during(Duration.ofSeconds(3)).atMost(Duration.ofSeconds(10)).until(() -> client.nodes()
                        .listNodes(ListNodesRequest.getDefaultInstance()).getNodesList().stream()
                        .noneMatch(n -> n.getName().equals("n1")));
            }
        }
    }

    private static boolean online(Client client, String node) {
        return client.nodes().listNodes(ListNodesRequest.getDefaultInstance()).getNodesList().stream()
                .anyMatch(n -> n.getName().equals(node) && n.getState().equals("online"));
    }
}
