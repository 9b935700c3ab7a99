package coop.agent;

/**
 * One rank of one attempt of a job: the unit the agent starts, stops and reports on. Attempt
 * numbers fence stale orders, so rank 0 of attempt 2 is a different process from rank 0 of
 * attempt 1 even though both belong to the same job.
 */
public record RankId(long jobId, int attempt, int rank) {

    @Override
    public String toString() {
        return "job " + jobId + " attempt " + attempt + " rank " + rank;
    }
}
