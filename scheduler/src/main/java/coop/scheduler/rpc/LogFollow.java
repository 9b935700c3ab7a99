package coop.scheduler.rpc;

import com.google.protobuf.ByteString;
import coop.scheduler.engine.AgentSessions;
import coop.scheduler.engine.ClusterState;
import coop.scheduler.engine.EventLoop;
import coop.v1.LogChunk;
import io.grpc.stub.ServerCallStreamObserver;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One {@code Logs} call with {@code follow}: polls the agents for output past what the caller
 * already has and streams each new piece as a {@link LogChunk}, until the job is over and a read
 * made after that has been sent. Output is not pushed by agents; asking from an offset keeps
 * the agent stateless, and the files on disk are the truth even across agent restarts.
 *
 * <p>Every step runs on the shared scheduled executor (the event loop only answers where the
 * ranks are and sends the requests), so a follower holds no thread while it waits. A node that
 * is offline or does not answer is asked again on the next poll: the job may be requeued, and
 * the follow then moves to the new attempt from its first byte. Read errors are reported only
 * on the last read, since earlier ones (a rank not yet launched) are usually passing.
 */
final class LogFollow {
    private static final Logger log = LoggerFactory.getLogger(LogFollow.class);
    static final Duration POLL_INTERVAL = Duration.ofMillis(300);

    /** How far each stream of a rank has been sent. */
    private record Position(long stdout, long stderr) {
        static final Position START = new Position(0, 0);
    }

    /** A read asked of one rank's node, with the position it was asked from. */
    private record Read(AgentSessions.LogSource source, Position from, CompletableFuture<LogBroker.Output> output) {
    }

    private record Poll(AgentSessions.FollowPoint point, List<Read> reads) {
    }

    private final EventLoop loop;
    private final LogBroker logs;
    private final ScheduledExecutorService timer;
    private final String reader;
    private final long jobId;
    private final int rank;
    private final int maxBytes;
    private final ServerCallStreamObserver<LogChunk> out;
    /** Touched only by the step running now; steps follow each other through their futures. */
    private int attempt;
    private Map<Integer, Position> sent = Map.of();

    /** {@code reader}: the member following, checked on every poll as {@code Logs} checks it once. */
    LogFollow(EventLoop loop, LogBroker logs, ScheduledExecutorService timer, String reader, long jobId, int rank,
              int maxBytes, ServerCallStreamObserver<LogChunk> out) {
        this.loop = loop;
        this.reader = reader;
        this.logs = logs;
        this.timer = timer;
        this.jobId = jobId;
        this.rank = rank;
        this.maxBytes = maxBytes;
        this.out = out;
    }

    /** Starts polling; must be called from the service method, where gRPC accepts the cancel handler. */
    void start() {
        // With a handler set, a chunk racing a client's cancel is dropped instead of throwing;
        // the next step sees isCancelled() and polls no more.
        out.setOnCancelHandler(() -> log.debug("follower of job {} went away", jobId));
        timer.execute(this::poll);
    }

    private void poll() {
        if (out.isCancelled()) {
            return;
        }
        int following = attempt;
        Map<Integer, Position> from = sent;
        loop.call((s, tx) -> {
            AgentSessions.FollowPoint point = s.followPoint(reader, jobId, rank);
            List<Read> reads = new ArrayList<>();
            for (AgentSessions.LogSource src : point.sources()) {
                Position p = point.attempt() == following
                        ? from.getOrDefault(src.ref().rank(), Position.START) : Position.START;
                CompletableFuture<LogBroker.Output> f = new CompletableFuture<>();
                if (src.link() == null) {
                    f.complete(LogBroker.Output.failed("node " + src.node() + " is offline"));
                } else {
                    src.link().requestLogs(logs.open(f), src.ref(), maxBytes, p.stdout(), p.stderr());
                }
                reads.add(new Read(src, p, f));
            }
            return new Poll(point, reads);
        }).whenCompleteAsync((poll, error) -> {
            if (error != null) {
                fail(error);
                return;
            }
            CompletableFuture.allOf(poll.reads().stream().map(Read::output).toArray(CompletableFuture[]::new))
                    .whenCompleteAsync((v, e) -> deliver(poll), timer);
        }, timer);
    }

    private void deliver(Poll poll) {
        try {
            AgentSessions.FollowPoint point = poll.point();
            if (point.attempt() != attempt) {
                attempt = point.attempt();
                sent = Map.of();
            }
            Map<Integer, Position> next = new HashMap<>(sent);
            boolean behind = false;
            for (Read read : poll.reads()) {
                LogBroker.Output o = read.output().join();
                int r = read.source().ref().rank();
                if (!o.error().isEmpty()) {
                    if (point.ended() && !out.isCancelled()) {
                        out.onNext(chunk(read.source()).setError(o.error()).build());
                    }
                    continue;
                }
                // Bytes before what was sent are dropped, so an answer that starts earlier than asked
                // (a tail, or an agent that does not know offsets) never repeats output.
                byte[] stdout = after(o.stdout(), o.stdoutOffset(), read.from().stdout());
                byte[] stderr = after(o.stderr(), o.stderrOffset(), read.from().stderr());
                next.put(r, new Position(Math.max(read.from().stdout(), o.stdoutOffset() + o.stdout().length),
                        Math.max(read.from().stderr(), o.stderrOffset() + o.stderr().length)));
                // A full answer means the agent may have more than one read returns: ask again at once.
                behind |= o.stdout().length >= maxBytes || o.stderr().length >= maxBytes;
                if ((stdout.length > 0 || stderr.length > 0) && !out.isCancelled()) {
                    out.onNext(chunk(read.source()).setStdout(ByteString.copyFrom(stdout))
                            .setStderr(ByteString.copyFrom(stderr)).build());
                }
            }
            sent = Map.copyOf(next);
            if (out.isCancelled()) {
                return;
            }
            if (point.ended() && !behind) {
                out.onCompleted();
                return;
            }
            timer.schedule(this::poll, behind ? 0 : POLL_INTERVAL.toMillis(), TimeUnit.MILLISECONDS);
        } catch (RuntimeException e) {
            fail(e);
        }
    }

    private void fail(Throwable error) {
        if (out.isCancelled()) {
            return;
        }
        try {
            out.onError(Replies.status(error));
        } catch (RuntimeException e) {
            // The call is already closed (cancelled between the check and here): nothing to tell.
            log.debug("follower of job {}: {}", jobId, e.toString());
        }
    }

    private LogChunk.Builder chunk(AgentSessions.LogSource source) {
        return LogChunk.newBuilder().setNode(source.node()).setRank(source.ref().rank())
                .setAttempt(source.ref().attempt());
    }

    /** The part of {@code bytes} (which start at file offset {@code offset}) at or after {@code position}. */
    private static byte[] after(byte[] bytes, long offset, long position) {
        long skip = Math.max(0, position - offset);
        return skip >= bytes.length ? new byte[0] : Arrays.copyOfRange(bytes, (int) skip, bytes.length);
    }
}
