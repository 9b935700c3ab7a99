package coop.scheduler.engine;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import coop.scheduler.audit.LedgerVerifier;
import coop.scheduler.audit.ReceiptCheck;
import coop.scheduler.domain.Choice;
import coop.scheduler.domain.CoopException;
import coop.scheduler.domain.JobSpec;
import coop.scheduler.domain.Proposal;
import coop.scheduler.governance.TestMembers;
import coop.scheduler.ledger.Entry;
import coop.scheduler.ledger.EventType;
import coop.scheduler.ledger.Keys;
import coop.scheduler.ledger.Ledger;
import coop.scheduler.ledger.SignedHead;
import coop.scheduler.store.Store;
import java.nio.file.Path;
import java.security.KeyPair;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SortedMap;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The capture attempt a signed head defeats: whoever holds the data folder drops a ballot from the
 * ledger and re-chains the entries after it, so that the ledger verifies on its own. A member's
 * receipt signed before the rewrite, or a member's witness, names a head the rewritten ledger no
 * longer has at that sequence number.
 */
class RewrittenHistoryTest {
    @TempDir
    Path dir;
    private final FakeClock clock = new FakeClock();
    private final TestMembers keys = new TestMembers();
    private final KeyPair schedulerKey = Keys.generate();
    private EngineFixture engine;

    @BeforeEach
    void found() throws Exception {
        engine = EngineFixture.found(dir, clock, List.of(
                keys.member("alice", List.of("lab-a")),
                keys.member("bob", List.of("lab-b")),
                keys.member("carol", List.of("lab-a"))), List.of("lab-a", "lab-b"));
        String announced = Keys.encode(schedulerKey.getPublic());
        assertThat((boolean) engine.call((s, tx) -> s.announceSchedulerKey(announced, tx))).isTrue();
        engine.loop().signHeads(schedulerKey);
    }

    @AfterEach
    void close() {
        engine.close();
    }

    private void vote(String member, long proposal) throws Exception {
        clock.advanceMillis(1);
        var st = keys.vote(member, clock.millis(), proposal, Choice.NO);
        engine.call((s, tx) -> s.vote(member, st.statement(), st.signature(), tx));
    }

    /** Alice's witness of the head as it is now: recorded in the ledger, and kept by alice. */
    private ReceiptCheck.Witness witness() throws Exception {
        SignedHead now = engine.loop().signedHead();
        SortedMap<String, Object> statement = new SignedHead.Witness("alice", now.seq(), now.head(), clock.millis())
                .statement();
        String signature = keys.sign(statement);
        engine.call((s, tx) -> {
            s.witness("alice", statement, signature, tx);
            return null;
        });
        return new ReceiptCheck.Witness("alice-witness", statement, signature, keys.publicKey("alice"));
    }

    @Test
    void aDroppedBallotReChainedVerifiesAloneButNotAgainstAReceiptOrAWitness() throws Exception {
        var st = keys.shares("alice", clock.millis(), 3600, Map.of("lab-a", 6000L, "lab-b", 4000L));
        Proposal p = engine.call((s, tx) -> s.propose("alice", st.statement(), st.signature(), tx));
        vote("bob", p.id());
        // The receipt bob's client keeps from the reply to his vote.
        SignedHead bobsReceipt = engine.loop().signedHead();
        vote("carol", p.id());
        ReceiptCheck.Witness alicesWitness = witness();
        engine.call((s, tx) -> s.submit("carol", new JobSpec("lab-a", 1, 1, "", 60, "true", 0, "", false, false),
                tx));
        engine.loop().close();
        List<byte[]> honest = Ledger.rawEntries(engine.store());
        List<ReceiptCheck.Receipt> receipts = List.of(new ReceiptCheck.Receipt("bob-receipt", bobsReceipt));
        assertThat(LedgerVerifier.verify(honest).problem()).isNull();
        assertThat(ReceiptCheck.check(honest, receipts, List.of(alicesWitness))).isEmpty();
        long ballot = entries(honest).stream().filter(e -> e.is(EventType.BALLOT)
                && "bob".equals(((Map<?, ?>) e.body().get("statement")).get("member"))).findFirst().orElseThrow().seq();
        assertThat(bobsReceipt.seq()).isEqualTo(ballot);

        // Dropping the ballot and re-chaining the rest leaves alice's recorded witness naming a lost head.
        engine.close();
        rewrite(e -> e.seq() != ballot);
        try (Store store = Store.openReadOnly(dir)) {
            assertThat(LedgerVerifier.verify(Ledger.rawEntries(store)).problem()).startsWith("entry 4 (witness)")
                    .contains("alice witnessed");
        }
        // So the capturer drops the witness too: now the ledger verifies on its own, and the scheduler starts on it.
        rewrite(e -> !e.is(EventType.WITNESS));
        List<byte[]> rewritten;
        try (Store store = Store.openReadOnly(dir)) {
            rewritten = Ledger.rawEntries(store);
        }
        assertThat(rewritten).hasSize(honest.size() - 2);
        assertThat(LedgerVerifier.verify(rewritten).problem()).isNull();

        List<ReceiptCheck.Finding> found = ReceiptCheck.check(rewritten, receipts, List.of(alicesWitness));
        assertThat(found).extracting(ReceiptCheck.Finding::source, ReceiptCheck.Finding::seq).containsExactly(
                org.assertj.core.groups.Tuple.tuple("bob-receipt", ballot),
                org.assertj.core.groups.Tuple.tuple("alice-witness", alicesWitness.statement().get("seq")));
        assertThat(found.get(0).problem()).contains("the history was rewritten at or before entry " + ballot);
        engine = EngineFixture.open(dir, clock, java.time.Duration.ofSeconds(60), java.time.Duration.ofMillis(20));
    }

    @Test
    void aWitnessMustBeTheMembersOwnAndNameARecentHead() throws Exception {
        SignedHead now = engine.loop().signedHead();
        SortedMap<String, Object> forged = new SignedHead.Witness("alice", now.seq(), "0".repeat(64), clock.millis())
                .statement();
        assertThatThrownBy(() -> engine.call((s, tx) -> {
            s.witness("alice", forged, keys.sign(forged), tx);
            return null;
        })).isInstanceOfSatisfying(CoopException.class, e -> assertThat(e.getMessage()).contains("has hash"));
        SortedMap<String, Object> bobs = new SignedHead.Witness("bob", now.seq(), now.head(), clock.millis())
                .statement();
        assertThatThrownBy(() -> engine.call((s, tx) -> {
            s.witness("alice", bobs, keys.sign(bobs), tx);
            return null;
        })).isInstanceOfSatisfying(CoopException.class,
                e -> assertThat(e.kind()).isEqualTo(CoopException.Kind.PERMISSION_DENIED));
    }

    @Test
    void aRestartKeepsTheAnnouncedKeyAndANewKeyIsAnnouncedAnew() throws Exception {
        engine.restart();
        String same = Keys.encode(schedulerKey.getPublic());
        assertThat((boolean) engine.call((s, tx) -> s.announceSchedulerKey(same, tx))).isFalse();
        String other = Keys.encode(Keys.generate().getPublic());
        assertThat((boolean) engine.call((s, tx) -> s.announceSchedulerKey(other, tx))).isTrue();
        engine.loop().close();
        assertThat(entries(Ledger.rawEntries(engine.store())).stream().filter(e -> e.is(EventType.SCHEDULER_KEY))
                .map(e -> e.body().get("public_key"))).containsExactly(same, other);
    }

    private static List<Entry> entries(List<byte[]> raw) {
        return raw.stream().map(Entry::read).toList();
    }

    /** Rewrites the store's ledger to the entries {@code keep} keeps, re-chained: what someone with the data folder can do. */
    private void rewrite(java.util.function.Predicate<Entry> keep) {
        try (Store store = Store.open(dir)) {
            List<Entry> before = entries(Ledger.rawEntries(store));
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
