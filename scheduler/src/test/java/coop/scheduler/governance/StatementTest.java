package coop.scheduler.governance;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import coop.scheduler.domain.Choice;
import coop.scheduler.domain.CoopException;
import coop.scheduler.domain.ProposalKind;
import coop.scheduler.domain.Topic;
import coop.scheduler.ledger.EventType;
import java.util.Map;
import java.util.SortedMap;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;

/** A signed statement is read once into typed values; a field of the wrong form is refused by name. */
class StatementTest {
    @Test
    void eachKindReadsIntoItsRecordAndKeepsTheMapAsSigned() {
        SortedMap<String, Object> propose = Statements.propose("alice", 5, ProposalKind.SHARES, "", 600,
                Map.of("shares", Map.of("lab-a", 10_000L)));
        Statement s = Statement.parse(propose);
        assertThat(s).isInstanceOfSatisfying(Statement.Propose.class, p -> {
            assertThat(p.kind()).isEqualTo(ProposalKind.SHARES);
            assertThat(p.closesInS()).isEqualTo(600);
            assertThat(p.change()).containsKey("shares");
        });
        assertThat(s.type()).isEqualTo(EventType.PROPOSE);
        assertThat(s.signed()).isSameAs(propose);

        Statement split = Statement.parse(Statements.ballot("bob", 6, 3, Choice.YES, Map.of("lab-a", 10_000)));
        assertThat(split).isInstanceOfSatisfying(Statement.Ballot.class, b -> {
            assertThat(b.choice()).isEqualTo("split");
            assertThat(b.split()).containsEntry("lab-a", 10_000);
            assertThat(b.carriesSplit()).isTrue();
        });
        assertThat(Statement.parse(Statements.delegate("carol", 7, Topic.PARAMS, "")))
                .isEqualTo(new Statement.Delegate("carol", 7, Topic.PARAMS, "",
                        Statements.delegate("carol", 7, Topic.PARAMS, "")));
        assertThat(Statement.parse(Statements.review("dave", 8, 12, false, "too big")))
                .isInstanceOfSatisfying(Statement.Review.class, r -> assertThat(r.approve()).isFalse());
    }

    @Test
    void aFieldOfTheWrongFormIsRefusedByName() {
        assertRefused(with(Statements.delegate("a", 1, Topic.SHARES, "b"), "type", "certify"),
                "type: unknown statement type 'certify'");
        assertRefused(with(Statements.delegate("a", 1, Topic.SHARES, "b"), "signed_at", "soon"),
                "signed_at: must be a whole number");
        assertRefused(with(Statements.delegate("a", 1, Topic.SHARES, "b"), "topic", "jobs"),
                "topic: unknown topic 'jobs'");
        assertRefused(with(Statements.propose("a", 1, ProposalKind.SHARES, "", 0, Map.of()), "kind", "all"),
                "kind: unknown kind 'all'");
        assertRefused(with(Statements.propose("a", 1, ProposalKind.SHARES, "", 0, Map.of()), "title", "x\n"),
                "title: must be at most 200 printable characters");
        assertRefused(with(Statements.propose("a", 1, ProposalKind.SHARES, "", 0, Map.of()), "change", "all"),
                "change: must be an object");
        assertRefused(with(Statements.review("a", 1, 2, true, ""), "decision", "maybe"),
                "decision: must be approve or reject");
        assertRefused(with(Statements.ballot("a", 1, 2, Choice.YES, Map.of("lab-a", 1)), "split",
                Map.of("lab-a", "half")), "shares[lab-a]: must be a whole number of basis points");
    }

    private static SortedMap<String, Object> with(SortedMap<String, Object> s, String field, Object value) {
        SortedMap<String, Object> out = new TreeMap<>(s);
        out.put(field, value);
        return out;
    }

    private static void assertRefused(SortedMap<String, Object> s, String message) {
        assertThatThrownBy(() -> Statement.parse(s)).isInstanceOf(CoopException.class)
                .satisfies(e -> assertThat(((CoopException) e).kind()).isEqualTo(CoopException.Kind.INVALID_ARGUMENT))
                .hasMessageStartingWith(message);
    }
}
