package coop.scheduler.engine;

import java.time.InstantSource;

/**
 * One agent session's liveness, as the transport sees it: when its latest heartbeat arrived (on
 * the scheduler's clock) and how late it was. Most heartbeats say only "still here": the same
 * ranks running, the same GPU usage as the one before. Queueing each of those as a command would
 * wake the event loop ten thousand times a second at 10,000 agents for a field that only the
 * periodic sweep for silent nodes reads, so the rpc edge records them here instead, from the
 * thread that reads the stream, and the loop folds the pulse into the node when it sweeps
 * ({@link ClusterState#tick}) or reports the node. A heartbeat that carries anything new still
 * goes through the loop as a command.
 *
 * <p>The loop makes one per session and hands it to the edge with the Welcome, so the edge
 * beats only sessions the loop has accepted. One stream's messages are delivered one at a
 * time, so each pulse has one writer; the loop only reads it.
 */
public final class Pulse {
    private final InstantSource clock;
    private volatile long lastMs;
    private volatile long lagMs;

    Pulse(InstantSource clock, long startMs) {
        this.clock = clock;
        this.lastMs = startMs;
    }

    /**
     * A heartbeat arrived now.
     *
     * @param sentAtMs the agent's clock when it sent it, 0 if not stated
     */
    public void beat(long sentAtMs) {
        long now = clock.millis();
        lagMs = sentAtMs > 0 ? now - sentAtMs : 0;
        lastMs = now;
    }

    /** When the latest heartbeat recorded here arrived, on the scheduler's clock. */
    long lastMs() {
        return lastMs;
    }

    /** The delay of the latest heartbeat recorded here, as {@link ClusterState#heartbeat} counts it. */
    long lagMs() {
        return lagMs;
    }
}
