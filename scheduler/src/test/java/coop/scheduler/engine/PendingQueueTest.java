package coop.scheduler.engine;

import static org.assertj.core.api.Assertions.assertThat;

import coop.scheduler.allocation.AccountQueue;
import coop.scheduler.allocation.JobRequest;
import coop.scheduler.domain.Job;
import coop.scheduler.domain.JobState;
import java.util.List;
import org.junit.jupiter.api.Test;

class PendingQueueTest {
    private static Job job(long id, String account, int gpus, int priority, long submittedAt) {
        return new Job(id, "j" + id, account, "alice", gpus, 1, "", 3600, "true", priority, false, JobState.PENDING,
                submittedAt, 0, List.of(), false, "");
    }

    @Test
    void keepsEachAccountInPriorityThenAgeOrderWithItsTotals() {
        PendingQueue q = new PendingQueue();
        q.add(job(1, "lab-a", 2, 0, 100));
        q.add(job(2, "lab-b", 1, 5, 300));
        q.add(job(3, "lab-a", 4, 0, 50));
        q.add(job(4, "lab-a", 1, 3, 500));
        List<AccountQueue> queues = q.queues();
        assertThat(queues).extracting(AccountQueue::account).containsExactly("lab-a", "lab-b");
        AccountQueue a = queues.get(0);
        assertThat(a.jobs()).extracting(JobRequest::id).containsExactly(4L, 3L, 1L);
        assertThat(a.totalGpus()).isEqualTo(7);
        assertThat(a.minGpus()).isEqualTo(1);
        q.remove(4);
        q.add(job(1, "lab-a", 2, 9, 100));   // re-queued with new terms: it moves
        a = q.queues().get(0);
        assertThat(a.jobs()).extracting(JobRequest::id).containsExactly(1L, 3L);
        assertThat(a.totalGpus()).isEqualTo(6);
        assertThat(a.minGpus()).isEqualTo(2);
        assertThat(q.count("lab-a")).isEqualTo(2);
        assertThat(q.demand()).containsEntry("lab-a", 6L).containsEntry("lab-b", 1L);
        q.remove(2);
        assertThat(q.queues()).extracting(AccountQueue::account).containsExactly("lab-a");
        assertThat(q.get(2)).isNull();
    }

    @Test
    void aQueueHandedOutToACycleNeverChangesAfterwards() {
        PendingQueue q = new PendingQueue();
        for (long id = 1; id <= 40; id++) {
            q.add(job(id, "lab-a", 1, 0, id));
        }
        List<JobRequest> given = q.queues().get(0).jobs();
        List<Long> before = given.stream().map(JobRequest::id).toList();
        q.add(job(41, "lab-a", 1, 0, 41));   // appended past what was handed out
        q.add(job(42, "lab-a", 1, 5, 42));   // sorts first
        q.remove(7);
        q.remove(40);
        assertThat(given).extracting(JobRequest::id).containsExactlyElementsOf(before);
        List<Long> now = q.queues().get(0).jobs().stream().map(JobRequest::id).toList();
        assertThat(now).hasSize(40).startsWith(42L, 1L, 2L).endsWith(39L, 41L).doesNotContain(7L, 40L);
        for (long id = 43; id <= 200; id++) {
            q.add(job(id, "lab-a", 1, id % 3 == 0 ? 1 : 0, id));
        }
        List<JobRequest> all = q.queues().get(0).jobs();
        assertThat(all).hasSize(198).isSortedAccordingTo(JobRequest.QUEUE_ORDER);
        assertThat(q.count("lab-a")).isEqualTo(198);
    }

    @Test
    void anAccountWhoseJobsDidNotChangeHandsOutTheSameQueue() {
        PendingQueue q = new PendingQueue();
        q.add(job(1, "lab-a", 1, 0, 1));
        q.add(job(2, "lab-b", 1, 0, 2));
        List<AccountQueue> first = q.queues();
        q.add(job(3, "lab-b", 1, 0, 3));
        List<AccountQueue> second = q.queues();
        assertThat(second.get(0)).isSameAs(first.get(0));
        assertThat(second.get(1)).isNotSameAs(first.get(1));
    }

    @Test
    void requestsOfOneAccountShareOneName() {
        PendingQueue q = new PendingQueue();
        q.add(job(1, new String("lab-a"), 1, 0, 1));
        q.add(job(2, new String("lab-a"), 1, 0, 2));
        assertThat(q.get(1).account()).isSameAs(q.get(2).account());
    }
}
