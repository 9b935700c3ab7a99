package coop.scheduler.allocation;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * One account's pending jobs in queue order ({@link JobRequest#QUEUE_ORDER}), with their GPUs in
 * total and the fewest any of them wants. The event loop keeps these across cycles and hands
 * them over with the snapshot, so that a cycle need not read every pending job to group them.
 */
public record AccountQueue(String account, List<JobRequest> jobs, long totalGpus, int minGpus) {
    public AccountQueue {
        jobs = jobs instanceof JobList given ? given : List.copyOf(jobs);
    }

    /**
     * The jobs grouped by account, in the order accounts first appear, each group in queue
     * order: one pass, and a sort only for a group that does not come in that order already.
     */
    public static List<AccountQueue> byAccount(List<JobRequest> pending) {
        Map<String, List<JobRequest>> groups = new LinkedHashMap<>();
        String lastAccount = null;
        List<JobRequest> last = null;
        for (JobRequest j : pending) {
            if (last == null || !lastAccount.equals(j.account())) {
                lastAccount = j.account();
                last = groups.computeIfAbsent(lastAccount, a -> new ArrayList<>());
            }
            last.add(j);
        }
        List<AccountQueue> out = new ArrayList<>(groups.size());
        groups.forEach((account, jobs) -> {
            long total = 0;
            int min = Integer.MAX_VALUE;
            boolean inOrder = true;
            for (int i = 0; i < jobs.size(); i++) {
                JobRequest j = jobs.get(i);
                total += j.gpus();
                min = Math.min(min, j.gpus());
                inOrder &= i == 0 || JobRequest.QUEUE_ORDER.compare(jobs.get(i - 1), j) <= 0;
            }
            if (!inOrder) {
                jobs.sort(JobRequest.QUEUE_ORDER);
            }
            out.add(new AccountQueue(account, jobs, total, min));
        });
        return out;
    }
}
