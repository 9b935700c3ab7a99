package coop.scheduler.engine;

import static org.assertj.core.api.Assertions.assertThat;

import coop.scheduler.allocation.JobRequest;
import coop.scheduler.domain.Job;
import coop.scheduler.domain.JobState;
import java.util.List;
import org.junit.jupiter.api.Test;

class PendingQueueTest {
    private static Job job(long id, String account, int priority, long submittedAt) {
        return new Job(id, "j" + id, account, "alice", 1, 1, "", 3600, "true", priority, false, JobState.PENDING,
                submittedAt, 0, List.of(), false);
    }

    @Test
    void keepsPriorityThenAgeOrderAcrossChanges() {
        PendingQueue q = new PendingQueue();
        q.add(job(1, "lab-a", 0, 100));
        q.add(job(2, "lab-b", 5, 300));
        q.add(job(3, "lab-a", 0, 50));
        q.add(job(4, "lab-a", 0, 50));
        assertThat(q.inOrder()).extracting(JobRequest::id).containsExactly(2L, 3L, 4L, 1L);
        q.remove(3);
        q.add(job(2, "lab-b", 0, 300));   // re-queued with new terms: it moves
        assertThat(q.inOrder()).extracting(JobRequest::id).containsExactly(4L, 1L, 2L);
        assertThat(q.get(3)).isNull();
        assertThat(q.get(2).priority()).isZero();
    }

    @Test
    void requestsOfOneAccountShareOneName() {
        PendingQueue q = new PendingQueue();
        q.add(job(1, new String("lab-a"), 0, 1));
        q.add(job(2, new String("lab-a"), 0, 2));
        assertThat(q.get(1).account()).isSameAs(q.get(2).account());
    }
}
