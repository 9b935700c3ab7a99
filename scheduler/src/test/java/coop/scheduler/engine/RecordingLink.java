package coop.scheduler.engine;

import coop.scheduler.domain.JobContainer;
import coop.scheduler.domain.JobOptions;
import coop.scheduler.domain.RankRef;
import coop.scheduler.domain.StopTerms;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;

/** An agent stream that records the orders the scheduler sends it. */
final class RecordingLink implements AgentLink {
    record Launched(RankRef ref, String command, List<Integer> gpus, Map<String, String> env, StopTerms stop,
                    Map<String, String> userEnv, String chdir, JobContainer container, String workdir,
                    JobOptions rank) {
    }

    /** A Kill order: the word for the job's coop-stop-reason file and the signal it asked for. */
    record Killed(RankRef ref, String reason, long graceSeconds, String cause, StopTerms stop) {
    }

    final List<Launched> launched = new CopyOnWriteArrayList<>();
    final List<RankRef> killed = new CopyOnWriteArrayList<>();
    final List<Killed> kills = new CopyOnWriteArrayList<>();
    final List<RankRef> acked = new CopyOnWriteArrayList<>();
    volatile boolean welcomed;
    volatile String closedBecause;

    @Override
    public void welcome(long heartbeatIntervalMs, Pulse pulse, List<String> accounts) {
        welcomed = true;
    }

    @Override
    public void launch(RankRef ref, String command, List<Integer> gpuIndices, Map<String, String> env, long walltime,
                       StopTerms stop, Map<String, String> userEnv, String chdir, JobContainer container,
                       String workdir, JobOptions rank) {
        launched.add(new Launched(ref, command, gpuIndices, env, stop, userEnv, chdir, container, workdir, rank));
    }

    @Override
    public void kill(RankRef ref, String reason, long graceSeconds, String cause, StopTerms stop) {
        killed.add(ref);
        kills.add(new Killed(ref, reason, graceSeconds, cause, stop));
    }

    @Override
    public void ackExit(RankRef ref) {
        acked.add(ref);
    }

    @Override
    public void requestLogs(long requestId, RankRef ref, int maxBytes, long stdoutOffset, long stderrOffset) {
    }

    @Override
    public void close(String reason) {
        closedBecause = reason;
    }
}
