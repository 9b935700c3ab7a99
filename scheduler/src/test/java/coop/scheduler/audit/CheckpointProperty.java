package coop.scheduler.audit;

import static org.assertj.core.api.Assertions.assertThat;

import coop.scheduler.domain.Topic;
import coop.scheduler.governance.Governance;
import coop.scheduler.ledger.Canonical;
import coop.scheduler.ledger.Checkpoint;
import java.util.List;

/**
 * The promise a checkpoint makes, checked at every point of a ledger: replaying the entries after
 * a checkpoint of the first k (written to bytes and read back) ends in exactly the state a replay
 * of the whole ledger ends in, by the records members read and by the checkpoint's own bytes.
 */
public final class CheckpointProperty {
    private CheckpointProperty() {
    }

    /** Checks the property at every k of a ledger that verifies; a ledger that does not (a tampering test's) is skipped. */
    public static void holds(List<byte[]> entries) {
        LedgerVerifier.Replayed full = LedgerVerifier.replay(entries, false);
        if (!full.report().ok()) {
            return;
        }
        Checkpoint end = full.end().get();
        int resumed = 0;
        for (int k = 1; k <= entries.size(); k++) {
            LedgerVerifier.Replayed prefix = LedgerVerifier.replay(entries.subList(0, k), false);
            if (!prefix.report().ok()) {
                // Mid-way through the events one entry yields: the scheduler never checkpoints there.
                continue;
            }
            Checkpoint taken = prefix.end().get();
            Checkpoint read = Checkpoint.read(taken.bytes());
            assertThat(read.sha256()).as("checkpoint at %d read back", k).isEqualTo(taken.sha256());
            assertThat(Canonical.text(Governance.restore(read.governance()).image()))
                    .as("governance restored at %d", k).isEqualTo(Canonical.text(taken.governance()));
            LedgerVerifier.Replayed rest = LedgerVerifier.replay(entries, false, read);
            assertThat(rest.report().problem()).as("replay after the checkpoint at %d", k).isNull();
            assertThat(rest.report().entries()).isEqualTo(full.report().entries());
            assertThat(rest.report().head()).isEqualTo(full.report().head());
            assertThat(rest.end().get().sha256()).as("state after resuming at %d", k).isEqualTo(end.sha256());
            sameRecords(rest.governance(), full.governance(), k);
            resumed++;
        }
        assertThat(resumed).isPositive();
    }

    private static void sameRecords(Governance resumed, Governance full, int k) {
        String at = "resumed at entry " + k;
        assertThat(resumed.members()).as(at).isEqualTo(full.members());
        assertThat(resumed.accounts()).as(at).isEqualTo(full.accounts());
        assertThat(resumed.policies()).as(at).isEqualTo(full.policies());
        assertThat(resumed.proposals(false)).as(at).isEqualTo(full.proposals(false));
        for (Topic t : Topic.values()) {
            assertThat(resumed.delegations(t)).as(at).isEqualTo(full.delegations(t));
        }
        assertThat(resumed.beacon()).as(at).isEqualTo(full.beacon());
        assertThat(resumed.voters()).as(at).isEqualTo(full.voters());
        for (long job = 1; job <= 200; job++) {
            assertThat(resumed.panel(job)).as(at + ", panel of job " + job).isEqualTo(full.panel(job));
        }
        for (var m : full.members()) {
            assertThat(resumed.resigned(m.name())).as(at).isEqualTo(full.resigned(m.name()));
        }
    }
}
