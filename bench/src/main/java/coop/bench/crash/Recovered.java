package coop.bench.crash;

import java.util.List;
import java.util.Map;

/**
 * What a restarted scheduler holds, as its clients see it (ListJobs, ListProposals) and as
 * the ledger verifier found the data folder while the scheduler was down.
 *
 * @param jobs          every job
 * @param proposals     every proposal
 * @param ledgerOk      whether the ledger verified
 * @param ledgerProblem the verifier's first complaint, or null
 * @param ledgerBallots ballot entries in the ledger (replaced ballots included)
 */
public record Recovered(List<Job> jobs, List<Proposal> proposals, boolean ledgerOk, String ledgerProblem,
                        long ledgerBallots) {

    public Recovered {
        jobs = List.copyOf(jobs);
        proposals = List.copyOf(proposals);
    }

    /** A job as recovered. */
    public record Job(long id, String name, String member, String account, String command) {
    }

    /**
     * A proposal as recovered.
     *
     * @param title   as sent, unique to each proposal the crash loop opens
     * @param ballots each member's current choice ("yes", "no" or "abstain"), by member
     * @param yes     the tally's yes count, and so on
     */
    public record Proposal(long id, String title, boolean open, Map<String, String> ballots, int yes, int no, int abstain) {
        public Proposal {
            ballots = Map.copyOf(ballots);
        }
    }
}
