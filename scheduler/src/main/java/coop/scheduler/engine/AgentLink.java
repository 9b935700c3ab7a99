package coop.scheduler.engine;

import coop.scheduler.domain.JobContainer;
import coop.scheduler.domain.JobOptions;
import coop.scheduler.domain.RankRef;
import coop.scheduler.domain.StopTerms;
import java.util.List;
import java.util.Map;

/**
 * The scheduler's side of one agent's stream, as the engine uses it: orders to send. The rpc
 * edge implements it over the gRPC stream; calls come from the event loop after the state
 * they depend on is committed.
 */
public interface AgentLink {
    /**
     * Accepts the session: tells the agent its heartbeat interval, and hands the edge the
     * session's {@link Pulse}, where it may record heartbeats that report nothing new, and names
     * the cooperative's accounts.
     */
    void welcome(long heartbeatIntervalMs, Pulse pulse, List<String> accounts);

    /**
     * Starts a rank: {@code env} is coop's own variables, {@code stop} says what signal to send it
     * how long before its walltime, {@code userEnv} is the submitter's variables (which coop's win
     * over), {@code chdir} the folder it starts in ("" for its own), {@code container} the image it
     * runs in ({@link JobContainer#NONE} for none), {@code workdir} the digest of the folder shipped
     * with the job, which the agent unpacks into the rank's own ("" for none).
     */
    void launch(RankRef ref, String command, List<Integer> gpuIndices, Map<String, String> env, long walltimeSeconds,
                StopTerms stop, Map<String, String> userEnv, String chdir, JobContainer container, String workdir,
                JobOptions rank);

    /**
     * Stops a rank: {@code stop}'s signal at once (SIGTERM without one), SIGKILL after the grace.
     * {@code cause} ("preempted", "cancelled", ...; empty for none) is written first into the
     * rank's {@code coop-stop-reason} file, so the job can tell why it is stopped.
     */
    void kill(RankRef ref, String reason, long graceSeconds, String cause, StopTerms stop);

    /** Stops a rank the scheduler no longer runs there: SIGTERM, then SIGKILL after the grace. */
    default void kill(RankRef ref, String reason, long graceSeconds) {
        kill(ref, reason, graceSeconds, "", StopTerms.DEFAULT);
    }

    void ackExit(RankRef ref);

    /**
     * Asks for a rank's output: per stream, the bytes from a positive offset on, or the tail for
     * offset 0; at most {@code maxBytes} each. The answer comes back as LogData on the stream.
     */
    void requestLogs(long requestId, RankRef ref, int maxBytes, long stdoutOffset, long stderrOffset);

    /** Ends the stream, for a session replaced by a newer one or a node declared lost. */
    void close(String reason);
}
