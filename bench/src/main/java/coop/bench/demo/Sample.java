package coop.bench.demo;

import coop.v1.AccountUsage;
import coop.v1.UsageResponse;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The cluster at one moment of the demo, as the scheduler's Usage call reported it: when (the
 * scheduler's clock), the live policy, GPUs on online nodes, GPUs held by running attempts, and
 * how many of those each account's running jobs hold.
 */
public record Sample(long atMs, long policyVersion, int gpusOnline, int gpusBusy, Map<String, Integer> gpusByAccount) {

    public Sample {
        gpusByAccount = java.util.Collections.unmodifiableMap(new LinkedHashMap<>(gpusByAccount));
    }

    /** The sample a Usage response describes; its time is the end of the response's window (the scheduler's now). */
    public static Sample of(UsageResponse u) {
        Map<String, Integer> byAccount = new LinkedHashMap<>();
        for (AccountUsage a : u.getAccountsList()) {
            byAccount.put(a.getAccount(), a.getRunningGpus());
        }
        return new Sample(u.getWindowEndMs(), u.getPolicyVersion(), u.getGpusOnline(), u.getGpusBusy(), byAccount);
    }
}
