package coop.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import coop.cli.Client;
import coop.cli.Identity;
import coop.scheduler.store.Store;
import coop.scheduler.ledger.Entry;
import coop.v1.GetJobRequest;
import coop.v1.GetPolicyRequest;
import coop.v1.GetProposalRequest;
import coop.v1.JobState;
import coop.v1.ListJobsRequest;
import coop.v1.ListNodesRequest;
import coop.v1.ProposalState;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A whole proposal life against the real scheduler and agent processes, driven by the CLI:
 * a newcomer is admitted by vote, delegates its shares vote, a share budget opens, members
 * vote with signed splits, it closes at its deadline and is enacted, and the running jobs
 * follow the new shares. The ledger verifies from the running scheduler and from the data
 * directory, and fails on a tampered copy. And a member who voted is removed by vote: its
 * ballot leaves the votes still open, its own proposal is withdrawn and its waiting job cancelled.
 */
class GovernanceIT {
    @TempDir
    Path dir;

    @Test
    void aShareBudgetVoteIsEnactedAndTheClusterFollowsIt() throws Exception {
        try (CoopProcesses coop = new CoopProcesses(dir)) {
            Path data = dir.resolve("data");
            // Votes here close in seconds: a cooperative founded with no notice periods.
            var init = coop.run("init", "--data", data.toString(), "--notice", "all=0",
                    "--param", "min_run_before_preempt_s=0",
                    "--founders", "alice:lab-a,bob:lab-b,carol:lab-a", "--accounts", "lab-a,lab-b");
            assertThat(init.exitCode()).as(init.stderr()).isZero();
            var scheduler = coop.scheduler(data, "--preemption-grace", "1s");
            String target = scheduler.target();
            Path ids = data.resolve("identities");
            coop.agent(target, ids.resolve("carol.json"), "lab-a", "n1", "north", "sim:4xA100-80GB", dir.resolve("n1"));
            String alice = ids.resolve("alice.json").toString();
            String bob = ids.resolve("bob.json").toString();
            String carol = ids.resolve("carol.json").toString();

            // dave is admitted by a special-majority vote and delegates its shares vote to bob.
            var keygen = coop.run("member", "keygen", "--name", "dave", "--dir", dir.toString(), "--scheduler", target);
            assertThat(keygen.exitCode()).as(keygen.stderr()).isZero();
            String dave = dir.resolve("dave.json").toString();
            var admit = coop.run("propose", "admit", "--scheduler", target, "--identity", alice, "--from", dir.resolve("dave.pub.json").toString(),
                    "--accounts", "lab-b", "--closes-in", "1h", "--json");
            assertThat(admit.exitCode()).as(admit.stderr()).isZero();
            for (String who : List.of(alice, bob, carol)) {
                var v = coop.run("vote", "--scheduler", target, "--identity", who, "1", "yes");
                assertThat(v.exitCode()).as(v.stderr()).isZero();
            }
            // Admitted, dave gets its TLS certificate through alice and installs it.
            coop.certify(target, Path.of(alice), dir.resolve("dave.pub.json"), Path.of(dave));
            // With the scheduler's own certificate, which its client then accepts as it is, as founders' do.
            assertThat(Identity.read(Path.of(dave)).schedulerCertificate()).isNotNull()
                    .isEqualTo(Identity.read(Path.of(alice)).schedulerCertificate());
            var delegate = coop.run("delegate", "--scheduler", target, "--identity", dave, "shares", "bob");
            assertThat(delegate.exitCode()).as(delegate.stderr()).isZero();
            assertThat(delegate.stdout()).contains("delegated shares to bob");

            try (Client client = new Client(target, Identity.read(ids.resolve("alice.json")))) {
                await().atMost(Duration.ofSeconds(30)).until(() -> client.nodes()
                        .listNodes(ListNodesRequest.getDefaultInstance()).getNodesList().stream()
                        .anyMatch(n -> n.getState().equals("online")));
                // A full backlog in both accounts: under equal shares each holds 2 of the 4 GPUs.
                for (int i = 0; i < 4; i++) {
                    for (String[] who : new String[][] {{alice, "lab-a"}, {bob, "lab-b"}}) {
                        var s = coop.run("submit", "--identity", who[0], "--scheduler", target, "--account", who[1],
                                "--gpus", "1", "--", "sleep 300");
                        assertThat(s.exitCode()).as(s.stderr()).isZero();
                    }
                }
                await().atMost(Duration.ofSeconds(30)).until(() -> runningGpus(client).equals(
                        Map.of("lab-a", 2, "lab-b", 2)));

                var open = coop.run("propose", "share-budget", "--scheduler", target, "--identity", bob, "--closes-in", "40s");
                assertThat(open.exitCode()).as(open.stderr()).isZero();
                var wrong = coop.run("vote", "--scheduler", target, "--identity", carol, "2", "--split", "lab-a=75,lab-b=20");
                assertThat(wrong.exitCode()).isEqualTo(1);
                assertThat(wrong.stderr()).contains("split: must sum to 100%");
                for (String who : List.of(alice, bob)) {
                    var v = coop.run("vote", "--scheduler", target, "--identity", who, "2", "--split", "lab-a=75,lab-b=25");
                    assertThat(v.exitCode()).as(v.stderr()).isZero();
                }
                var abstain = coop.run("vote", "--scheduler", target, "--identity", carol, "2", "abstain");
                assertThat(abstain.exitCode()).as(abstain.stderr()).isZero();

                var get = GetProposalRequest.newBuilder().setProposalId(2).build();
                // It closes at its 40 s deadline: dave, who delegated, casts no ballot of its own.
                await().atMost(Duration.ofSeconds(60)).until(
                        () -> client.governance().getProposal(get).getState() != ProposalState.OPEN);
                var closed = client.governance().getProposal(get);
                assertThat(closed.getState()).as(closed.getOutcome()).isEqualTo(ProposalState.PASSED);
                assertThat(closed.getTally().getDelegated()).isEqualTo(1);
                assertThat(closed.getTally().getYes()).isEqualTo(3);
                var policy = client.governance().getPolicy(GetPolicyRequest.getDefaultInstance());
                assertThat(policy.getProposalId()).isEqualTo(2);
                assertThat(policy.getSharesList()).extracting(s -> s.getAccount() + "=" + s.getBasisPoints())
                        .containsExactly("lab-a=7500", "lab-b=2500");

                // The allocation follows the enacted policy: lab-a reclaims a GPU from lab-b.
                await().atMost(Duration.ofSeconds(60)).until(() -> runningGpus(client).equals(
                        Map.of("lab-a", 3, "lab-b", 1)));

                var shown = coop.run("proposal", "--scheduler", target, "--identity", dave, "2");
                assertThat(shown.stdout()).contains("share-budget").contains("1 by delegation")
                        .contains("yours:    none");
                var live = coop.run("ledger", "verify", "--scheduler", target, "--identity", carol);
                assertThat(live.exitCode()).as(live.stderr()).isZero();
                assertThat(live.stdout()).contains("ledger verified").contains("2 proposals re-tallied");
            }
        }
        Path copy = dir.resolve("tampered");
        CoopProcesses.copyData(dir.resolve("data"), copy);
        try (CoopProcesses coop = new CoopProcesses(dir)) {
            var fromData = coop.run("ledger", "verify", "--data", copy.toString());
            assertThat(fromData.exitCode()).as(fromData.stderr()).isZero();
            // The first yes ballot (the scheduler's key and decisions have entries of their own around it).
            long[] ballot = {-1};
            try (Store store = Store.open(copy)) {
                byte[][] found = new byte[1][];
                store.scanRaw(Store.Kind.LEDGER, 0, (seq, bytes) -> {
                    Entry e = Entry.read(bytes);
                    if (e.type().equals("ballot") && new String(bytes, java.nio.charset.StandardCharsets.UTF_8)
                            .contains("\"yes\"")) {
                        found[0] = bytes;
                        ballot[0] = seq;
                        return false;
                    }
                    return true;
                });
                String text = new String(found[0], java.nio.charset.StandardCharsets.UTF_8);
                byte[] changed = text.replace("\"yes\"", "\"no\"").getBytes(java.nio.charset.StandardCharsets.UTF_8);
                assertThat(changed).as("entry " + ballot[0] + " is a yes ballot").isNotEqualTo(found[0]);
                store.putRawForTest(Store.Kind.LEDGER, Store.key(ballot[0]), changed);
            }
            var tampered = coop.run("ledger", "verify", "--data", copy.toString());
            assertThat(tampered.exitCode()).isEqualTo(1);
            assertThat(tampered.stderr()).contains("entry " + ballot[0] + " has been altered");
        }
    }

    @Test
    void aRemovedMembersBallotNoLongerCountsWhenAnOpenVoteClosesAndItsWaitingJobIsCancelled() throws Exception {
        try (CoopProcesses coop = new CoopProcesses(dir)) {
            Path data = dir.resolve("data");
            // Votes here close in seconds: a cooperative founded with no notice periods.
            var init = coop.run("init", "--data", data.toString(), "--notice", "all=0",
                    "--param", "min_run_before_preempt_s=0",
                    "--founders", "alice:lab-a,bob:lab-b,carol:lab-a", "--accounts", "lab-a,lab-b");
            assertThat(init.exitCode()).as(init.stderr()).isZero();
            String target = coop.scheduler(data).target();
            Path ids = data.resolve("identities");
            String alice = ids.resolve("alice.json").toString();
            String bob = ids.resolve("bob.json").toString();
            String carol = ids.resolve("carol.json").toString();
            coop.agent(target, Path.of(bob), "lab-b", "n1", "north", "sim:1xA100-80GB", dir.resolve("n1"));

            // frank is admitted (proposal 1) and gets its certificate.
            var keygen = coop.run("member", "keygen", "--name", "frank", "--dir", dir.toString(), "--scheduler", target);
            assertThat(keygen.exitCode()).as(keygen.stderr()).isZero();
            String frank = dir.resolve("frank.json").toString();
            var admit = coop.run("propose", "admit", "--scheduler", target, "--identity", alice, "--from",
                    dir.resolve("frank.pub.json").toString(), "--accounts", "lab-b", "--closes-in", "1h");
            assertThat(admit.exitCode()).as(admit.stderr()).isZero();
            for (String who : List.of(alice, bob, carol)) {
                vote(coop, target, who, 1, "yes");
            }
            coop.certify(target, Path.of(alice), dir.resolve("frank.pub.json"), Path.of(frank));

            try (Client client = new Client(target, Identity.read(Path.of(alice)))) {
                await().atMost(Duration.ofSeconds(30)).until(() -> client.nodes()
                        .listNodes(ListNodesRequest.getDefaultInstance()).getNodesList().stream()
                        .anyMatch(n -> n.getState().equals("online")));
                // frank's first job takes the only GPU; its second waits.
                long running = submit(coop, target, frank);
                await().atMost(Duration.ofSeconds(30)).until(() -> job(client, running).getState() == JobState.RUNNING);
                long waiting = submit(coop, target, frank);
                assertThat(job(client, waiting).getState()).isEqualTo(JobState.PENDING);

                // frank proposes lab-b 80 % and votes for it (proposal 2); bob votes for it too.
                var own = coop.run("propose", "shares", "lab-a=20", "lab-b=80", "--scheduler", target, "--identity",
                        frank, "--closes-in", "1h");
                assertThat(own.exitCode()).as(own.stderr()).isZero();
                vote(coop, target, frank, 2, "yes");
                vote(coop, target, bob, 2, "yes");
                // The vote on removing frank (proposal 3) is a hearing: it runs to its deadline, and frank answers.
                var remove = coop.run("member", "remove", "frank", "--scheduler", target, "--identity", alice,
                        "--closes-in", "45s");
                assertThat(remove.exitCode()).as(remove.stderr()).isZero();
                for (String who : List.of(alice, bob, carol)) {
                    vote(coop, target, who, 3, "yes");
                }
                // alice proposes the same (proposal 4); with frank's yes, 2 of 4 would make the quorum of one half.
                var shares = coop.run("propose", "shares", "lab-a=20", "lab-b=80", "--scheduler", target,
                        "--identity", alice, "--closes-in", "90s");
                assertThat(shares.exitCode()).as(shares.stderr()).isZero();
                vote(coop, target, frank, 4, "yes");
                vote(coop, target, alice, 4, "yes");
                assertThat(proposal(client, 4).getTally().getYes()).isEqualTo(2);
                vote(coop, target, frank, 3, "no");
                Path answer = dir.resolve("answer.txt");
                Files.writeString(answer, "My jobs ran within lab-b's share.\nAsk the panel of job 1.");
                var respond = coop.run("respond", "3", "--file", answer.toString(), "--scheduler", target,
                        "--identity", frank);
                assertThat(respond.exitCode()).as(respond.stderr()).isZero();
                var byOther = coop.run("respond", "3", "--file", answer.toString(), "--scheduler", target,
                        "--identity", bob);
                assertThat(byOther.exitCode()).isNotZero();
                assertThat(byOther.stderr()).contains("only frank");
                var shownRemoval = coop.run("proposal", "3", "--scheduler", target, "--identity", bob);
                assertThat(shownRemoval.stdout()).contains("response: from the member it names")
                        .contains("| My jobs ran within lab-b's share.").contains("| Ask the panel of job 1.");
                assertThat(proposal(client, 3).getState()).as("a removal stays open to its deadline")
                        .isEqualTo(ProposalState.OPEN);
                await().atMost(Duration.ofSeconds(60)).until(() -> proposal(client, 3).getState() != ProposalState.OPEN);

                var removal = proposal(client, 3);
                assertThat(removal.getState()).as(removal.getOutcome()).isEqualTo(ProposalState.PASSED);
                // Proposal 4 is still open, now without frank's ballot or place.
                var open = proposal(client, 4);
                assertThat(open.getState()).as("proposal 4 is still open when frank is removed")
                        .isEqualTo(ProposalState.OPEN);
                assertThat(open.getEligibleList()).containsExactly("alice", "bob", "carol");
                assertThat(open.getBallotsList()).extracting(b -> b.getMember()).containsExactly("alice");
                var withdrawn = proposal(client, 2);
                assertThat(withdrawn.getState()).isEqualTo(ProposalState.WITHDRAWN);
                assertThat(withdrawn.getOutcome()).isEqualTo("withdrawn: its proposer frank was removed");
                assertThat(withdrawn.getTally().getYes()).isEqualTo(1);
                assertThat(withdrawn.getTally().getEligible()).isEqualTo(3);
                // frank's job that had not started is cancelled with the removal; the running one goes on.
                var cancelled = job(client, waiting);
                assertThat(cancelled.getState()).isEqualTo(JobState.CANCELLED);
                assertThat(cancelled.getEndReason()).isEqualTo("cancelled: member frank was removed");
                assertThat(job(client, running).getState()).isEqualTo(JobState.RUNNING);
                var shown = coop.run("job", "--scheduler", target, "--identity", bob, String.valueOf(waiting));
                assertThat(shown.stdout()).contains("cancelled: member frank was removed");

                // It closes at its deadline: bob and carol never vote on it.
                await().atMost(Duration.ofSeconds(120)).until(
                        () -> proposal(client, 4).getState() != ProposalState.OPEN);
                var closed = proposal(client, 4);
                assertThat(closed.getState()).as(closed.getOutcome()).isEqualTo(ProposalState.REJECTED);
                assertThat(closed.getOutcome()).startsWith("no quorum: 1 of 3 took part");
                assertThat(closed.getTally().getEligible()).isEqualTo(3);
                assertThat(client.governance().getPolicy(GetPolicyRequest.getDefaultInstance()).getVersion())
                        .isEqualTo(1);
                var described = coop.run("proposal", "--scheduler", target, "--identity", bob, "2");
                assertThat(described.stdout()).contains("withdrawn at").contains("its proposer frank was removed");

                var live = coop.run("ledger", "verify", "--scheduler", target, "--identity", carol);
                assertThat(live.exitCode()).as(live.stderr()).isZero();
                assertThat(live.stdout()).contains("ledger verified").contains("4 proposals re-tallied");
            }
        }
        // A close of proposal 4 that counts frank again, with every hash after it recomputed, so
        // that only re-running the rules can tell it from the real one.
        Path copy = dir.resolve("tampered");
        CoopProcesses.copyData(dir.resolve("data"), copy);
        try (CoopProcesses coop = new CoopProcesses(dir)) {
            var fromData = coop.run("ledger", "verify", "--data", copy.toString());
            assertThat(fromData.exitCode()).as(fromData.stderr()).isZero();
        }
        long close;
        try (Store store = Store.open(copy)) {
            List<Entry> entries = new java.util.ArrayList<>();
            store.scanRaw(Store.Kind.LEDGER, 0, (seq, bytes) -> entries.add(Entry.read(bytes)));
            close = entries.stream().filter(e -> e.type().equals("close")
                    && Long.valueOf(4).equals(e.body().get("proposal"))).findFirst().orElseThrow().seq();
            String prev = entries.get((int) close - 1).hash();
            for (Entry e : entries.subList((int) close, entries.size())) {
                var body = new java.util.TreeMap<>(e.body());
                if (e.seq() == close) {
                    body.put("tally", new java.util.TreeMap<String, Object>(Map.of("yes", 2L, "no", 0L,
                            "abstain", 0L, "eligible", 4L, "direct", 2L, "delegated", 0L)));
                }
                Entry forged = Entry.make(e.seq(), e.at(), e.type(), body, prev);
                store.putRawForTest(Store.Kind.LEDGER, Store.key(e.seq()), forged.bytes());
                prev = forged.hash();
            }
        }
        try (CoopProcesses coop = new CoopProcesses(dir)) {
            var tampered = coop.run("ledger", "verify", "--data", copy.toString());
            assertThat(tampered.exitCode()).isEqualTo(1);
            assertThat(tampered.stderr()).contains("entry " + close + " (close) differs from what the rules yield");
        }
    }

    @Test
    void panelsNobodyCanPickAreDrawnAndCheckedOverTheWireAndAReportCancelsARunningJob() throws Exception {
        try (CoopProcesses coop = new CoopProcesses(dir)) {
            Path data = dir.resolve("data");
            var init = coop.run("init", "--data", data.toString(), "--param", "min_run_before_preempt_s=0",
                    "--param", "panel_min_gpus=2", "--founders", "alice:lab-a,bob:lab-b,carol:lab-b",
                    "--accounts", "lab-a,lab-b");
            assertThat(init.exitCode()).as(init.stderr()).isZero();
            String target = coop.scheduler(data).target();
            Path ids = data.resolve("identities");
            String alice = ids.resolve("alice.json").toString();
            String bob = ids.resolve("bob.json").toString();
            String carol = ids.resolve("carol.json").toString();
            // carol operates the only node, so sits on no panel of a job it could run.
            coop.agent(target, Path.of(carol), "lab-b", "n1", "north", "sim:2xA100-80GB", dir.resolve("n1"));
            var refuse = coop.run("node", "set", "n1", "--scheduler", target, "--identity", carol,
                    "--refuse-purpose", "dual-use");
            assertThat(refuse.exitCode()).as(refuse.stderr()).isZero();
            assertThat(coop.run("nodes", "--scheduler", target, "--identity", carol).stdout()).contains("dual-use");

            try (Client client = new Client(target, Identity.read(Path.of(alice)))) {
                await().atMost(Duration.ofSeconds(30)).until(() -> client.nodes()
                        .listNodes(ListNodesRequest.getDefaultInstance()).getNodesList().stream()
                        .anyMatch(n -> n.getState().equals("online")));
                var big = coop.run("submit", "--identity", alice, "--scheduler", target, "--account", "lab-a",
                        "--gpus", "1", "--", "sleep 300");
                assertThat(big.exitCode()).as(big.stderr()).isZero();
                long first = Long.parseLong(big.stdout().strip().replace("submitted job ", ""));
                await().atMost(Duration.ofSeconds(30)).until(() -> job(client, first).getState() == JobState.RUNNING);
                // A second 1-GPU job makes 2 GPUs without a purpose: reviewed, by bob alone.
                var split = coop.run("submit", "--identity", alice, "--scheduler", target, "--account", "lab-a",
                        "--gpus", "1", "--", "sleep 300");
                long second = Long.parseLong(split.stdout().strip().replace("submitted job ", ""));
                assertThat(job(client, second).getState()).isEqualTo(JobState.REVIEW);
                var verified = coop.run("panel", "verify", "--scheduler", target, "--identity", bob,
                        String.valueOf(second));
                assertThat(verified.exitCode()).as(verified.stdout() + verified.stderr()).isZero();
                assertThat(verified.stdout()).contains("panel bob drawn from bob").contains("(matches)")
                        .contains("hashes to the beacon's previous reveal").doesNotContain("NO");

                // carol ran alice's first job on its node, so may read it, and reports it.
                var report = coop.run("report", "--scheduler", target, "--identity", carol, String.valueOf(first),
                        "--concern", "it mines coins");
                assertThat(report.exitCode()).as(report.stderr()).isZero();
                var reject = coop.run("review", "--scheduler", target, "--identity", bob, String.valueOf(first),
                        "reject", "--reason", "it does");
                assertThat(reject.exitCode()).as(reject.stderr()).isZero();
                await().atMost(Duration.ofSeconds(30)).until(() -> job(client, first).getState() == JobState.CANCELLED);
                assertThat(job(client, first).getEndReason()).contains("rejected by the review panel a report opened");
                var reported = coop.run("panel", "verify", "--scheduler", target, "--identity", bob,
                        String.valueOf(first));
                assertThat(reported.exitCode()).as(reported.stdout() + reported.stderr()).isZero();
                assertThat(reported.stdout()).contains("reveal 2 ");

                var live = coop.run("ledger", "verify", "--scheduler", target, "--identity", bob);
                assertThat(live.exitCode()).as(live.stderr()).isZero();
            }
        }
    }

    private static void vote(CoopProcesses coop, String target, String identity, long proposal, String choice)
            throws Exception {
        var v = coop.run("vote", "--scheduler", target, "--identity", identity, String.valueOf(proposal), choice);
        assertThat(v.exitCode()).as(v.stderr()).isZero();
    }

    private static long submit(CoopProcesses coop, String target, String identity) throws Exception {
        var s = coop.run("submit", "--identity", identity, "--scheduler", target, "--account", "lab-b", "--gpus", "1",
                "--", "sleep 300");
        assertThat(s.exitCode()).as(s.stderr()).isZero();
        return Long.parseLong(s.stdout().strip().replace("submitted job ", ""));
    }

    private static coop.v1.Job job(Client client, long id) {
        return client.jobs().getJob(GetJobRequest.newBuilder().setJobId(id).build());
    }

    private static coop.v1.Proposal proposal(Client client, long id) {
        return client.governance().getProposal(GetProposalRequest.newBuilder().setProposalId(id).build());
    }

    private static Map<String, Integer> runningGpus(Client client) {
        return client.jobs().listJobs(ListJobsRequest.newBuilder().addStates(JobState.RUNNING).build())
                .getJobsList().stream().collect(Collectors.groupingBy(j -> j.getAccount(),
                        Collectors.summingInt(j -> j.getGpusPerNode() * j.getNodes())));
    }
}
