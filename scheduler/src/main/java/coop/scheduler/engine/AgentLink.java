package coop.scheduler.engine;

import coop.scheduler.domain.RankRef;
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
     * Starts a rank: {@code env} is coop's own variables, {@code userEnv} the submitter's (which
     * coop's win over), {@code chdir} the folder it starts in ("" for its own).
     */
    void launch(RankRef ref, String command, List<Integer> gpuIndices, Map<String, String> env, long walltimeSeconds,
                Map<String, String> userEnv, String chdir);

    void kill(RankRef ref, String reason, long graceSeconds);

    void ackExit(RankRef ref);

    /**
     * Asks for a rank's output: per stream, the bytes from a positive offset on, or the tail for
     * offset 0; at most {@code maxBytes} each. The answer comes back as LogData on the stream.
     */
    void requestLogs(long requestId, RankRef ref, int maxBytes, long stdoutOffset, long stderrOffset);

    /** Ends the stream, for a session replaced by a newer one or a node declared lost. */
    void close(String reason);
}
