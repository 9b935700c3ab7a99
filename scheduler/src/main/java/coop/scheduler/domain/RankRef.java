package coop.scheduler.domain;

/** One rank of one attempt of a job: the unit an agent runs as a process group. */
public record RankRef(long jobId, int attempt, int rank) {
    @Override
    public String toString() {
        return jobId + "." + attempt + "/" + rank;
    }
}
