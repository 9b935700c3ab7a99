package coop.cli;

import static org.assertj.core.api.Assertions.assertThat;

import coop.scheduler.SchedulerServer;
import coop.scheduler.ledger.Entry;
import coop.scheduler.ledger.EventType;
import coop.scheduler.ledger.Ledger;
import coop.scheduler.store.Store;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Predicate;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The receipts members keep, end to end through the CLI and a real scheduler over mutual TLS: a
 * vote's reply leaves a receipt beside the voter's identity file, {@code coop ledger witness}
 * leaves a witness, and once someone with the data folder drops the ballot and re-chains the rest,
 * {@code coop ledger verify} still passes but {@code --receipts} fails, naming the entry.
 */
class ReceiptsTest {
    @TempDir
    Path dir;

    @Test
    void aDroppedBallotReChainedByWhoeverHoldsTheDataFolderFailsAgainstTheVotersReceipt() throws Exception {
        Path data = dir.resolve("data");
        CliRun init = CliRun.of("init", "--data", data.toString(), "--accounts", "lab-a,lab-b",
                "--founders", "alice:lab-a,bob:lab-b");
        assertThat(init.exitCode()).as(init.err()).isZero();
        String alice = data.resolve("identities/alice.json").toString();
        String bob = data.resolve("identities/bob.json").toString();
        Path bobsReceipts = data.resolve("identities/bob.receipts");
        Path alicesReceipts = data.resolve("identities/alice.receipts");
        long ballot;
        try (SchedulerServer scheduler = SchedulerServer.start(SchedulerServer.Config.of(data, "127.0.0.1", 0),
                InstantSource.system())) {
            String at = "127.0.0.1:" + scheduler.port();
            CliRun proposed = CliRun.of("propose", "shares", "lab-a=60", "lab-b=40", "--closes-in", "7d",
                    "--scheduler", at, "--identity", alice);
            assertThat(proposed.exitCode()).as(proposed.err()).isZero();
            CliRun voted = CliRun.of("vote", "1", "no", "--scheduler", at, "--identity", bob);
            assertThat(voted.exitCode()).as(voted.err()).isZero();
            assertThat(kept(bobsReceipts)).as("the vote's receipt").hasSize(1);
            ballot = Long.parseLong(kept(bobsReceipts).get(0).replace(".json", ""));

            CliRun head = CliRun.of("ledger", "head", "--scheduler", at, "--identity", alice);
            assertThat(head.exitCode()).as(head.err()).isZero();
            assertThat(head.out()).startsWith("entry " + ballot + ", head ");
            CliRun witnessed = CliRun.of("ledger", "witness", "--scheduler", at, "--identity", alice);
            assertThat(witnessed.exitCode()).as(witnessed.err()).isZero();
            assertThat(kept(alicesReceipts)).contains("witness-" + ballot + ".json");

            CliRun later = CliRun.of("propose", "shares", "lab-a=70", "lab-b=30", "--closes-in", "7d",
                    "--scheduler", at, "--identity", alice);
            assertThat(later.exitCode()).as(later.err()).isZero();
            for (String who : List.of(alice, bob)) {
                CliRun verified = CliRun.of("ledger", "verify", "--receipts", "--scheduler", at, "--identity", who);
                assertThat(verified.exitCode()).as(verified.err()).isZero();
                assertThat(verified.out()).contains("are in the chain");
            }
        }
        // A restart keeps the key (owner-only in tls/, which backups copy): it is announced once.
        assertThat(data.resolve("tls").resolve(SchedulerServer.LEDGER_KEY)).isRegularFile();
        SchedulerServer.start(SchedulerServer.Config.of(data, "127.0.0.1", 0), InstantSource.system()).close();
        List<Entry> honest = entries(data);
        assertThat(honest).filteredOn(e -> e.is(EventType.SCHEDULER_KEY)).hasSize(1);
        assertThat(honest.get((int) ballot).type()).isEqualTo(EventType.BALLOT.label());

        // Whoever holds the data folder drops bob's ballot and the witness, and re-chains the rest.
        rewrite(data, e -> e.seq() != ballot && !e.is(EventType.WITNESS));
        CliRun plain = CliRun.of("ledger", "verify", "--data", data.toString());
        assertThat(plain.exitCode()).as("a consistent re-chaining verifies on its own: " + plain.err()).isZero();
        CliRun bobs = CliRun.of("ledger", "verify", "--data", data.toString(), "--receipts", "--identity", bob);
        assertThat(bobs.exitCode()).isEqualTo(1);
        assertThat(bobs.err()).contains("receipt check FAILED").contains(ballot + ".json")
                .contains("the history was rewritten at or before entry " + ballot);
        CliRun alices = CliRun.of("ledger", "verify", "--data", data.toString(), "--receipts", "--identity", alice);
        assertThat(alices.exitCode()).isEqualTo(1);
        assertThat(alices.err()).contains("witness-" + ballot + ".json").contains("alice witnessed head");
    }

    private static List<String> kept(Path folder) throws Exception {
        if (!Files.isDirectory(folder)) {
            return List.of();
        }
        try (Stream<Path> files = Files.list(folder)) {
            return files.map(p -> p.getFileName().toString()).sorted().toList();
        }
    }

    private static List<Entry> entries(Path data) {
        try (Store store = Store.openReadOnly(data)) {
            return Ledger.rawEntries(store).stream().map(Entry::read).toList();
        }
    }

    private static void rewrite(Path data, Predicate<Entry> keep) {
        try (Store store = Store.open(data)) {
            List<Entry> before = Ledger.rawEntries(store).stream().map(Entry::read).toList();
            var batch = store.batch();
            List<Entry> after = new ArrayList<>();
            for (Entry e : before) {
                batch.delete(Store.Kind.LEDGER, e.seq());
                if (keep.test(e)) {
                    String prev = after.isEmpty() ? Entry.ORIGIN : after.get(after.size() - 1).hash();
                    after.add(Entry.make(after.size(), e.at(), e.type(), e.body(), prev));
                }
            }
            after.forEach(e -> batch.putRaw(Store.Kind.LEDGER, e.seq(), e.bytes()));
            store.commit(batch);
        }
    }
}
