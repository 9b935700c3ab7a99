package coop.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import coop.cli.Client;
import coop.cli.Identity;
import coop.v1.GetProposalRequest;
import coop.v1.Job;
import coop.v1.LedgerHeadRequest;
import coop.v1.ListJobsRequest;
import coop.v1.ProposalState;
import coop.v1.SubmitRequest;
import io.grpc.StatusRuntimeException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Queue;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.stream.Collectors;
import java.util.stream.LongStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code coop backup} against a real scheduler process that is taking submits from two threads
 * meanwhile; a second scheduler started on the backup holds a prefix of the first's history: every
 * job acknowledged before the backup call began, none submitted after it returned, and with any job
 * every job acknowledged before that one was submitted. The backup also verifies offline. Backups
 * go only under the folder the scheduler was started with ({@code --backup-root}), and none at all
 * without one; targets that would leave it and members without the operator role are refused and
 * leave nothing behind.
 */
class BackupIT {
    @TempDir
    Path dir;

    /** A submit as the client saw it: when it was sent and when its acknowledgement arrived. */
    record Ack(long id, String command, long sentNanos, long ackedNanos) {
    }

    @Test
    void aBackupTakenUnderLoadIsAPrefixOfTheHistoryAndStartsAndVerifies() throws Exception {
        try (CoopProcesses coop = new CoopProcesses(dir)) {
            Path data = dir.resolve("data");
            var init = coop.run("init", "--data", data.toString(), "--founders", "alice", "--accounts", "lab-a");
            assertThat(init.exitCode()).as(init.stderr()).isZero();
            Path aliceFile = data.resolve("identities/alice.json");
            Identity alice = Identity.read(aliceFile);
            Path root = dir.resolve("backups");
            var first = coop.scheduler(data, "--backup-root", root.toString());
            Path backup = root.toRealPath().resolve("monday");

            Queue<Ack> acks = new ConcurrentLinkedQueue<>();
            Queue<Throwable> failures = new ConcurrentLinkedQueue<>();
            long callStart;
            long callEnd;
            CoopProcesses.Result backedUp;
            ExecutorService pool = Executors.newFixedThreadPool(2);
            try (Client client = new Client(first.target(), alice)) {
                var stop = new java.util.concurrent.atomic.AtomicBoolean();
                List<Future<?>> submitters = new ArrayList<>();
                for (int t = 0; t < 2; t++) {
                    int thread = t;
                    submitters.add(pool.submit(() -> {
                        for (int i = 0; !stop.get(); i++) {
                            String command = "echo " + thread + "-" + i;
                            long sent = System.nanoTime();
                            try {
                                long id = client.jobs().submit(SubmitRequest.newBuilder().setAccount("lab-a")
                                        .setGpusPerNode(1).setCommand(command).build()).getJobId();
                                acks.add(new Ack(id, command, sent, System.nanoTime()));
                            } catch (StatusRuntimeException e) {
                                failures.add(e);
                                return;
                            }
                        }
                    }));
                }
                await().atMost(Duration.ofSeconds(60)).until(() -> acks.size() >= 30 || !failures.isEmpty());
                callStart = System.nanoTime();
                backedUp = coop.run("backup", "--scheduler", first.target(), "--identity", aliceFile.toString(),
                        "--to", "monday", "--json");
                callEnd = System.nanoTime();
                // Keep submitting past the backup, so there is history it must not hold.
                await().atMost(Duration.ofSeconds(60)).until(() -> acks.stream()
                        .filter(a -> a.sentNanos() > callEnd).count() >= 20 || !failures.isEmpty());
                stop.set(true);
                for (Future<?> f : submitters) {
                    f.get();
                }
            } finally {
                pool.shutdownNow();
            }
            assertThat(failures).isEmpty();
            assertThat(backedUp.exitCode()).as(backedUp.stderr()).isZero();
            JsonNode reply = new ObjectMapper().readTree(backedUp.stdout());
            assertThat(reply.get("path").asText()).isEqualTo(backup.toString());
            long jobsInBackup = reply.get("jobs").asLong();
            System.out.printf("BackupIT: backup of %d jobs (%d acknowledged in all), %d bytes, %d ms on the "
                            + "scheduler (event loop paused %d ms), %d ms for the whole coop backup process%n",
                    jobsInBackup, acks.size(), reply.get("bytes").asLong(), reply.get("elapsed_ms").asLong(),
                    reply.get("paused_ms").asLong(), (callEnd - callStart) / 1_000_000);

            var verified = coop.run("ledger", "verify", "--data", backup.toString());
            assertThat(verified.exitCode()).as(verified.stderr()).isZero();
            assertThat(verified.stdout()).contains("ledger verified");

            // Restore: a second scheduler, on its own port, started on the backup.
            var second = coop.scheduler(backup);
            try (Client client = new Client(second.target(), alice)) {
                Map<Long, String> restored = new TreeMap<>();
                for (Job j : client.allJobs(ListJobsRequest.getDefaultInstance())) {
                    restored.put(j.getId(), j.getCommand());
                }
                Map<Long, Ack> byId = new TreeMap<>();
                acks.forEach(a -> byId.put(a.id(), a));
                assertThat(byId.keySet()).as("every submit was acknowledged, ids from 1 without gaps")
                        .isEqualTo(LongStream.rangeClosed(1, acks.size()).boxed().collect(Collectors.toSet()));

                assertThat(restored).hasSize((int) jobsInBackup);
                // A cut between turns: ids are given in the order commands are applied, so the
                // backup holds jobs 1..K, each exactly as it was acknowledged.
                assertThat(restored.keySet()).isEqualTo(
                        LongStream.rangeClosed(1, jobsInBackup).boxed().collect(Collectors.toSet()));
                restored.forEach((id, command) -> assertThat(command).isEqualTo(byId.get(id).command()));

                Set<Long> ackedBefore = acks.stream().filter(a -> a.ackedNanos() < callStart).map(Ack::id)
                        .collect(Collectors.toSet());
                assertThat(ackedBefore).hasSizeGreaterThanOrEqualTo(30);
                assertThat(restored.keySet()).as("acknowledged before the backup began").containsAll(ackedBefore);
                List<Long> sentAfter = acks.stream().filter(a -> a.sentNanos() > callEnd).map(Ack::id).toList();
                assertThat(sentAfter).hasSizeGreaterThanOrEqualTo(20);
                assertThat(restored.keySet()).as("submitted after the backup returned")
                        .doesNotContainAnyElementsOf(sentAfter);
                // With any job N it holds every job acknowledged before N was sent: no job left out
                // was acknowledged before the last one kept was sent.
                long lastSentKept = restored.keySet().stream().mapToLong(id -> byId.get(id).sentNanos()).max()
                        .orElseThrow();
                assertThat(acks).filteredOn(a -> !restored.containsKey(a.id()))
                        .allSatisfy(a -> assertThat(a.ackedNanos()).as("job %d", a.id())
                                .isGreaterThanOrEqualTo(lastSentKept));

                var head = client.ledger().head(LedgerHeadRequest.getDefaultInstance());
                assertThat(head.getHead()).isEqualTo(reply.get("ledger_head").asText());
                assertThat(head.getSize() - 1).isEqualTo(reply.get("ledger_head_seq").asLong());
                long next = client.jobs().submit(SubmitRequest.newBuilder().setAccount("lab-a").setGpusPerNode(1)
                        .setCommand("true").build()).getJobId();
                assertThat(next).isEqualTo(jobsInBackup + 1);
            }
        }
    }

    @Test
    void backupsGoOnlyUnderTheBackupRootAndOnlyOperatorsMayTakeThem() throws Exception {
        try (CoopProcesses coop = new CoopProcesses(dir)) {
            Path data = dir.resolve("data");
            var init = coop.run("init", "--data", data.toString(), "--founders", "alice", "--accounts", "lab-a");
            assertThat(init.exitCode()).as(init.stderr()).isZero();
            String alice = data.resolve("identities/alice.json").toString();

            // Started without --backup-root, a scheduler takes no backup at all.
            var unrooted = coop.scheduler(data);
            Path anywhere = dir.resolve("anywhere");
            var refusedAll = coop.run("backup", "--scheduler", unrooted.target(), "--identity", alice, "--to",
                    anywhere.toString());
            assertThat(refusedAll.exitCode()).isEqualTo(1);
            assertThat(refusedAll.stderr().strip()).isEqualTo("error: this scheduler takes no backups: start it with "
                    + "--backup-root DIR to name the folder they go under");
            assertThat(anywhere).doesNotExist();
            unrooted.process().destroy();
            assertThat(unrooted.process().waitFor(30, java.util.concurrent.TimeUnit.SECONDS)).isTrue();

            Path root = dir.resolve("backups");
            var scheduler = coop.scheduler(data, "--backup-root", root.toString());
            String target = scheduler.target();
            Path realRoot = root.toRealPath();
            assertThat(java.nio.file.attribute.PosixFilePermissions.toString(Files.getPosixFilePermissions(root)))
                    .as("made owner-only: backups hold the CA's key").isEqualTo("rwx------");

            Path full = Files.createDirectories(root.resolve("full"));
            Files.writeString(full.resolve("notes.txt"), "mine");
            Path outside = Files.createDirectories(dir.resolve("outside"));
            Files.createSymbolicLink(root.resolve("escape"), outside);
            Map<String, String> refusals = new java.util.LinkedHashMap<>();
            refusals.put("../escaped", "error: to: must not contain '..', got '../escaped'");
            refusals.put(dir.resolve("elsewhere").toString(), "error: to: '" + dir.resolve("elsewhere")
                    + "' is outside the backup root " + realRoot + "; give a folder name under it, such as 2025-06-02");
            refusals.put(data.resolve("nested").toString(), "error: to: '" + data.resolve("nested")
                    + "' is outside the backup root " + realRoot);
            refusals.put("full", "error: to: " + realRoot.resolve("full") + " exists and is not empty");
            refusals.put("escape/inside", "error: to: " + realRoot.resolve("escape/inside")
                    + " leads outside the backup root " + realRoot + " through a symbolic link");
            for (var refusal : refusals.entrySet()) {
                var refused = coop.run("backup", "--scheduler", target, "--identity", alice, "--to", refusal.getKey());
                assertThat(refused.exitCode()).as(refusal.getKey()).isEqualTo(1);
                assertThat(refused.stderr().strip()).as(refusal.getKey()).startsWith(refusal.getValue());
            }
            assertThat(dir.resolve("escaped")).doesNotExist();
            assertThat(dir.resolve("elsewhere")).doesNotExist();
            assertThat(data.resolve("nested")).doesNotExist();
            try (var entries = Files.list(outside)) {
                assertThat(entries.toList()).isEmpty();
            }
            try (var entries = Files.list(full)) {
                assertThat(entries.toList()).containsExactly(full.resolve("notes.txt"));
            }

            // dave is admitted as a member and researcher, without the operator role.
            var keygen = coop.run("member", "keygen", "--name", "dave", "--dir", dir.toString(), "--scheduler", target);
            assertThat(keygen.exitCode()).as(keygen.stderr()).isZero();
            var admit = coop.run("propose", "admit", "--scheduler", target, "--identity", alice, "--from",
                    dir.resolve("dave.pub.json").toString(), "--accounts", "lab-a", "--roles", "member,researcher");
            assertThat(admit.exitCode()).as(admit.stderr()).isZero();
            var vote = coop.run("vote", "--scheduler", target, "--identity", alice, "1", "yes");
            assertThat(vote.exitCode()).as(vote.stderr()).isZero();
            try (Client client = new Client(target, Identity.read(Path.of(alice)))) {
                await().atMost(Duration.ofSeconds(30)).until(() -> client.governance().getProposal(
                        GetProposalRequest.newBuilder().setProposalId(1).build()).getState() == ProposalState.PASSED);
            }
            coop.certify(target, Path.of(alice), dir.resolve("dave.pub.json"), dir.resolve("dave.json"));
            Path byDave = realRoot.resolve("by-dave");
            var denied = coop.run("backup", "--scheduler", target, "--identity", dir.resolve("dave.json").toString(),
                    "--to", "by-dave");
            assertThat(denied.exitCode()).isEqualTo(1);
            assertThat(denied.stderr()).contains("no operator role");
            assertThat(byDave).doesNotExist();

            var allowed = coop.run("backup", "--scheduler", target, "--identity", alice, "--to", "by-dave");
            assertThat(allowed.exitCode()).as(allowed.stderr()).isZero();
            assertThat(allowed.stdout()).contains("backed up to " + byDave + " on the scheduler's machine")
                    .contains("restore: coop scheduler --data " + byDave);
            // An absolute path inside the root is as good as its name there.
            Path weekly = realRoot.resolve("weekly/23");
            var absolute = coop.run("backup", "--scheduler", target, "--identity", alice, "--to", weekly.toString());
            assertThat(absolute.exitCode()).as(absolute.stderr()).isZero();
            assertThat(absolute.stdout()).contains("backed up to " + weekly);
        }
    }

    @Test
    void aBackupRootInsideTheDataDirectoryIsRefusedAtStart() throws Exception {
        try (CoopProcesses coop = new CoopProcesses(dir)) {
            Path data = dir.resolve("data");
            var init = coop.run("init", "--data", data.toString(), "--founders", "alice", "--accounts", "lab-a");
            assertThat(init.exitCode()).as(init.stderr()).isZero();
            var refused = coop.run("scheduler", "--data", data.toString(), "--listen", "127.0.0.1:0",
                    "--backup-root", data.resolve("backups").toString());
            assertThat(refused.exitCode()).isEqualTo(1);
            assertThat(refused.stderr()).contains("error: --backup-root: " + data.resolve("backups")
                    + " is inside the data directory");
            assertThat(data.resolve("backups")).doesNotExist();
        }
    }
}
