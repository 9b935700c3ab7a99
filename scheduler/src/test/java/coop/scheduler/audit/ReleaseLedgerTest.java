package coop.scheduler.audit;

import static org.assertj.core.api.Assertions.assertThat;

import coop.scheduler.domain.Member;
import coop.scheduler.domain.ProposalState;
import coop.scheduler.domain.Topic;
import coop.scheduler.governance.Governance;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * A ledger exported by release 4516a76 (every kind of entry: delegations given and revoked, shares,
 * account, share-budget, param, amend, admit and remove proposals, ballots and splits, closes by
 * deadline and by the last ballot, panels approved, rejected and cancelled, a withdrawal, a struck
 * ballot, an attempt) still verifies: what is signed and hashed is the same canonical maps, and the
 * rules re-derive the same events and the same state.
 */
class ReleaseLedgerTest {
    static final String HEAD = "03d12f1ae0bf125aa23701f4dba59568e9e5a2f258b1b5d21e460571e7ce7c62";

    static List<byte[]> entries() throws IOException {
        List<byte[]> out = new ArrayList<>();
        try (InputStream in = ReleaseLedgerTest.class.getResourceAsStream("/ledger/release-4516a76.jsonl")) {
            for (String line : new String(in.readAllBytes(), StandardCharsets.UTF_8).split("\n")) {
                if (!line.isEmpty()) {
                    out.add(line.getBytes(StandardCharsets.UTF_8));
                }
            }
        }
        return out;
    }

    @Test
    void theReleaseLedgerVerifiesToItsHead() throws IOException {
        LedgerVerifier.Report r = LedgerVerifier.verify(entries());
        assertThat(r.problem()).isNull();
        assertThat(r.entries()).isEqualTo(63);
        assertThat(r.head()).isEqualTo(HEAD);
        assertThat(r.proposals()).isEqualTo(9);
        assertThat(r.ballots()).isEqualTo(29);
        assertThat(r.closes()).isEqualTo(9);
        assertThat(r.policies()).isEqualTo(5);
        assertThat(r.panels()).isEqualTo(3);
        assertThat(r.reviews()).isEqualTo(4);
        assertThat(r.gpuMillisByAccount()).containsExactlyEntriesOf(Map.of("lab-a", 40_000L));
    }

    @Test
    void fromACheckpointAtAnyEntryTheRestReplaysToTheSameState() throws IOException {
        CheckpointProperty.holds(entries());
    }

    @Test
    void replayingItRebuildsTheSameGovernance() throws IOException {
        LedgerVerifier.Replayed replayed = LedgerVerifier.replay(entries(), true);
        assertThat(replayed.report().ok()).isTrue();
        Governance gov = replayed.governance();
        assertThat(gov.members()).extracting(Member::name).containsExactly("alice", "bob", "carol", "dave", "erin");
        assertThat(gov.member("dave").active()).isFalse();
        assertThat(gov.member("erin").accounts()).containsExactly("lab-c");
        assertThat(gov.openAccounts()).containsExactly("lab-a", "lab-b", "lab-c");
        assertThat(gov.policy().version()).isEqualTo(6);
        assertThat(gov.policy().shares()).isEqualTo(Map.of("lab-a", 4000, "lab-b", 4000, "lab-c", 2000));
        assertThat(gov.policy().params().panelMinGpus()).isEqualTo(8);
        assertThat(gov.policy().constitution().floors()).containsExactlyEntriesOf(Map.of("lab-c", 500));
        assertThat(gov.delegations(Topic.SHARES)).isEmpty();
        assertThat(gov.delegations(Topic.PARAMS)).isEmpty();
        assertThat(gov.proposals(false)).extracting(p -> p.state())
                .containsExactly(ProposalState.PASSED, ProposalState.REJECTED, ProposalState.WITHDRAWN,
                        ProposalState.PASSED, ProposalState.PASSED, ProposalState.PASSED, ProposalState.PASSED,
                        ProposalState.PASSED, ProposalState.PASSED);
        assertThat(gov.panel(1).verdict()).isEqualTo("approved");
        assertThat(gov.panel(2).verdict()).isEqualTo("rejected");
        assertThat(gov.panel(3)).isNull();
    }
}
