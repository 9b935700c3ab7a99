package coop.scheduler.allocation;

import java.util.ArrayList;
import java.util.List;

/**
 * One account's pending jobs during a cycle, in queue order, with each job's GPU count and
 * preemptibility beside it, so that the passes after the first need not read the jobs themselves.
 */
final class Queue {
    final String account;
    final Entitlement acct;
    final List<JobRequest> jobs;
    final long totalGpus;
    final int minGpus;
    /** Each job's GPU count, GPUs per node, walltime and preemptibility: read from the jobs once, when needed. */
    private int[] gpus;
    private int[] gpusPerNode;
    private long[] walltimes;
    private boolean[] preemptible;
    /** Positions of jobs due when the cycle began. */
    final List<Integer> due = new ArrayList<>();
    /** Which jobs a pass before the last decided already; null while none. */
    private boolean[] considered;

    /** The snapshot's queue, already in order: its jobs are not read here. */
    Queue(AccountQueue given, Entitlement acct) {
        this.account = given.account();
        this.acct = acct;
        this.jobs = given.jobs();
        this.totalGpus = given.totalGpus();
        this.minGpus = given.minGpus();
    }

    /**
     * Whether a pass before the last looked into this queue: only an untouched queue may be
     * handed over whole as waiting.
     */
    boolean touched() {
        return considered != null;
    }

    void touch() {
        if (considered == null) {
            considered = new boolean[jobs.size()];
        }
    }

    boolean considered(int i) {
        return considered != null && considered[i];
    }

    void consider(int i) {
        touch();
        considered[i] = true;
    }

    private void read() {
        if (gpus != null) {
            return;
        }
        int n = jobs.size();
        gpus = new int[n];
        gpusPerNode = new int[n];
        walltimes = new long[n];
        preemptible = new boolean[n];
        for (int i = 0; i < n; i++) {
            JobRequest j = jobs.get(i);
            gpus[i] = j.gpus();
            gpusPerNode[i] = j.gpusPerNode();
            walltimes[i] = j.walltimeSeconds();
            preemptible[i] = j.preemptible();
        }
    }

    int gpus(int i) {
        read();
        return gpus[i];
    }

    int gpusPerNode(int i) {
        read();
        return gpusPerNode[i];
    }

    long walltime(int i) {
        read();
        return walltimes[i];
    }

    boolean preemptible(int i) {
        read();
        return preemptible[i];
    }
}
