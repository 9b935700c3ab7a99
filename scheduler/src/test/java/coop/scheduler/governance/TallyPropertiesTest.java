package coop.scheduler.governance;

import static org.assertj.core.api.Assertions.assertThat;

import coop.scheduler.audit.LedgerVerifier;
import coop.scheduler.domain.Ballot;
import coop.scheduler.domain.Choice;
import coop.scheduler.domain.Constitution;
import coop.scheduler.domain.CoopException;
import coop.scheduler.domain.Member;
import coop.scheduler.domain.Params;
import coop.scheduler.domain.Proposal;
import coop.scheduler.domain.ProposalKind;
import coop.scheduler.domain.ProposalState;
import coop.scheduler.domain.Tally;
import coop.scheduler.domain.Topic;
import coop.scheduler.ledger.Entry;
import coop.scheduler.ledger.Event;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.stream.LongStream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Random governance histories: members delegate (some delegations would cycle and are
 * refused), vote and change their ballots, proposals close. Whatever happens, a tally counts
 * every eligible member at most once and equals a plain recount, every enacted policy's
 * shares sum to exactly 100 %, and the ledger verifies.
 */
class TallyPropertiesTest {
    static final List<String> ACCOUNTS = List.of("lab-a", "lab-b", "uni-c");

    static LongStream seeds() {
        return LongStream.range(0, 150);
    }

    @ParameterizedTest(name = "seed {0}")
    @MethodSource("seeds")
    void aTallyNeverCountsAMemberTwiceAndEnactedSharesSumToOneHundred(long seed) {
        Random random = new Random(seed);
        TestMembers keys = new TestMembers();
        int n = 3 + random.nextInt(7);
        List<String> names = new ArrayList<>();
        List<Member> founders = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            names.add("m" + i);
            founders.add(keys.member("m" + i, ACCOUNTS));
        }
        long[] now = {1_700_000_000_000L};
        var genesis = Governance.genesis(founders, ACCOUNTS, Params.DEFAULTS,
                Constitution.DEFAULTS);
        Governance gov = Governance.found(genesis, now[0]);
        List<Entry> ledger = new ArrayList<>();
        ledger.add(Entry.make(0, now[0], "genesis", genesis, Entry.ORIGIN));
        java.util.function.Consumer<List<Event>> rec = events -> events.forEach(e -> ledger.add(
                Entry.make(ledger.size(), now[0], e.type(), e.body(), ledger.get(ledger.size() - 1).hash())));
        java.util.function.Consumer<TestMembers.Signed> submit = s -> {
            try {
                rec.accept(gov.submit(s.statement(), s.signature(), now[0], true));
            } catch (CoopException refused) {
                // refused inputs (cycles, closed proposals) change nothing
            }
        };
        for (int round = 0; round < 3; round++) {
            boolean budget = random.nextBoolean();
            now[0] += 1000;
            TestMembers.Signed open;
            if (budget) {
                open = keys.propose(names.get(0), now[0], ProposalKind.SHARE_BUDGET, 600, Map.of());
            } else {
                int a = random.nextInt(10_001);
                int b = random.nextInt(10_001 - a);
                open = keys.shares(names.get(0), now[0], 600, Map.of("lab-a", (long) a, "lab-b", (long) b,
                        "uni-c", (long) (10_000 - a - b)));
            }
            List<Event> opened = gov.submit(open.statement(), open.signature(), now[0], true);
            rec.accept(opened);
            long id = (Long) opened.get(0).body().get("id");
            for (int step = 0; step < 4 * n; step++) {
                now[0] += 1000;
                String who = names.get(random.nextInt(n));
                if (random.nextInt(4) == 0) {
                    String to = random.nextInt(5) == 0 ? "" : names.get(random.nextInt(n));
                    submit.accept(keys.delegate(who, now[0], Topic.SHARES, to));
                } else if (budget) {
                    int x = random.nextInt(10_001);
                    int y = random.nextInt(10_001 - x);
                    submit.accept(keys.split(who, now[0], id, Map.of("lab-a", x, "lab-b", y, "uni-c", 10_000 - x - y)));
                } else {
                    submit.accept(keys.vote(who, now[0], id, Choice.values()[random.nextInt(3)]));
                }
            }
            now[0] += 700_000;
            rec.accept(gov.tick(now[0]));
            Proposal p = gov.proposal(id);
            assertThat(p.state()).isNotEqualTo(ProposalState.OPEN);
            Tally t = p.tally();
            assertThat(t.participated()).isEqualTo(t.direct() + t.delegated()).isLessThanOrEqualTo(t.eligible());
            assertThat(t.direct()).isEqualTo(p.ballots().size());
            assertThat(t).isEqualTo(recount(p, gov.delegations(Topic.SHARES)));
            assertThat(gov.policy().shares().values().stream().mapToInt(Integer::intValue).sum()).isEqualTo(10_000);
        }
        assertThat(LedgerVerifier.verify(ledger.stream().map(Entry::bytes).toList()).problem()).isNull();
    }

    /** A plain recount: each eligible member's own ballot, else the first ballot up its chain. */
    private static Tally recount(Proposal p, Map<String, String> delegateOf) {
        int[] c = new int[5];
        for (String e : p.eligible()) {
            Ballot b = p.ballots().get(e);
            boolean own = b != null;
            Set<String> seen = new HashSet<>();
            String at = e;
            while (b == null && delegateOf.containsKey(at) && seen.add(at)) {
                at = delegateOf.get(at);
                b = p.ballots().get(at);
            }
            if (b == null) {
                continue;
            }
            c[b.choice().ordinal()]++;
            c[own ? 3 : 4]++;
        }
        return new Tally(c[0], c[1], c[2], p.eligible().size(), c[3], c[4]);
    }
}
